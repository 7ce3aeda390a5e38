"""Small things a newcomer notices: the package's license is an SPDX expression (a TOML table makes setuptools
warn on every install), and the development mail sink does not log ordinary hang-ups as if they were errors."""

import logging
import smtplib
import socket
import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression

from hub.mail_sink import start_mail_sink

ROOT = Path(__file__).resolve().parents[1]


def test_license_is_an_spdx_expression():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert isinstance(project["license"], str)
    assert canonicalize_license_expression(project["license"]) == "AGPL-3.0-or-later"


def test_mail_sink_keeps_connection_noise_out_of_the_log(tmp_path, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caplog.set_level(logging.INFO)
    sink = start_mail_sink(tmp_path / "mail", port)
    try:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail("hub@example.net", ["ops@example.net"], b"Subject: Test\r\n\r\nHallo")
    finally:
        sink.stop()
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    assert not [r for r in caplog.records if "connection lost" in r.getMessage().lower()]
