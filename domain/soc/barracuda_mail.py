"""Barracuda XDR SOC alert mails, read into a NormalizedAlert. Pure: bytes in, alert out, no I/O.

Barracuda XDR escalates alarms to the MSP as mails from its SOC (soc@barracuda.com) and as tickets in its
dashboard; no public sample of the mail body exists. The format read here is modelled on the subject line
Barracuda uses, ``Barracuda XDR - <ALARM.CODE> <title> (x<count>)`` (count optional, e.g.
"Barracuda XDR - GLB.AA.LNX Linux Brute Force User (x2)"; forwarding prefixes such as "FW:"/"WG:" and tags such as
"[EXTERNAL]" are skipped), and on the labelled lines such mails carry. Body labels are matched tolerantly:
case-insensitive, English and German, with ":" or a tab (an HTML table cell) between label and value, or the value
on the next line ("Ticket Number"/"Ticket #"/"Ticketnummer", "Severity"/"Priority"/"Schweregrad",
"Hostname"/"Host"/"Computer", "Source IP", "Destination IP", "User"/"Benutzer", "Description"/"Summary",
"Recommendation(s)"/"Remediation"/"Empfehlung", ...). The plain-text part is read, else the HTML part as text.

- vendor_alert_id: the ticket number, else the Message-ID; detected_at: the Date header (with a time zone);
- title: the subject's title, classification: the alarm code (so repeats of one alarm on one host correlate);
- severity: the mail's severity or priority (P1 critical .. P4 low), else unknown;
- verdict: what the mail says ("True Positive" malicious, "False Positive" benign), else suspicious: a SOC mail is
  an analyst's escalation, as in the JSON mapping (domain/soc/barracuda.py);
- device: the host; an IP only when one in the mail is internal (RFC 1918, ULA): a public one is the other side;
- raw: the headers, the text read (at most MAX_TEXT characters) and the fields found; never attachments.

A mail that lacks what an alert needs raises AlertFormatError naming the part (subject, Date, ...); the hub keeps
such a mail in its quarantine instead of bouncing it.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from domain.soc.alerts import AlertFormatError, NormalizedAlert, Severity, Source, Verdict, check_alert_times
from domain.soc.normalize import build_alert, ip_address

MAX_TEXT = 100_000  # characters of the body kept in `raw` (it travels with the alert into the incident's history)

_SUBJECT = re.compile(
    r"Barracuda\s+XDR\s*[-–—:]\s*(?:(?P<code>[A-Z0-9]+(?:\.[A-Z0-9_]+)+)\s+)?(?P<title>.+?)"
    r"(?:\s*\(x\s*(?P<count>\d{1,6})\))?\s*$",
    re.IGNORECASE,
)
_LABELS = {
    "ticket": (
        "ticket number",
        "ticket #",
        "ticket#",
        "ticket id",
        "ticket no",
        "ticket no.",
        "ticket nr",
        "ticket nr.",
        "ticket",
        "ticketnummer",
        "ticket-nummer",
        "ticket-nr",
        "ticket-nr.",
        "ticket-id",
    ),
    "severity": (
        "severity",
        "alarm severity",
        "alert severity",
        "priority",
        "risk",
        "risk level",
        "schweregrad",
        "priorität",
        "prioritaet",
        "risiko",
    ),
    "host": (
        "hostname",
        "host name",
        "host",
        "computer",
        "computer name",
        "computername",
        "device",
        "device name",
        "endpoint",
        "asset",
        "gerät",
        "geraet",
        "gerätename",
        "rechner",
        "rechnername",
    ),
    "source_ip": ("source ip", "source ip address", "src ip", "source address", "quell-ip", "quell ip", "quelle ip"),
    "destination_ip": (
        "destination ip",
        "destination ip address",
        "dest ip",
        "dst ip",
        "destination address",
        "ziel-ip",
        "ziel ip",
    ),
    "user": ("user", "username", "user name", "account", "user account", "benutzer", "benutzername", "konto"),
    "description": ("description", "summary", "details", "alarm description", "beschreibung", "zusammenfassung"),
    "remediation": (
        "recommendation",
        "recommendations",
        "recommended action",
        "recommended actions",
        "remediation",
        "empfehlung",
        "empfehlungen",
        "handlungsempfehlung",
        "maßnahmen",
        "massnahmen",
    ),
    "verdict": ("verdict", "threat level", "closure code", "bewertung", "einstufung"),
    "customer": ("customer", "customer name", "kunde", "kundenname"),
    "link": ("link", "url", "ticket link", "ticket url", "view ticket", "dashboard"),
}
_FIELD_OF = {label: name for name, labels in _LABELS.items() for label in labels}
_MULTILINE = {"description", "remediation"}  # their value goes on until a blank line or the next label
_LINE = re.compile(r"^\s*(?P<label>[^:\t]{1,40}?)\s*(?::|\t)\s*(?P<value>.*)$")
_TICKET_IN_TEXT = re.compile(
    r"\bticket\s*(?:#|number|nr\.?|no\.?|id)\s*:?\s*#?\s*(?P<id>[A-Z0-9._-]*\d[A-Z0-9._-]*)", re.IGNORECASE
)
_TICKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
# Addresses inside a customer network; `is_private` would also take the documentation ranges (public examples).
_INTERNAL = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")
)
_EMPTY = {"", "-", "--", "n/a", "na", "none", "null", "unknown", "unbekannt", "keine", "k.a.", "-/-"}

_SEVERITIES = {
    "critical": Severity.CRITICAL, "kritisch": Severity.CRITICAL, "urgent": Severity.CRITICAL,
    "dringend": Severity.CRITICAL, "p1": Severity.CRITICAL,
    "high": Severity.HIGH, "hoch": Severity.HIGH, "p2": Severity.HIGH,
    "medium": Severity.MEDIUM, "moderate": Severity.MEDIUM, "mittel": Severity.MEDIUM, "p3": Severity.MEDIUM,
    "low": Severity.LOW, "niedrig": Severity.LOW, "gering": Severity.LOW, "p4": Severity.LOW,
    "info": Severity.INFORMATIONAL, "informational": Severity.INFORMATIONAL, "information": Severity.INFORMATIONAL,
    "informativ": Severity.INFORMATIONAL,
}  # fmt: skip
_VERDICTS = {
    "true positive": Verdict.MALICIOUS, "malicious": Verdict.MALICIOUS, "bösartig": Verdict.MALICIOUS,
    "suspicious": Verdict.SUSPICIOUS, "verdächtig": Verdict.SUSPICIOUS,
    "false positive": Verdict.BENIGN, "authorized activity": Verdict.BENIGN, "benign": Verdict.BENIGN,
    "harmlos": Verdict.BENIGN, "fehlalarm": Verdict.BENIGN, "unknown": Verdict.UNKNOWN, "unbekannt": Verdict.UNKNOWN,
}  # fmt: skip


@dataclass
class ReadMail:
    """What the hub keeps of a mail: its headers and the text read from it (never attachments)."""

    headers: list[tuple[str, str]]
    text: str
    subject: str = ""
    message_id: str | None = None
    sender: str | None = None  # the From header's address, lower case
    date: datetime | None = None
    date_problem: str | None = None  # why `date` is None
    fields: dict[str, Any] = field(default_factory=dict)

    def raw(self) -> dict[str, Any]:
        return {"headers": [list(h) for h in self.headers], "text": self.text, "fields": self.fields}


def read_mail(content: bytes) -> ReadMail:
    """The headers and text of a mail; never raises: a part it cannot decode is read as far as it goes."""
    msg = message_from_bytes(content, _class=EmailMessage, policy=policy.default)
    headers = [(name, _header_text(msg, name, value)) for name, value in msg.raw_items()]
    first = {name.lower(): value for name, value in reversed(headers)}
    text = _body_text(msg)[:MAX_TEXT]
    date, problem = _date(first.get("date"))
    message_id = first.get("message-id", "").strip().strip("<>").strip() or None
    sender = parseaddr(first.get("from", ""))[1].lower() or None
    return ReadMail(headers, text, first.get("subject", "").strip(), message_id, sender, date, problem)


def normalize_barracuda_mail(mail: ReadMail, integration_id: str, now: datetime) -> NormalizedAlert:
    """The alert of a Barracuda XDR SOC mail; AlertFormatError naming the part when it cannot be read as one.
    Fills `mail.fields` with what it found, also when it then refuses (the quarantine shows them)."""
    subject = re.sub(r"\s+", " ", mail.subject)
    match = _SUBJECT.search(subject)
    if match is None:
        raise AlertFormatError("subject", f"not a Barracuda XDR alarm subject ('Barracuda XDR - ...'): {subject!r}")
    fields = _labelled_fields(mail.text)
    if "ticket" not in fields and (found := _TICKET_IN_TEXT.search(subject + "\n" + mail.text)):
        fields["ticket"] = found["id"]
    ticket = (fields.get("ticket", "").lstrip("#").split() or [""])[0]
    fields.update(
        alarm_code=match["code"], title=match["title"].strip(), count=int(match["count"]) if match["count"] else None
    )
    mail.fields = {k: v for k, v in fields.items() if v is not None}
    if ticket and not _TICKET_ID.match(ticket):
        raise AlertFormatError("ticket", f"ticket number {ticket!r} is not an id (letters, digits, . _ -)")
    vendor_alert_id = ticket or mail.message_id
    if not vendor_alert_id:
        raise AlertFormatError("Message-ID", "the mail has neither a ticket number nor a Message-ID")
    if mail.date is None:
        raise AlertFormatError("Date", mail.date_problem or "the mail has no Date header")
    source_ip, destination_ip = ip_address(fields.get("source_ip")), ip_address(fields.get("destination_ip"))
    alert = build_alert(
        source=Source.BARRACUDA_XDR,
        integration_id=integration_id,
        vendor_alert_id=vendor_alert_id,
        title=match["title"].strip(),
        severity=_severity(fields.get("severity")),
        verdict=_verdict(fields.get("verdict")),
        detected_at=mail.date,
        device_hostname=_hostname(fields.get("host")),
        device_ip=next((ip for ip in (destination_ip, source_ip) if _internal(ip)), None),
        user=_value(fields.get("user")),
        classification=match["code"],
        description=_value(fields.get("description")),
        remediation=_value(fields.get("remediation")),
        vendor_url=link if (link := _value(fields.get("link"))) and link.startswith("https://") else None,
        vendor_tenant_name=_value(fields.get("customer")),
        raw=mail.raw(),
    )
    return check_alert_times(alert, now)


# --- the body -------------------------------------------------------------------------------------------------


def _labelled_fields(text: str) -> dict[str, Any]:
    """Known labels and their values, the first occurrence of each; a label alone on its line takes the next
    non-empty line; description and remediation go on until a blank line or another label."""
    fields: dict[str, Any] = {}
    current: str | None = None  # the field whose value continues on the next lines
    for line in text.splitlines():
        stripped = line.strip().strip("*").strip()  # markdown-ish bold labels
        if not stripped:
            if current is not None and fields.get(current):
                current = None
            continue
        name, value = _label(stripped)
        if name is not None:
            current = None
            if name in fields:
                continue
            fields[name] = value
            if not value or name in _MULTILINE:
                current = name
        elif current is not None:
            fields[current] = f"{fields[current]}\n{stripped}".strip()
            if current not in _MULTILINE:
                current = None
    return {k: v for k, v in fields.items() if v}


def _label(line: str) -> tuple[str | None, str]:
    match = _LINE.match(line)
    label, value = (match["label"], match["value"]) if match else (line, "")
    name = _FIELD_OF.get(re.sub(r"\s+", " ", label).strip().rstrip(".").casefold())
    if name is None and match is None:
        name = _FIELD_OF.get(re.sub(r"\s+", " ", line).rstrip(":").strip().casefold())
        value = ""
    return name, value.strip()


def _value(value: str | None) -> str | None:
    value = (value or "").strip()
    return None if value.casefold() in _EMPTY else value


def _internal(ip: str | None) -> bool:
    return ip is not None and any(ipaddress.ip_address(ip) in net for net in _INTERNAL)


def _hostname(value: str | None) -> str | None:
    """The host's name (the first word: "srv01 (10.0.0.5)" is srv01); None when absent or not a host name."""
    value = _value(value)
    if value is None:
        return None
    word = value.split()[0].strip(",;")
    return word if _HOSTNAME.match(word) else None


def _severity(value: str | None) -> Severity:
    value = (_value(value) or "").casefold()
    if value in _SEVERITIES:
        return _SEVERITIES[value]
    compact = re.sub(r"^(?:priority|priorität|prio)\s*", "p", value)  # "Priority 1" -> p1
    first = re.split(r"[\s(/,;-]+", compact, maxsplit=1)[0]
    return _SEVERITIES.get(first, Severity.UNKNOWN)


def _verdict(value: str | None) -> Verdict:
    value = re.sub(r"\s+", " ", (value or "").strip().casefold())
    return next((v for key, v in _VERDICTS.items() if key in value), Verdict.SUSPICIOUS)


# --- the message ----------------------------------------------------------------------------------------------


def _header_text(msg: EmailMessage, name: str, value: Any) -> str:
    try:
        return str(msg.policy.header_fetch_parse(name, value))
    except Exception:  # noqa: BLE001 - a header the parser chokes on is kept as received
        return str(value)


def _date(value: str | None) -> tuple[datetime | None, str | None]:
    if not value:
        return None, "the mail has no Date header"
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None, f"the Date header {value!r} is not a date"
    if date.tzinfo is None:
        return None, f"the Date header {value!r} has no time zone"
    return date, None


def _body_text(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001 - a broken MIME structure: nothing readable
        return ""
    if part is None:
        return ""
    text = _decoded(part)
    return html_to_text(text) if part.get_content_subtype() == "html" else text


def _decoded(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except Exception:  # noqa: BLE001 - an unknown charset or broken transfer encoding: read what decodes
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)


_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr", "ul", "ol", "pre"}


class _TextOfHtml(HTMLParser):
    """Text of an HTML mail: blocks and table rows on lines of their own, cells of a row separated by a tab."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ARG002
        if tag in ("style", "script", "head", "title"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = ("\t".join(c.strip() for c in line.strip(" \t").split("\t")) for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip("\t ") for line in lines)).strip()
