"""Two months (2026-10, 2026-11) of a customer's data for the monthly service report: the QBR's two quarters of
rows (tests/qbr_setup.py), plus contacts who did and did not opt in to the report, and another customer's contact
who opted in (never mailed the first one's report). The hand counts per month are in EXPECTED."""

from dataclasses import dataclass

from sqlalchemy import Engine

from models import Contact, Tenant
from tests.factories import make_contact
from tests.qbr_setup import seed_two_quarters

# Per month: the PDF's table cells (label, month, month before) by hand from tests/qbr_setup.py (Europe/Berlin):
# A P1 opened and closed 5 Oct; B P2 opened 10 Nov, closed 11 Nov; C P3 opened 30 Sep 22:30 UTC = 1 Oct 00:30 local;
# SLA: A response and resolution met, C response missed (1 Oct), B response met and resolution missed (Nov);
# the SOC integration exists since 1 Oct 12:00 UTC: September has no source ("k. A."), October one critical
# incident acknowledged after 30 min; 750 billable minutes on 10 Nov; contingent 600 min a month; of 3 devices 2
# with an EDR agent, of 2 warranty ends 1 on or after 30 Nov; the inventory is a snapshot: the month before "k. A.".
EXPECTED = {
    "2026-11": [
        ("SLA-Erfüllung Reaktion", "100 %", "50 %"),
        ("SLA-Erfüllung Lösung", "0 %", "100 %"),
        ("Tickets eröffnet", "1", "2"),
        ("Tickets gelöst", "1", "1"),
        ("P1 eröffnet", "0", "1"),
        ("P2 eröffnet", "1", "0"),
        ("P3 eröffnet", "0", "1"),
        ("P1 gelöst", "0", "1"),
        ("P2 gelöst", "1", "0"),
        ("Sicherheitsvorfälle", "0", "1"),
        ("Zeit bis zur Bestätigung", "k. A.", "30 min"),
        ("davon Kritisch", "0", "1"),
        ("Geleistete Stunden", "12,5 h", "0 h"),
        ("Stundenkontingent", "10 h", "10 h"),
        ("Kontingent-Auslastung", "125 %", "0 %"),
        ("Geräteabdeckung (EDR)", "66,7 %", "k. A."),
        ("Garantieabdeckung", "50 %", "k. A."),
        ("Windows-Patchstand", "k. A.", "k. A."),
    ],
    "2026-10": [
        ("SLA-Erfüllung Reaktion", "50 %", "k. A."),
        ("SLA-Erfüllung Lösung", "100 %", "k. A."),
        ("Tickets eröffnet", "2", "0"),
        ("Tickets gelöst", "1", "0"),
        ("P1 eröffnet", "1", "0"),
        ("P3 eröffnet", "1", "0"),
        ("P1 gelöst", "1", "0"),
        ("Sicherheitsvorfälle", "1", "k. A."),  # no SOC integration in September: not 0
        ("Zeit bis zur Bestätigung", "30 min", "k. A."),
        ("davon Kritisch", "1", "k. A."),
        ("Geleistete Stunden", "0 h", "0 h"),
        ("Kontingent-Auslastung", "0 %", "0 %"),
        ("Geräteabdeckung (EDR)", "66,7 %", "k. A."),
        ("Garantieabdeckung", "100 %", "k. A."),  # both known warranty ends on or after 31 October
    ],
}


@dataclass
class ReportSeed:
    tenant: Tenant
    other: Tenant
    opted_in: list[Contact]
    not_opted_in: Contact
    other_contact: Contact


def seed_report_customer(engine: Engine) -> ReportSeed:
    seeded = seed_two_quarters(engine)
    opted_in = [make_contact(engine, seeded.tenant, first_name=name, service_report_opt_in=True)
                for name in ("Anna", "Bernd")]  # fmt: skip
    quiet = make_contact(engine, seeded.tenant, first_name="Clara")
    other = make_contact(engine, seeded.other, first_name="Dora", service_report_opt_in=True)
    return ReportSeed(seeded.tenant, seeded.other, opted_in, quiet, other)
