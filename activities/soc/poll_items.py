"""The database side of one polled page, before its alerts are handed over (same activity, same retries):

* an item that cannot be read goes to the quarantine (``soc_quarantine``, kind ``poll``) with the raw item,
  the reason and the integration, instead of being dropped while the cursor moves past it. Its row id is derived
  from the integration and the item's content, so a retried page or the scan overlap never quarantines the same
  version twice; a released row is re-read by the quarantine route (`domain.soc.polling.read_poll_item`);
* which of the page's alerts the hub already has, and under which incident;
* an update of a threat the hub does not know, detected before the poller started watching
  (`domain.soc.intake`), or of one recorded that way before, is recorded on its alert row (status, vendor
  time, payload; `models.soc.record_without_incident`) instead of opening a new incident with its ticket and its
  page at 3 a.m.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.soc.alerts import NormalizedAlert, replace_surrogates
from hub.db import session_scope
from models import SocAlert, SocQuarantineItem, SocQuarantineKind
from models.soc import record_without_incident

_QUARANTINE_NS = uuid.UUID("6f1c8e7a-3b52-4c0e-9d11-0a7b5e2c9f41")


@dataclass(frozen=True)
class Unreadable:
    item: dict[str, Any]
    reason: str


def quarantine_id(integration_id: UUID, item: dict[str, Any]) -> UUID:
    body = json.dumps(item, sort_keys=True, ensure_ascii=True, default=str)
    return uuid.uuid5(_QUARANTINE_NS, f"{integration_id}:{hashlib.sha256(body.encode()).hexdigest()}")


def known_incidents(engine: Engine, dedupe_keys: list[str]) -> dict[str, str | None]:
    """dedupe key -> incident key (None: recorded without an incident) of the alerts the hub already has."""
    if not dedupe_keys:
        return {}
    with Session(engine) as s:
        rows = s.exec(select(SocAlert.dedupe_key, SocAlert.incident_key).where(SocAlert.dedupe_key.in_(dedupe_keys)))
        return dict(rows.all())


def store_page_items(
    engine: Engine,
    *,
    tenant_id: UUID,
    integration_id: UUID,
    unreadable: list[Unreadable],
    recorded: list[NormalizedAlert],
    now: datetime,
) -> None:
    """Quarantine the unreadable items and record the old threats' updates, in one transaction."""
    if not unreadable and not recorded:
        return
    try:
        _store(engine, tenant_id, integration_id, unreadable, recorded, now)
    except IntegrityError:  # an alert row was written meanwhile (its incident, another poll): now it is an update
        _store(engine, tenant_id, integration_id, unreadable, recorded, now)


def _store(
    engine: Engine,
    tenant_id: UUID,
    integration_id: UUID,
    unreadable: list[Unreadable],
    recorded: list[NormalizedAlert],
    now: datetime,
) -> None:
    with session_scope(engine) as s:
        for bad in unreadable:
            row_id = quarantine_id(integration_id, bad.item)
            if s.get(SocQuarantineItem, row_id) is None:
                s.add(
                    SocQuarantineItem(
                        id=row_id,
                        tenant_id=tenant_id,
                        integration_id=integration_id,
                        kind=SocQuarantineKind.POLL.value,
                        item=replace_surrogates(bad.item),
                        reason=bad.reason[:2000],
                        received_at=now,
                    )
                )
        for alert in recorded:
            record_without_incident(s, tenant_id, alert)
