"""The SMTP connector without a server: configuration errors and the deterministic Message-ID."""

import pytest

from connectors.mail import MailNotConfigured, build_message, message_id_for, send_message, sender_domain
from hub.config import Settings


def test_message_id_depends_only_on_the_key():
    a = message_id_for("t1:resolution:0:L2:0", "msp.example")
    assert a == message_id_for("t1:resolution:0:L2:0", "msp.example")
    assert a != message_id_for("t1:resolution:0:L2:1", "msp.example")
    assert a.startswith("<escalation.") and a.endswith("@msp.example>")


def test_sender_domain():
    assert sender_domain("MSP Hub <hub@MSP.example>") == "msp.example"
    assert sender_domain("nobody") == "msp-hub.invalid"


def test_not_configured_is_a_clear_error():
    msg = build_message(sender="hub@msp.example", to=["a@example.com"], subject="Prüfung", body="Grüße",
                        message_id="<x@msp.example>")
    with pytest.raises(MailNotConfigured, match="SMTP is not configured"):
        send_message(Settings(_env_file=None, smtp_host=""), msg)


def test_message_survives_any_relay():
    msg = build_message(sender="hub@msp.example", to=["a@example.com", "b@example.com"], subject="Lösungszeit",
                        body="Grüße aus München", message_id="<x@msp.example>")
    raw = msg.as_bytes()
    assert raw.isascii()  # quoted-printable body and encoded-word subject
    assert msg["To"] == "a@example.com, b@example.com"
    assert msg.get_content().strip() == "Grüße aus München"
