"""Barracuda XDR SOC mails read into alerts: plain text, HTML only, forwarded German with a count, without a host;
a mail that is no alarm, or lacks what an alert needs, is refused naming the part; the intake address's token."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.soc.alerts import AlertFormatError, AlertOutOfWindow, Severity, Source, Verdict
from domain.soc.barracuda_mail import MAX_TEXT, html_to_text, normalize_barracuda_mail, read_mail
from domain.soc.mail_address import mail_local_part, mail_token, read_local_part, token_matches

MAIL = Path(__file__).resolve().parents[2] / "fixtures" / "soc" / "mail"
NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
IID = "5b0c2c1e-0000-4000-8000-000000000001"


def fixture(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def alert_of(content: bytes, now: datetime = NOW):
    return normalize_barracuda_mail(read_mail(content), IID, now)


def test_plain_text_mail():
    alert = alert_of(fixture("plain_linux_brute_force.eml"))
    assert (alert.source, alert.vendor_alert_id, alert.dedupe_key) == (
        Source.BARRACUDA_XDR,
        "1184273",
        f"barracuda_xdr:{IID}:1184273",
    )
    assert (alert.title, alert.classification, alert.severity) == (
        "Linux Brute Force User",
        "GLB.AA.LNX",
        Severity.HIGH,
    )
    assert alert.detected_at == datetime(2026, 12, 2, 8, 14, 3, tzinfo=UTC)
    assert (alert.device_hostname, alert.user, alert.verdict) == ("muc-web02.contoso.local", "root", Verdict.SUSPICIOUS)
    assert alert.device_ip == "10.20.1.15"  # the internal destination, not the attacker's public source
    assert alert.description.startswith("Multiple failed SSH logins") and "4 minutes later." in alert.description
    assert alert.remediation.endswith("block 203.0.113.77.")
    assert alert.vendor_url == "https://dashboard.xdr.barracuda.example/tickets/1184273"
    assert alert.vendor_tenant_name == "Contoso GmbH"
    headers = dict(alert.raw["headers"])
    assert headers["From"] == "Barracuda XDR SOC <soc@barracuda.com>"
    assert "Ticket Number: 1184273" in alert.raw["text"]
    assert alert.raw["fields"]["source_ip"] == "203.0.113.77" and "count" not in alert.raw["fields"]


def test_html_only_mail():
    alert = alert_of(fixture("html_only_impossible_travel.eml"))
    assert (alert.vendor_alert_id, alert.title, alert.classification) == (
        "1184290",
        "Impossible Travel Sign-In",
        "O365.AA.ITR",
    )
    assert alert.severity == Severity.CRITICAL  # "P1 – Critical"
    assert alert.verdict == Verdict.MALICIOUS  # "True Positive"
    assert alert.user == "j.müller@contoso.example"
    assert alert.device_hostname is None and alert.device_ip is None  # "N/A"; the source IP is public
    assert alert.description == "Sign-ins for j.müller@contoso.example from Germany and Brazil within 20 minutes."
    assert alert.remediation == "Revoke the user's sessions and reset the password; enforce MFA."
    assert "<td>" not in alert.raw["text"] and "font-family" not in alert.raw["text"]


def test_forwarded_german_mail_with_count_reads_the_text_part():
    alert = alert_of(fixture("count_x2_windows_forwarded_de.eml"))
    assert (alert.vendor_alert_id, alert.title, alert.classification) == (
        "1184301",
        "Windows Brute Force Admin",
        "GLB.AA.WIN",
    )
    assert alert.raw["fields"]["count"] == 2
    assert (alert.severity, alert.device_hostname, alert.user) == (
        Severity.MEDIUM,
        "KUNDE-FS01",
        "CONTOSO\\administrator",
    )
    assert alert.device_ip == "10.20.3.44"
    assert alert.remediation == "Prüfen Sie, ob die Anmeldungen von einem bekannten Dienst stammen."  # latin-1 decoded
    assert "999" not in alert.raw["text"]  # the HTML alternative is not read when a text part exists


def test_mail_without_host():
    alert = alert_of(fixture("no_host_inbox_rule.eml"))
    assert (alert.vendor_alert_id, alert.severity, alert.user) == (
        "1184322",
        Severity.LOW,
        "buchhaltung@contoso.example",
    )
    assert not alert.has_device
    assert alert.description == (
        "A rule forwarding all mail to an external address was created for\nbuchhaltung@contoso.example."
    )


def test_unreadable_mail_is_refused_naming_the_subject_and_keeps_no_attachment():
    mail = read_mail(fixture("unreadable_weekly_report.eml"))
    with pytest.raises(AlertFormatError) as err:
        normalize_barracuda_mail(mail, IID, NOW)
    assert err.value.field == "subject" and "Your weekly Barracuda XDR report" in err.value.message
    assert mail.raw()["text"] == "Your weekly summary is attached.\n"
    assert "JVBERi0" not in str(mail.raw())


def replaced(content: bytes, header: str, value: str | None) -> bytes:
    lines = [line for line in content.split(b"\n") if not line.startswith(header.encode() + b":")]
    if value is not None:
        lines.insert(0, f"{header}: {value}".encode())
    return b"\n".join(lines)


@pytest.mark.parametrize(
    ("date", "field", "message"),
    [
        (None, "Date", "no Date header"),
        ("sometime on Tuesday", "Date", "is not a date"),
        ("Wed, 02 Dec 2026 09:14:03 -0000", "Date", "has no time zone"),
    ],
)
def test_a_mail_without_a_usable_date_is_refused(date, field, message):
    content = replaced(fixture("plain_linux_brute_force.eml"), "Date", date)
    with pytest.raises(AlertFormatError) as err:
        alert_of(content)
    assert err.value.field == field and message in err.value.message


def test_a_date_outside_the_hub_window_is_refused_as_the_webhook_does():
    with pytest.raises(AlertOutOfWindow, match="detected_at"):
        alert_of(fixture("plain_linux_brute_force.eml"), now=NOW - timedelta(days=3))


def test_without_a_ticket_number_the_message_id_is_the_alert_id_and_without_both_it_is_refused():
    content = fixture("plain_linux_brute_force.eml").replace(b"Ticket Number: 1184273\n", b"")
    content = content.replace(b"/tickets/1184273", b"/tickets/")
    assert alert_of(content).vendor_alert_id == "20261202081403.7f3a91c2@soc.barracuda.com"
    with pytest.raises(AlertFormatError, match="neither a ticket number nor a Message-ID"):
        alert_of(replaced(content, "Message-ID", None))


@pytest.mark.parametrize(
    ("subject", "code", "title", "count"),
    [
        ("Barracuda XDR - GLB.AA.LNX Linux Brute Force User (x2)", "GLB.AA.LNX", "Linux Brute Force User", 2),
        ("RE: FW: Barracuda XDR – GLB.AA.LNX Linux Brute Force User", "GLB.AA.LNX", "Linux Brute Force User", None),
        ("Barracuda XDR - Suspicious PowerShell (x 14)", None, "Suspicious PowerShell", 14),
    ],
)
def test_subject_variants(subject, code, title, count):
    alert = alert_of(replaced(fixture("plain_linux_brute_force.eml"), "Subject", subject))
    assert (alert.classification, alert.title, alert.raw["fields"].get("count")) == (code, title, count)


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        ("Priority: P3", Severity.MEDIUM),
        ("Priority: Priority 2", Severity.HIGH),
        ("Schweregrad: Kritisch", Severity.CRITICAL),
        ("SEVERITY:\tInformational", Severity.INFORMATIONAL),
        ("Severity: whatever", Severity.UNKNOWN),
    ],
)
def test_severity_labels_and_values_are_read_tolerantly(line, severity):
    content = fixture("plain_linux_brute_force.eml").replace(b"Severity: High", line.encode())
    assert alert_of(content).severity == severity


def test_label_and_value_on_separate_lines_and_a_bad_ticket_number():
    content = fixture("no_host_inbox_rule.eml").replace(b"Ticket ID: 1184322", b"Ticket #\n\n#1184999")
    assert alert_of(content).vendor_alert_id == "1184999"
    content = fixture("no_host_inbox_rule.eml").replace(b"Ticket ID: 1184322", b"Ticket ID: ???")
    with pytest.raises(AlertFormatError) as err:
        alert_of(content)
    assert err.value.field == "ticket"


def test_text_is_capped_and_broken_charsets_do_not_crash():
    big = fixture("no_host_inbox_rule.eml") + b"x" * (MAX_TEXT + 10)
    assert len(read_mail(big).text) == MAX_TEXT
    broken = fixture("no_host_inbox_rule.eml").replace(b'charset="utf-8"', b'charset="no-such-charset"')
    assert alert_of(broken + "\nÜ".encode("latin-1")).vendor_alert_id == "1184322"


def test_html_to_text_keeps_rows_and_drops_styles():
    html = "<style>p{}</style><table><tr><th>Host</th><td> srv01 </td></tr></table><p>a&amp;b</p>"
    assert html_to_text(html) == "Host\tsrv01\n\na&b"


def test_mail_address_token_round_trip_and_rotation():
    iid = uuid.uuid4()
    local = mail_local_part(iid, "whsec_new")
    assert len(local) <= 64 and local == local.lower()
    parsed = read_local_part(f"<{local.upper()}@hub.msp.example>")
    assert parsed == (iid, mail_token("whsec_new"))
    assert token_matches(parsed[1], ["whsec_old", "whsec_new"]) and not token_matches(parsed[1], ["whsec_old", None])
    assert mail_token("whsec_new") != mail_token("whsec_old")
    assert read_local_part("security@msp.example") is None
    assert read_local_part(f"soc-{iid}@hub.msp.example") is None
