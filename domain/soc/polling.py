"""What crosses the boundaries of the SOC poller (`soc-poll-<source>-<tenant>`), and its persisted cursor.

Pure: no I/O and no clock. The cursor is kept in ``SocIntegration.poll_cursor`` as the JSON of `PollCursor`.

Every scan asks the vendor for items changed from ``since`` on, **sorted ascending by that time**
(SentinelOne ``sortBy=updatedAt&sortOrder=asc&updatedAt__gte``, RocketCyber ``sort=createdAt:asc`` with
``createdAt=<from>|``), the way the vendors' own integrations poll. In that order an item changed while we page
moves behind our position and is read later in the same scan, or in the next; an unsorted scan with a
"newest time seen" cursor misses it once a later item lifts the cursor past it.

* ``since``: the filter of the current scan; it stays fixed while a scan pages (a SentinelOne cursor is only
  valid with the same filter);
* ``cursor`` (SentinelOne ``nextCursor``) or ``page`` (RocketCyber, 1-based): where the scan continues;
* ``high_water``: the newest vendor time seen so far (never goes back);
* at the end of a scan the next one starts ``OVERLAP`` before the high water (an item the vendor indexed a
  moment late, or several items of the same second, are read again rather than missed); ``seen`` holds the items
  already handed over in that overlap (a digest of id and time), which the next scan skips;
* ``watch_start``: where the very first scan started. An item detected before it that the hub does not know is
  an old threat updated now (`domain.soc.intake`): it is recorded, not opened as a new incident.

RocketCyber filters by creation time only, so an incident resolved later would never be seen again. After each
creation scan a second scan (``phase`` "resolved") asks for incidents resolved since ``resolved_since``
(``status=resolved&resolvedAt=<from>|``), with its own ``resolved_page``, ``resolved_high_water`` and
``resolved_seen``. SentinelOne needs no second scan: ``updatedAt`` changes with the status.

A page handed over twice (a retried activity, the overlap beyond ``MAX_SEEN``) is harmless: the incident
workflow de-duplicates by ``dedupe_key``.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.soc.alerts import NormalizedAlert, Source, check_alert_times
from domain.soc.normalize import get_path, text, timestamp
from domain.soc.rocketcyber import normalize_rocketcyber
from domain.soc.sentinelone import normalize_sentinelone

POLLABLE_SOURCES = (Source.SENTINELONE, Source.ROCKETCYBER)
OVERLAP = timedelta(minutes=2)
# Digests kept per phase (the newest): bounds the cursor (the column holds 2000 characters).
MAX_SEEN = 24


def read_poll_item(
    source: Source, item: Any, integration_id: str, now: datetime, *, console_url: str | None = None
) -> NormalizedAlert:
    """One polled vendor item as an alert, with its times inside the hub's window; ValueError (AlertFormatError,
    AlertOutOfWindow) naming what is wrong otherwise. The poller and the release of a quarantined poll item both
    read items through here, so a fixed normaliser reads a released item as it would read it polled."""
    if source == Source.SENTINELONE:
        alert = normalize_sentinelone(item, integration_id, console_url=console_url)
    elif source == Source.ROCKETCYBER:
        alert = normalize_rocketcyber(item, integration_id)
    else:
        raise ValueError(f"{source.value} items are not polled")
    return check_alert_times(alert, now)


def item_version(item: Any, time_paths: tuple[str, ...]) -> tuple[str, datetime] | None:
    """(vendor id, the time the scan sorts by) of a raw item, or None when either is unreadable."""
    item_id = text(get_path(item, "id")) or text(get_path(item, "threatInfo.threatId"))
    for path in time_paths:
        value = get_path(item, path)
        if value not in (None, ""):
            try:
                at = timestamp(value, path)
            except ValueError:
                return None
            return (item_id, at) if item_id else None
    return None


def seen_digest(item_id: str, at: datetime) -> str:
    """Short digest of one version of an item: its vendor id and the time the scan sorts by."""
    return hashlib.sha256(f"{item_id}\x1f{at.isoformat()}".encode()).hexdigest()[:10]


def _keep_seen(seen: dict[str, int], since: datetime | None) -> dict[str, int]:
    """The entries in the next scan's window, the newest `MAX_SEEN` of them (epoch seconds as values)."""
    floor = int(since.timestamp()) if since is not None else None
    kept = [(k, t) for k, t in seen.items() if floor is None or t >= floor]
    return dict(sorted(kept, key=lambda kv: kv[1])[-MAX_SEEN:])


def _merge_seen(seen: dict[str, int], new: dict[str, datetime]) -> dict[str, int]:
    merged = seen | {k: int(t.timestamp()) for k, t in new.items()}
    return dict(sorted(merged.items(), key=lambda kv: kv[1])[-MAX_SEEN:])


def _max(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


class PollCursor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime | None = None
    cursor: str | None = None
    page: int = Field(default=1, ge=1)
    high_water: AwareDatetime | None = None
    seen: dict[str, int] = Field(default_factory=dict)
    watch_start: AwareDatetime | None = None
    phase: Literal["created", "resolved"] = "created"
    resolved_since: AwareDatetime | None = None
    resolved_page: int = Field(default=1, ge=1)
    resolved_high_water: AwareDatetime | None = None
    resolved_seen: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def first(cls, since: datetime) -> "PollCursor":
        return cls(since=since, watch_start=since)

    def is_seen(self, digest: str) -> bool:
        return digest in (self.resolved_seen if self.phase == "resolved" else self.seen)

    def advance(
        self,
        newest: datetime | None,
        *,
        next_cursor: str | None = None,
        next_page: int | None = None,
        seen: dict[str, datetime] | None = None,
    ) -> "PollCursor":
        """The cursor after one page (`seen`: the digests of the items it handed over, with their times): within
        the scan when the vendor has more (`next_cursor` / `next_page`), else a fresh scan from `OVERLAP` before
        the newest time seen (never moving `since` backwards)."""
        high_water = _max(self.high_water, newest)
        digests = _merge_seen(self.seen, seen or {})
        if next_cursor or next_page:
            return self.model_copy(
                update={"cursor": next_cursor, "page": next_page or 1, "high_water": high_water, "seen": digests}
            )
        since = _max(self.since, high_water - OVERLAP if high_water else None)
        return self.model_copy(
            update={
                "since": since,
                "cursor": None,
                "page": 1,
                "high_water": high_water,
                "seen": _keep_seen(digests, since),
            }
        )

    def to_resolved_scan(self, fallback_since: datetime | None) -> "PollCursor":
        """After a finished creation scan: scan the resolutions since the last resolution scan (the first one
        from `fallback_since`, the creation scan's start)."""
        return self.model_copy(
            update={
                "phase": "resolved",
                "resolved_since": self.resolved_since or fallback_since,
                "resolved_page": 1,
            }
        )

    def advance_resolved(
        self, newest: datetime | None, *, next_page: int | None = None, seen: dict[str, datetime] | None = None
    ) -> "PollCursor":
        """The cursor after one page of the resolution scan; at its end, back to a creation scan."""
        high_water = _max(self.resolved_high_water, newest)
        digests = _merge_seen(self.resolved_seen, seen or {})
        if next_page:
            return self.model_copy(
                update={"resolved_page": next_page, "resolved_high_water": high_water, "resolved_seen": digests}
            )
        since = _max(self.resolved_since, high_water - OVERLAP if high_water else None)
        return self.model_copy(
            update={
                "phase": "created",
                "resolved_since": since,
                "resolved_page": 1,
                "resolved_high_water": high_water,
                "resolved_seen": _keep_seen(digests, since),
            }
        )

    def to_json(self, limit: int = 2000) -> str:
        """The JSON to persist, within `limit` characters: the oldest `seen` digests go first (a repeat is
        harmless, a cursor the column cannot hold is not)."""
        cursor = self
        while len(body := cursor.model_dump_json()) > limit and (cursor.seen or cursor.resolved_seen):
            cursor = cursor.model_copy(
                update={
                    "seen": dict(list(cursor.seen.items())[1:]),
                    "resolved_seen": dict(list(cursor.resolved_seen.items())[1:]),
                }
            )
        return body
