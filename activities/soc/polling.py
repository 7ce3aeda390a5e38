"""SOC poll activity: fetch one page of a vendor's alerts and hand each to its incident workflow.

Credentials come from configuration, never from a request or the database. ``SocIntegration.credentials_ref``
names them; the activity reads these environment variables (``<REF>`` is the ref upper-cased, every run of
other characters than A-Z and 0-9 replaced by ``_``; e.g. ref ``s1-acme`` -> ``S1_ACME``):

* ``PSA_SOC_CREDENTIALS__<REF>__BASE_URL``: SentinelOne ``https://<tenant>.sentinelone.net``; RocketCyber
  ``https://api-eu.rocketcyber.com/v3`` (or ``api-us``);
* ``PSA_SOC_CREDENTIALS__<REF>__TOKEN``: SentinelOne API token / RocketCyber provider API key;
* ``PSA_SOC_CREDENTIALS__<REF>__ACCOUNT_ID``: RocketCyber only, required: the customer's account id. A
  provider key sees every customer; without it one customer's integration would read all customers' incidents;
* ``PSA_SOC_CREDENTIALS__<REF>__SITE_ID``: SentinelOne, optional: only threats of this site are handed over
  (for a token that sees more than this customer's site; others are skipped and counted).

Missing credentials fail the activity at once (non-retryable): a retry cannot help until someone configures them.

Every item of a page ends in one outcome, counted in the result: handed over to its incident; recorded on its
alert row (an update of a threat detected before the poller started watching: no new incident); refused (a site or
account not mapped to the integration's customer, `domain.soc.sites`: kept in the quarantine with reason
``foreign_site`` for review, never handed over); quarantined with the raw item and the reason (unreadable, or a time
outside the hub's window); or a repeat of the scan overlap (`domain.soc.polling`). Quarantine and records are
written (`activities/soc/poll_items.py`) before the hand-over, idempotently, in the same call.

Hand-over and cursor (idempotency). The activity hands the page's alerts to ``incident-<key>``, grouped per
incident, exactly as the webhook inbox does (update-with-start, answered once the incident has handled them; the
tenant is always the integration's), and returns only counts. Only after all alerts of the page were handled does
it persist the advanced cursor, in the same activity, by a
compare-and-set on the cursor it read. So one call means "advance by one page from the persisted cursor":

* failure before the cursor is saved: the retry fetches the same page and hands the same alerts over again;
  the incident workflow drops repeats by ``dedupe_key``; nothing is lost;
* failure after the save (the result did not reach the server): the retry starts from the saved cursor,
  i.e. handles the next page; nothing is lost or skipped either;
* a concurrent writer (second poller, an admin reset) wins: the compare-and-set does not overwrite its cursor.

A separate ``save_cursor`` activity would put the cursor into workflow history and add a window in which a
crash leaves the DB cursor behind the workflow's; keeping both steps here keeps the DB the only truth.

Vendor errors map to Temporal as: auth (401/403) and bad requests -> non-retryable; 429 -> retryable after the
vendor's Retry-After (``next_retry_delay``); 5xx / network -> retryable with the workflow's backoff.
"""

import asyncio
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from pydantic import ValidationError
from sqlalchemy import Engine, update
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.soc.poll_items import Unreadable, known_incidents, store_page_items
from connectors.http import VendorAuthError, VendorError
from connectors.rocketcyber import RocketCyberClient
from connectors.sentinelone import SentinelOneClient
from domain.contracts.soc import IncidentAlert, PollPageRequest, PollPageResult, SocActivity
from domain.processes import incident_workflow_id
from domain.soc.alerts import NormalizedAlert, Source, correlation_key, deduplicate, in_alert_window
from domain.soc.intake import Route, route
from domain.soc.normalize import get_path, timestamp
from domain.soc.polling import (
    POLLABLE_SOURCES,
    PollCursor,
    item_version,
    read_poll_item,
    seen_digest,
)
from domain.soc.sites import allowed_ids, site_refusal
from hub.logging import get_logger
from hub.temporal.soc import hand_over_and_wait
from models import SocIntegration, Tenant

log = get_logger(__name__)
ENV_PREFIX = "PSA_SOC_CREDENTIALS__"
VENDOR_TIMEOUT = 30.0
MAX_RETRY_AFTER = timedelta(hours=1)
HAND_OVERS_AT_ONCE = 4  # incidents of one page handed over at once


@dataclass(frozen=True)
class VendorCredentials:
    base_url: str
    token: str
    account_id: str | None = None
    site_id: str | None = None

    def __repr__(self) -> str:  # never print the token
        return f"VendorCredentials({self.base_url!r}, account_id={self.account_id!r}, site_id={self.site_id!r})"


def env_name(ref: str, key: str) -> str:
    slug = re.sub(r"[^A-Z0-9]+", "_", ref.upper()).strip("_")
    return f"{ENV_PREFIX}{slug}__{key}"


def resolve_credentials(ref: str | None, source: Source, environ: Mapping[str, str] | None = None) -> VendorCredentials:
    """Base URL, token (and account/site) of `ref` from the environment; non-retryable error when incomplete."""
    env = os.environ if environ is None else environ
    if not ref or not re.sub(r"[^A-Za-z0-9]+", "", ref):
        raise ApplicationError(
            "the integration has no credentials_ref: set one and configure "
            f"{ENV_PREFIX}<REF>__BASE_URL and {ENV_PREFIX}<REF>__TOKEN",
            type="MissingCredentials",
            non_retryable=True,
        )
    required = ["BASE_URL", "TOKEN"] + (["ACCOUNT_ID"] if source == Source.ROCKETCYBER else [])
    values = {key: (env.get(env_name(ref, key)) or "").strip() for key in (*required, "ACCOUNT_ID", "SITE_ID")}
    missing = [env_name(ref, key) for key in required if not values[key]]
    if missing:
        raise ApplicationError(
            f"credentials {ref!r} for {source.value} are not configured: set {', '.join(missing)}",
            type="MissingCredentials",
            non_retryable=True,
        )
    return VendorCredentials(
        values["BASE_URL"], values["TOKEN"], values["ACCOUNT_ID"] or None, values["SITE_ID"] or None
    )


def vendor_failure(exc: VendorError, ref: str) -> ApplicationError:
    """The Temporal view of a vendor error (the message is already scrubbed of the token by the connector)."""
    kind = type(exc).__name__
    if isinstance(exc, VendorAuthError):
        hint = f"; check {env_name(ref, 'TOKEN')} and the token's permissions"
        return ApplicationError(str(exc) + hint, type=kind, non_retryable=True)
    if not exc.retryable:
        return ApplicationError(str(exc), type=kind, non_retryable=True)
    delay = None if exc.retry_after is None else min(timedelta(seconds=exc.retry_after), MAX_RETRY_AFTER)
    return ApplicationError(str(exc), type=kind, next_retry_delay=delay)


@dataclass(frozen=True)
class _Integration:
    id: UUID
    tenant_id: UUID
    customer_number: str
    source: Source
    credentials_ref: str | None
    poll_cursor: str | None
    is_active: bool
    vendor_tenant_ids: frozenset[str] = frozenset()


# The time each scan sorts and filters by (first readable path).
S1_TIME = ("threatInfo.updatedAt", "updatedAt", "threatInfo.createdAt")
RC_CREATED_TIME = ("createdAt",)
RC_RESOLVED_TIME = ("resolvedAt", "updatedAt")


@dataclass(frozen=True)
class _Page:
    items: list[dict[str, Any]]
    newest: datetime | None
    time_paths: tuple[str, ...]
    next_cursor: str | None = None
    next_page: int | None = None


@dataclass
class _Sorted:
    """A page's items by outcome: alerts (to hand over or record), unreadable (to quarantine), refused (a site or
    account not mapped to the integration's customer: kept in the quarantine for review too), repeats (seen in the
    scan overlap, or twice in the page); `seen`: digest -> time."""

    alerts: list[NormalizedAlert] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    refused: list[Unreadable] = field(default_factory=list)
    repeats: int = 0
    seen: dict[str, datetime] = field(default_factory=dict)


def _newest(items: list[dict[str, Any]], *paths: str) -> datetime | None:
    """The newest readable vendor time among `items` (unreadable ones are ignored, as are their items later; so are
    times outside the hub's window: one far ahead would move the cursor past every alert to come)."""
    found, now = [], datetime.now(UTC)
    for item in items:
        for path in paths:
            value = get_path(item, path)
            if value not in (None, ""):
                try:
                    when = timestamp(value, path)
                except ValueError:
                    break
                if in_alert_window(when, now):
                    found.append(when)
                break
    return max(found) if found else None


class SocPollActivities:
    def __init__(
        self,
        engine: Engine,
        temporal: Client,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ):
        self.engine = engine
        self.temporal = temporal
        self.client_factory = client_factory or (lambda: httpx.AsyncClient(timeout=VENDOR_TIMEOUT))
        self.environ = environ  # None: os.environ at call time

    @activity.defn(name=SocActivity.POLL_PAGE)
    async def poll_page(self, req: PollPageRequest) -> PollPageResult:
        integration = await asyncio.to_thread(self._load, req.integration_id)
        result = PollPageResult(
            source=integration.source.value,
            tenant_id=integration.tenant_id,
            customer_number=integration.customer_number,
        )
        if not integration.is_active:
            log.info("soc poll skipped: integration inactive", integration_id=str(integration.id))
            return result.model_copy(update={"inactive": True})
        creds = resolve_credentials(integration.credentials_ref, integration.source, self.environ)
        cursor = self._cursor(integration, req)
        try:
            page = await self._fetch(integration.source, creds, cursor, req.page_size)
        except VendorError as exc:
            raise vendor_failure(exc, integration.credentials_ref or "") from exc

        sorted_ = self._sort_items(integration, creds, cursor, page)
        known = await asyncio.to_thread(known_incidents, self.engine, [a.dedupe_key for a in sorted_.alerts])
        hand_over, record = [], []
        for alert in sorted_.alerts:  # the webhook's decision too (domain.soc.intake)
            way = route(alert, alert.dedupe_key in known, known.get(alert.dedupe_key), cursor.watch_start)
            (hand_over if way == Route.HAND_OVER else record).append(alert)
        await asyncio.to_thread(
            store_page_items,
            self.engine,
            tenant_id=integration.tenant_id,
            integration_id=integration.id,
            unreadable=sorted_.unreadable + sorted_.refused,
            recorded=record,
            now=datetime.now(UTC),
        )
        await self._hand_over(integration, hand_over)

        if cursor.phase == "resolved":
            new_cursor = cursor.advance_resolved(page.newest, next_page=page.next_page, seen=sorted_.seen)
            has_more = bool(page.next_page)
        else:
            new_cursor = cursor.advance(
                page.newest, next_cursor=page.next_cursor, next_page=page.next_page, seen=sorted_.seen
            )
            has_more = bool(page.next_cursor or page.next_page)
            if integration.source == Source.ROCKETCYBER and not has_more:
                # RocketCyber filters by creation only: the resolutions since the last look follow in this run.
                new_cursor, has_more = new_cursor.to_resolved_scan(fallback_since=cursor.since), True
        saved = await asyncio.to_thread(
            self._save_cursor, integration.id, integration.poll_cursor, new_cursor.to_json()
        )
        counts = {
            "fetched": len(page.items),
            "handed_over": len(hand_over),
            "recorded": len(record),
            "refused": len(sorted_.refused),
            "quarantined": len(sorted_.unreadable),
            "repeats": sorted_.repeats,
        }
        log.info(
            "soc poll page",
            integration_id=str(integration.id),
            source=integration.source.value,
            tenant_id=str(integration.tenant_id),
            cursor_saved=saved,
            **counts,
        )
        skipped = len(sorted_.refused) + len(sorted_.unreadable)
        return result.model_copy(update={**counts, "skipped": skipped, "has_more": has_more})

    # --- steps -------------------------------------------------------------------------------------------------

    def _load(self, integration_id: UUID) -> _Integration:
        with Session(self.engine) as s:
            row = s.get(SocIntegration, integration_id)
            if row is None:
                raise ApplicationError(
                    f"no SOC integration {integration_id}", type="IntegrationNotFound", non_retryable=True
                )
            if row.source not in POLLABLE_SOURCES:
                raise ApplicationError(
                    f"{row.source} integrations are not polled (webhook only)", type="NotPollable", non_retryable=True
                )
            tenant = s.get(Tenant, row.tenant_id)
            return _Integration(
                id=row.id,
                tenant_id=row.tenant_id,
                customer_number=tenant.customer_number,
                source=Source(row.source),
                credentials_ref=row.credentials_ref,
                poll_cursor=row.poll_cursor,
                is_active=row.is_active,
                vendor_tenant_ids=allowed_ids(row.vendor_tenant_ids),
            )

    def _cursor(self, integration: _Integration, req: PollPageRequest) -> PollCursor:
        if integration.poll_cursor is None:
            return PollCursor.first(datetime.now(UTC) - timedelta(hours=req.initial_lookback_hours))
        try:
            cursor = PollCursor.model_validate_json(integration.poll_cursor)
        except ValidationError as exc:
            # Fail loudly: restarting from a guess could silently skip alerts.
            raise ApplicationError(
                f"integration {integration.id}: poll_cursor is unreadable ({exc.error_count()} errors); "
                "clear it to restart from the initial lookback",
                type="BadPollCursor",
                non_retryable=True,
            ) from None
        # A cursor from before `watch_start`: the hub has watched at least since its scan's start.
        return cursor if cursor.watch_start else cursor.model_copy(update={"watch_start": cursor.since})

    async def _fetch(self, source: Source, creds: VendorCredentials, cursor: PollCursor, size: int) -> _Page:
        async with self.client_factory() as http:
            if source == Source.SENTINELONE:
                s1 = SentinelOneClient(creds.base_url, creds.token, client=http, timeout=VENDOR_TIMEOUT)
                page = await s1.threats_page(
                    cursor.cursor, updated_from=cursor.since, site_id=creds.site_id, limit=size
                )
                return _Page(page.items, _newest(page.items, *S1_TIME), S1_TIME, next_cursor=page.next_cursor)
            rc = RocketCyberClient(
                creds.base_url, creds.token, account_id=creds.account_id, client=http, timeout=VENDOR_TIMEOUT
            )
            if cursor.phase == "resolved":
                page = await rc.incidents_page(
                    cursor.resolved_page, page_size=size, resolved_since=cursor.resolved_since
                )
                more = bool(page.items) and page.page < page.total_pages
                next_page = cursor.resolved_page + 1 if more else None
                return _Page(page.items, _newest(page.items, *RC_RESOLVED_TIME), RC_RESOLVED_TIME, next_page=next_page)
            page = await rc.incidents_page(cursor.page, page_size=size, since=cursor.since)
            more = bool(page.items) and page.page < page.total_pages
            next_page = cursor.page + 1 if more else None
            return _Page(page.items, _newest(page.items, *RC_CREATED_TIME), RC_CREATED_TIME, next_page=next_page)

    def _sort_items(
        self, integration: _Integration, creds: VendorCredentials, cursor: PollCursor, page: _Page
    ) -> _Sorted:
        """Every item of the page ends in exactly one outcome of `_Sorted`: nothing is dropped unaccounted."""
        out, iid, now = _Sorted(), str(integration.id), datetime.now(UTC)
        # The customer's sites/accounts: the integration's mapping, and the one its credentials name (the scan asks
        # the vendor for that one only); the same rule as the webhook's (domain.soc.sites).
        expected = creds.site_id if integration.source == Source.SENTINELONE else creds.account_id
        allowed = integration.vendor_tenant_ids | ({expected} if expected else frozenset())
        for index, item in enumerate(page.items):
            version = item_version(item, page.time_paths)
            digest = seen_digest(*version) if version else None
            if digest and cursor.is_seen(digest):
                out.repeats += 1  # handed over by the scan before, read again in the overlap
                continue
            if digest and version:
                out.seen[digest] = version[1]
            try:
                alert = read_poll_item(integration.source, item, iid, now, console_url=creds.base_url)
            except ValueError as exc:  # AlertFormatError (also AlertOutOfWindow) and pydantic's ValidationError
                reason = f"{type(exc).__name__}: {exc}"
                out.unreadable.append(Unreadable(item=item, reason=reason))
                log.warning(
                    "soc poll: unreadable item quarantined", integration_id=iid, index=index, error=reason[:300]
                )
                continue
            if (refusal := site_refusal(alert, allowed)) is not None:
                out.refused.append(Unreadable(item=item, reason=f"foreign_site: {refusal}"))
                log.warning(
                    "soc poll: item of a site not mapped to the customer refused and quarantined",
                    integration_id=iid,
                    vendor_alert_id=alert.vendor_alert_id,
                    vendor_tenant_id=alert.vendor_tenant_id,
                )
                continue
            out.alerts.append(alert)
        unique = deduplicate(out.alerts)
        out.repeats += len(out.alerts) - len(unique)
        out.alerts = unique
        return out

    async def _hand_over(self, integration: _Integration, alerts: list[NormalizedAlert]) -> None:
        """The webhook inbox's path (`hand_over_and_wait`), with the integration's tenant: the page's alerts grouped by
        incident, in page order within each, a few incidents at once. Each returns once its incident has handled
        them, so the cursor moves on only past handled alerts; an incident run that is closing refuses them, and the
        activity is retried (the next run takes them; incidents drop what they already have)."""
        groups: dict[str, list[IncidentAlert]] = {}
        for alert in alerts:
            item = IncidentAlert(
                alert=alert, tenant_id=integration.tenant_id, customer_number=integration.customer_number
            )
            groups.setdefault(incident_workflow_id(correlation_key(alert, integration.customer_number)), []).append(
                item
            )
        limit = asyncio.Semaphore(HAND_OVERS_AT_ONCE)

        async def one(workflow_id: str, items: list[IncidentAlert]) -> None:
            async with limit:
                try:
                    handed = await hand_over_and_wait(self.temporal, items)
                except WorkflowUpdateFailedError as err:
                    raise ApplicationError(f"{workflow_id} did not take the alerts now: {err.cause}") from err
                if not handed:
                    raise ApplicationError(f"{workflow_id} could not take the alerts right now (start race)")
                activity.heartbeat()

        tasks = [asyncio.create_task(one(workflow_id, items)) for workflow_id, items in groups.items()]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # the activity fails: no hand-over of this attempt goes on after it
                task.cancel()
            raise

    def _save_cursor(self, integration_id: UUID, expected: str | None, new: str) -> bool:
        """Compare-and-set: only if the cursor is still the one this page started from."""
        column = SocIntegration.poll_cursor
        same = column.is_(None) if expected is None else column == expected
        with self.engine.begin() as conn:
            done = conn.execute(
                update(SocIntegration).where(SocIntegration.id == integration_id, same).values(poll_cursor=new)
            ).rowcount
        if not done:
            log.warning("soc poll: cursor changed meanwhile, not overwritten", integration_id=str(integration_id))
        return bool(done)
