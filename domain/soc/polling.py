"""What crosses the boundaries of the SOC poller (`soc-poll-<source>-<tenant>`), and its persisted cursor.

Pure: no I/O and no clock. The cursor is kept in ``SocIntegration.poll_cursor`` as the JSON of `PollCursor`:

* ``since``: the filter of the current scan (SentinelOne ``updatedAt__gt``, RocketCyber ``createdAt`` from);
  it stays fixed while a scan pages, because a SentinelOne cursor is only valid with the same filter;
* ``cursor`` (SentinelOne ``nextCursor``) or ``page`` (RocketCyber, 1-based): where the scan continues;
* ``high_water``: the newest vendor time seen in this scan; when the vendor says there are no more pages it
  becomes the next scan's ``since``.

RocketCyber filters by creation time only, so an incident resolved later would never be seen again. After each
creation scan a second scan (``phase`` "resolved") asks for incidents resolved since ``resolved_since``
(``status=resolved&resolvedAt=<from>|``), with its own ``resolved_page`` and ``resolved_high_water``; the
incident workflow records the vendor's resolution (a note, or resolving the ticket if the policy says so).
SentinelOne needs no second scan: ``updatedAt__gt`` returns threats whose status changed.

A page handed over twice (a retried activity, an overlapping filter) is harmless: the incident workflow
de-duplicates by ``dedupe_key``.
"""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.soc.alerts import Source

POLLABLE_SOURCES = (Source.SENTINELONE, Source.ROCKETCYBER)


class PollCursor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime | None = None
    cursor: str | None = None
    page: int = Field(default=1, ge=1)
    high_water: AwareDatetime | None = None
    phase: Literal["created", "resolved"] = "created"
    resolved_since: AwareDatetime | None = None
    resolved_page: int = Field(default=1, ge=1)
    resolved_high_water: AwareDatetime | None = None

    def advance(
        self, newest: datetime | None, *, next_cursor: str | None = None, next_page: int | None = None
    ) -> "PollCursor":
        """The cursor after one page: within the scan when the vendor has more (`next_cursor` / `next_page`),
        else a fresh scan from the newest time seen (never moving `since` backwards)."""
        marks = [t for t in (self.since, self.high_water, newest) if t is not None]
        high_water = max(marks) if marks else None
        if next_cursor or next_page:
            return self.model_copy(update={"cursor": next_cursor, "page": next_page or 1, "high_water": high_water})
        return self.model_copy(update={"since": high_water, "cursor": None, "page": 1, "high_water": high_water})

    def to_resolved_scan(self, fallback_since: datetime | None) -> "PollCursor":
        """After a finished creation scan: scan the resolutions since the last resolution scan (the first one
        from `fallback_since`, the creation scan's start)."""
        since = self.resolved_since or fallback_since
        marks = [t for t in (since, self.resolved_high_water) if t is not None]
        return self.model_copy(
            update={
                "phase": "resolved",
                "resolved_since": since,
                "resolved_page": 1,
                "resolved_high_water": max(marks) if marks else None,
            }
        )

    def advance_resolved(self, newest: datetime | None, *, next_page: int | None = None) -> "PollCursor":
        """The cursor after one page of the resolution scan; at its end, back to a creation scan."""
        marks = [t for t in (self.resolved_since, self.resolved_high_water, newest) if t is not None]
        high_water = max(marks) if marks else None
        if next_page:
            return self.model_copy(update={"resolved_page": next_page, "resolved_high_water": high_water})
        return self.model_copy(
            update={
                "phase": "created",
                "resolved_since": high_water,
                "resolved_page": 1,
                "resolved_high_water": high_water,
            }
        )
