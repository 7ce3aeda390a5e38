"""A local SMTP sink for `psa dev`: escalation mails land as .eml files in data/mail instead of nowhere."""

import logging
import time
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

from hub.logging import get_logger

log = get_logger(__name__)


class _Handler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd's hook name
        msg = message_from_bytes(envelope.content, policy=policy.default)
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{abs(hash(msg['Message-ID'])) % 10**8:08d}.eml"
        path.write_bytes(envelope.content)
        log.info("mail received by the dev sink", to=envelope.rcpt_tos, subject=str(msg["Subject"]), file=str(path))
        return "250 OK"


def start_mail_sink(folder: Path, port: int) -> Controller:
    # aiosmtpd logs every client's ordinary hang-up ("Connection lost") at INFO, which reads like an error.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_Handler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return controller
