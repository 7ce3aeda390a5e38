"""The optional LLM executive summary of a QBR: the prompt (the KPI set only) and the check of the answer. Pure, so
the check can be tested by hand; the `qbr.summarize` activity asks the model and falls back to the rule-based
summary (domain/qbr/recommendations.py) when the check fails.

The rule is strict: every number in the text must be a number of the KPI set (a value of this or the previous
quarter, a count of a breakdown or a month, the year or number of a quarter). A difference or a rounded value the
model worked out itself counts as invented: the customer's decision makers must be able to find each figure in
the deck."""

import json
import re
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel

from domain.qbr.kpis import KpiSet
from domain.qbr.lifecycle import HORIZON_MONTHS, SOON_MONTHS
from domain.qbr.measure import NotAvailable
from domain.qbr.quarter import Quarter

SUMMARY_MAX_TOKENS = 600
SUMMARY_MAX_CHARS = 1500
SUMMARY_MAX_LINES = 6
# A digit, optionally with thousands separators and a decimal part in German (1.234,5) or English (1,234.5) form.
_NUMBER = re.compile(r"\d(?:[\d.,]*\d)?")
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d+[.)])\s+")

SYSTEM_PROMPT = (
    "Du schreibst die Management-Zusammenfassung eines Quarterly Business Review für die Geschäftsführung eines "
    "Kunden eines IT-Dienstleisters: drei bis fünf kurze Sätze auf Deutsch, sachlich, ohne Technikjargon, jeder "
    "Satz in einer eigenen Zeile, ohne Überschrift. Verwende ausschließlich Zahlen, die wörtlich im JSON stehen "
    "(Werte des Quartals und des Vorquartals); rechne nichts aus, runde nicht, nenne keine Differenzen. "
    'Ein Wert "k. A." ist unbekannt: erwähne ihn nicht.'
)

SYSTEM_PROMPT_EN = (
    "You write the executive summary of a quarterly business review for the management of an IT service "
    "provider's customer: three to five short sentences in English, factual, without technical jargon, each "
    "sentence on its own line, no heading. Use only numbers that appear verbatim in the JSON (values of the "
    "quarter and the previous quarter); do not calculate, round or state differences. A value \"k. A.\" is "
    "unknown: do not mention it."
)


class SummaryRejected(ValueError):
    pass


class ExecutiveSummary(BaseModel):
    lines: list[str]
    source: str  # llm, rules
    model: str | None = None


def prompt_facts(kpis: KpiSet) -> dict:
    """What the model sees: the KPIs and their counts, not the vCIO entries (free text entered by people) nor the
    lifecycle's device list (host names)."""
    return kpis.model_dump(mode="json", exclude={"vcio": True, "lifecycle": {"devices": True}})


def build_messages(kpis: KpiSet) -> list[dict[str, str]]:
    facts = json.dumps(prompt_facts(kpis), ensure_ascii=False, separators=(",", ":"))
    system = SYSTEM_PROMPT_EN if kpis.language == "en" else SYSTEM_PROMPT
    return [{"role": "system", "content": system}, {"role": "user", "content": facts}]


def _quarter_numbers(quarter: str) -> set[Decimal]:
    q = Quarter.parse(quarter)
    return {Decimal(q.year), Decimal(q.number)}


def allowed_numbers(kpis: KpiSet) -> set[Decimal]:
    """Every number the KPI set holds, as absolute values."""
    values: set[Decimal] = _quarter_numbers(kpis.quarter) | _quarter_numbers(kpis.previous_quarter)
    for kpi in kpis.kpis:
        values |= {v for v in (kpi.current, kpi.previous) if not isinstance(v, NotAvailable)}
    for breakdown in kpis.breakdowns:
        values |= {Decimal(n) for n in (*breakdown.current.values(), *breakdown.previous.values())}
    values |= {Decimal(n) for _, n in kpis.top_categories}
    for point in kpis.months:
        values |= {Decimal(point.opened), Decimal(point.closed)}
        values |= {v for v in (point.sla_response, point.sla_resolution) if not isinstance(v, NotAvailable)}
    return {abs(v) for v in values | _lifecycle_numbers(kpis) | _health_numbers(kpis)}


def _health_numbers(kpis: KpiSet) -> set[Decimal]:
    """The counts of the quarter's health snapshot (devices, MFA members and registered): the model sees them too."""
    if kpis.health is None:
        return set()
    counts = kpis.health.model_dump(exclude={"mfa"})
    mfa = kpis.health.mfa
    return {Decimal(n) for n in counts.values()} | ({Decimal(mfa.members), Decimal(mfa.registered)} if mfa else set())


def _lifecycle_numbers(kpis: KpiSet) -> set[Decimal]:
    """The counts of the lifecycle section (and its horizons: "in the next 6 / 12 months"), the budget by year and
    the licence figures per product: the model sees them too."""
    values: set[Decimal] = set()
    life = kpis.lifecycle
    if life is not None:
        values |= {Decimal(n) for n in (life.devices_total, life.warranty_unknown, life.warranty_expired,
                                        life.warranty_ending_6_months, life.warranty_ending_12_months,
                                        life.os_unsupported, life.os_ending_12_months, SOON_MONTHS, HORIZON_MONTHS,
                                        life.as_of.year)}  # fmt: skip
    for year in kpis.budget:
        values |= {Decimal(year.year), year.roadmap, year.replacements, year.total, Decimal(year.replacement_devices)}
    for line in kpis.licences:
        values |= {Decimal(n) for n in (line.quantity, line.assigned, line.unused, line.over_assigned)}
    return values


def _readings(token: str) -> set[Decimal]:
    """The values a number written in text may mean: German (1.234,5) and English (1,234.5) notation."""
    out = set()
    for text in (token.replace(".", "").replace(",", "."), token.replace(",", "")):
        try:
            out.add(Decimal(text))
        except InvalidOperation:  # e.g. "1.2.3" read the English way
            continue
    return out


def invented_numbers(text: str, kpis: KpiSet) -> list[str]:
    """The numbers in `text` that are not in the KPI set, as written; empty when every number is one of the KPIs'."""
    allowed = allowed_numbers(kpis)
    return [token for token in _NUMBER.findall(text) if not _readings(token) & allowed]


def check_summary(text: str, kpis: KpiSet) -> list[str]:
    """The model's answer as the deck's summary lines, or `SummaryRejected` saying why it is not used."""
    if len(text) > SUMMARY_MAX_CHARS:
        raise SummaryRejected(f"summary longer than {SUMMARY_MAX_CHARS} characters")
    invented = invented_numbers(text, kpis)
    if invented:
        raise SummaryRejected(f"numbers not in the KPIs: {', '.join(invented[:10])}")
    lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines or len(lines) > SUMMARY_MAX_LINES:
        raise SummaryRejected(f"summary has {len(lines)} lines, expected 1 to {SUMMARY_MAX_LINES}")
    return lines
