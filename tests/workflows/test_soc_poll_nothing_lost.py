"""SOC polling loses nothing (issue #12, point 2) and keeps one identity per device (point 5), against a SentinelOne
console double that pages like the API: ``updatedAt__gte`` filter, ``sortBy=updatedAt&sortOrder=asc`` (else by
id), keyset ``cursor``, ``limit``. Every polled item ends as an alert (handed over, or recorded as an old threat's
update), a refusal, a repeat of the overlap, or a quarantined item: the counts add up and the rows are there."""

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session, select

from activities.soc.polling import env_name
from domain.roles import Role
from domain.soc.alerts import AlertFormatError, correlation_key
from domain.soc.polling import OVERLAP, PollCursor
from domain.soc.sentinelone import normalize_sentinelone
from models import SocIntegration, SocQuarantineItem
from tests.conftest import auth
from tests.factories import make_user
from tests.workflows import test_soc_poller as base
from tests.workflows.test_soc_poller import S1_BASE, alerts_of, cursor_of, eventually, incidents_of

poller = base.poller  # a worker with the poller on a private task queue, vendor HTTP through respx

POLLING = Path(__file__).parent.parent / "fixtures" / "soc" / "polling"
THREATS = "/web/api/v2.1/threats"


def page_of(name: str) -> list[dict]:
    return json.loads((POLLING / name).read_text(encoding="utf-8"))["data"]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Console:
    """The threats list as the API serves it; `after_page(n)` runs after page n was served (a change mid-scan)."""

    def __init__(self, threats: list[dict], after_page: Callable[[int], None] | None = None) -> None:
        self.threats = copy.deepcopy(threats)
        self.after_page = after_page
        self.served = 0

    def find(self, threat_id: str) -> dict:
        return next(t for t in self.threats if t["id"] == threat_id)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        p = request.url.params
        ordered = p.get("sortBy") == "updatedAt" and p.get("sortOrder") == "asc"

        def key(t: dict) -> list:
            return [t["threatInfo"]["updatedAt"], t["id"]] if ordered else [t["id"]]

        items = list(self.threats)
        if "updatedAt__gte" in p:
            items = [t for t in items if _time(t["threatInfo"]["updatedAt"]) >= _time(p["updatedAt__gte"])]
        if "updatedAt__gt" in p:
            items = [t for t in items if _time(t["threatInfo"]["updatedAt"]) > _time(p["updatedAt__gt"])]
        total = len(items)
        items.sort(key=key)
        if "cursor" in p:
            last = json.loads(base64.b64decode(p["cursor"]))
            items = [t for t in items if key(t) > last]
        limit = int(p.get("limit", 10))
        data, more = items[:limit], len(items) > limit
        cursor = base64.b64encode(json.dumps(key(data[-1])).encode()).decode() if more else None
        body = {"data": copy.deepcopy(data), "pagination": {"totalItems": total, "nextCursor": cursor}}
        self.served += 1
        if self.after_page:
            self.after_page(self.served)
        return httpx.Response(200, json=body)


def quarantined(engine, row) -> list[SocQuarantineItem]:  # noqa: ANN001
    with Session(engine) as s:
        return list(s.exec(select(SocQuarantineItem).where(SocQuarantineItem.integration_id == row.id)))


def accounted(result) -> int:  # noqa: ANN001
    return result.handed_over + result.recorded + result.refused + result.quarantined + result.repeats


async def test_an_unreadable_item_is_quarantined_with_the_reason_and_the_others_go_on(poller, engine):
    row = poller.integration("sentinelone")
    threats = page_of("sentinelone_threats_one_unreadable.json")
    poller.router.get(S1_BASE + THREATS).mock(side_effect=Console(threats))

    result = await poller.run(row)

    assert (result.fetched, result.handed_over, result.quarantined, result.skipped) == (3, 2, 1, 1)
    assert accounted(result) == result.fetched
    [held] = quarantined(engine, row)
    assert (held.kind, held.tenant_id, held.released_at) == ("poll", row.tenant_id, None)
    assert held.item == threats[1]  # the raw item, as the vendor sent it
    assert "threatInfo.identifiedAt" in held.reason and "time zone" in held.reason
    stored = await eventually(lambda: len(a := alerts_of(engine, row)) == 2 and a)
    assert {a.vendor_alert_id for a in stored} == {threats[0]["id"], threats[2]["id"]}
    # The cursor moved past it: only because it is kept. A second look quarantines it no second time.
    assert cursor_of(engine, row).high_water == _time(threats[2]["threatInfo"]["updatedAt"])
    await poller.run(row)
    assert len(quarantined(engine, row)) == 1


async def test_a_sorted_scan_reads_items_updated_mid_scan_and_the_overlap_dedupes(poller, env, engine):
    """Two threats change while the scan pages: A behind our position, C ahead of it. Sorted ascending by update,
    both move behind the scan's position and are read in this scan (an id-ordered scan with a newest-time cursor
    would pass A and then move its cursor past A's new time with C's)."""
    row = poller.integration("sentinelone")
    threats = page_of("sentinelone_threats_scan.json")
    a_id, c_id = threats[0]["id"], threats[3]["id"]

    def analysts_work(served: int) -> None:
        if served == 1:  # after the first page (A, B): A resolved, then C marked in progress
            console.find(a_id)["threatInfo"].update(updatedAt="2026-11-20T08:30:00.000000Z", incidentStatus="resolved")
            console.find(c_id)["threatInfo"].update(
                updatedAt="2026-11-20T08:31:00.000000Z", incidentStatus="in_progress"
            )

    console = Console(threats, analysts_work)
    route = poller.router.get(S1_BASE + THREATS).mock(side_effect=console)

    result = await poller.run(row, page_size=2)

    sent = [c.request.url.params for c in route.calls]
    assert {(p["sortBy"], p["sortOrder"]) for p in sent} == {("updatedAt", "asc")}
    assert len({p["updatedAt__gte"] for p in sent}) == 1  # one filter for the whole scan, as the cursor needs
    # A, B | D, E | A (resolved), C (in progress): A twice, C only in its new version, nothing missed.
    assert accounted(result) == result.fetched == result.handed_over == 6

    def statuses() -> dict[str, str]:
        return {a.vendor_alert_id: a.vendor_status for a in alerts_of(engine, row)}

    await eventually(lambda: statuses().get(a_id) == "resolved" and statuses().get(c_id) == "in_progress")
    cursor = cursor_of(engine, row)
    newest = datetime(2026, 11, 20, 8, 31, tzinfo=UTC)
    assert (cursor.high_water, cursor.since, cursor.cursor) == (newest, newest - OVERLAP, None)

    # The next scan starts OVERLAP before the newest time: a threat the console indexed a moment late is read,
    # what the last scan handed over in that window is not handed over again.
    late = copy.deepcopy(threats[4])
    late["id"] = late["threatInfo"]["threatId"] = "1801000000000000299"
    late["threatInfo"].update(updatedAt="2026-11-20T08:30:30.000000Z")
    console.threats.append(late)
    calls = route.call_count
    again = await poller.run(row, page_size=2)
    assert route.calls[calls].request.url.params["updatedAt__gte"] == "2026-11-20T08:29:00.000000Z"
    assert (again.fetched, again.handed_over, again.repeats) == (3, 1, 2) and accounted(again) == again.fetched
    await eventually(lambda: late["id"] in statuses())


async def test_an_old_threat_updated_recently_is_recorded_not_a_new_incident(poller, engine):
    row = poller.integration("sentinelone")
    [old] = page_of("sentinelone_threats_old_threat_updated.json")
    poller.router.get(S1_BASE + THREATS).mock(side_effect=Console([old]))

    result = await poller.run(row)  # the hub watches since November; the threat was detected in June

    assert (result.fetched, result.recorded, result.handed_over) == (1, 1, 0) and accounted(result) == 1
    [alert] = alerts_of(engine, row)
    assert (alert.vendor_alert_id, alert.incident_key, alert.vendor_status) == (old["id"], None, "resolved")
    assert incidents_of(engine, row.customer_number) == []  # no incident, no ticket, no page
    # Its next update is recorded on the same row, still without an incident.
    old["threatInfo"].update(updatedAt="2026-11-21T10:00:00.000000Z", incidentStatus="in_progress")
    poller.router.routes[0].side_effect = Console([old])
    assert (await poller.run(row)).recorded == 1
    [alert] = alerts_of(engine, row)
    assert (alert.vendor_status, alert.deliveries, alert.incident_key) == ("in_progress", 2, None)
    assert incidents_of(engine, row.customer_number) == []


async def test_a_known_alert_updated_later_goes_to_its_incident_not_a_new_ticket(poller, engine):
    row = poller.integration("sentinelone")
    threats = page_of("sentinelone_threats_scan.json")[:1]
    console = Console(threats)
    poller.router.get(S1_BASE + THREATS).mock(side_effect=console)
    await poller.run(row)
    [incident] = await eventually(lambda: (i := incidents_of(engine, row.customer_number)) and i)

    console.threats[0]["threatInfo"].update(updatedAt="2026-11-25T10:00:00.000000Z", incidentStatus="resolved")
    result = await poller.run(row)
    assert result.handed_over == 1
    await eventually(lambda: alerts_of(engine, row)[0].vendor_status == "resolved")
    assert [i.key for i in incidents_of(engine, row.customer_number)] == [incident.key]


async def test_one_macos_agent_with_and_without_its_name_is_one_incident(poller, engine):
    row = poller.integration("sentinelone")
    threats = page_of("sentinelone_threats_macos_agent.json")
    poller.router.get(S1_BASE + THREATS).mock(side_effect=Console(threats))

    result = await poller.run(row)

    assert (result.fetched, result.handed_over) == (2, 2) and accounted(result) == 2
    keys = {correlation_key(normalize_sentinelone(t, str(row.id)), row.customer_number) for t in threats}
    assert len(keys) == 1 and "-agent-e3a1c5d7-9b2f-4c6e-8a0b-" in keys.pop()
    [incident] = await eventually(
        lambda: (i := incidents_of(engine, row.customer_number)) and i[0].alert_count == 2 and i
    )
    stored = {a.vendor_alert_id: a.device_hostname for a in alerts_of(engine, row)}
    assert stored == {threats[0]["id"]: "arvchristos MacBook Pro", threats[1]["id"]: None}
    assert incident.tenant_id == row.tenant_id


def test_the_cursor_holds_the_overlap_in_its_column():
    seen = {f"{i:010x}": datetime(2026, 11, 20, 8, i % 60, tzinfo=UTC) for i in range(200)}
    start = PollCursor.first(datetime(2026, 11, 20, 8, tzinfo=UTC))
    cursor = start.advance(datetime(2026, 11, 20, 9, tzinfo=UTC), next_cursor="c" * 600, seen=seen)
    assert len(cursor.to_json()) <= 2000
    assert PollCursor.model_validate_json(cursor.to_json()).cursor == "c" * 600


async def test_a_quarantined_poll_item_is_listed_and_after_the_fix_released_to_its_incident(
    poller, api, engine, monkeypatch
):
    """The issue's own case: a threat whose `id` and `threatInfo.threatId` differ (as in published samples) was
    refused by the normaliser. Polled under that rule it is quarantined; released before the fix it stays held
    (409 with the reason); after the fix the release reads it and it reaches its incident."""
    import domain.soc.polling as polling

    row = poller.integration("sentinelone")
    [threat] = page_of("sentinelone_threats_macos_agent.json")[:1]
    threat["threatInfo"]["threatId"] = "1801000000000009999"
    poller.router.get(S1_BASE + THREATS).mock(side_effect=Console([threat]))
    fixed = polling.normalize_sentinelone

    def before_the_fix(item, integration_id, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if item.get("id") != item["threatInfo"].get("threatId"):
            raise AlertFormatError("id", "id and threatInfo.threatId differ")
        return fixed(item, integration_id, **kwargs)

    monkeypatch.setattr(polling, "normalize_sentinelone", before_the_fix)
    assert (await poller.run(row)).quarantined == 1
    _, tech = make_user(engine, Role.MSP_TECH)
    listed = await api.get("/api/v1/soc/quarantine", params={"kind": "poll"}, headers=auth(tech))
    [held] = [i for i in listed.json()["items"] if i["integration_id"] == str(row.id)]
    assert held["item"] == threat and "id and threatInfo.threatId differ" in held["reason"]

    refused = await api.post(f"/api/v1/soc/quarantine/{held['id']}/release", headers=auth(tech))
    assert refused.status_code == 409 and "still cannot be read" in refused.json()["detail"]
    assert quarantined(engine, row)[0].released_at is None  # nothing written

    monkeypatch.setattr(polling, "normalize_sentinelone", fixed)  # the fix is deployed
    released = await api.post(f"/api/v1/soc/quarantine/{held['id']}/release", headers=auth(tech))
    assert released.status_code == 200, released.text
    assert released.json()["released_at"] is not None
    stored = await eventually(lambda: (a := alerts_of(engine, row)) and a, timeout=20)
    assert [(a.vendor_alert_id, a.tenant_id) for a in stored] == [(threat["id"], row.tenant_id)]
    assert await eventually(lambda: incidents_of(engine, row.customer_number))


async def test_every_polled_item_ends_as_an_alert_a_refusal_or_a_quarantined_item(poller, engine):
    """One page with each outcome; the rows are counted, not only the activity's counters."""
    row = poller.integration("sentinelone")
    site = "1650000000000000001"
    poller.monkeypatch.setenv(env_name(row.credentials_ref, "SITE_ID"), site)
    good, unreadable, _ = page_of("sentinelone_threats_one_unreadable.json")
    [old] = page_of("sentinelone_threats_old_threat_updated.json")
    foreign = copy.deepcopy(page_of("sentinelone_threats_scan.json")[0])
    foreign["agentRealtimeInfo"]["siteId"] = "1650000000000000999"  # a site the token sees, not this customer's
    items = [good, unreadable, old, foreign]
    route = poller.router.get(S1_BASE + THREATS).mock(side_effect=Console(items))

    result = await poller.run(row)

    assert all(c.request.url.params["siteIds"] == site for c in route.calls)  # the console is asked for the site
    assert (result.handed_over, result.recorded, result.refused, result.quarantined) == (1, 1, 1, 1)
    stored = await eventually(lambda: len(a := alerts_of(engine, row)) == 2 and a)
    held = quarantined(engine, row)  # the unreadable item, and the refused one kept for review
    rows = len(stored) + len(held)
    assert result.fetched == len(items) == rows
    assert {a.vendor_alert_id for a in stored} == {good["id"], old["id"]}
    assert foreign["id"] not in {a.vendor_alert_id for a in stored}
    [refused] = [h for h in held if h.reason.startswith("foreign_site: ")]
    assert refused.item["id"] == foreign["id"] and "1650000000000000999" in refused.reason


async def test_a_site_not_mapped_to_the_customer_is_held_until_it_is_mapped(poller, engine, api):
    """No SITE_ID filter and a mapping without the item's site: the poller refuses and keeps the item; released
    before the mapping it stays held; mapped, it goes to the customer's incident."""
    row = poller.integration("sentinelone")
    with Session(engine) as s:
        integration = s.get(SocIntegration, row.id)
        integration.vendor_tenant_ids = ["1650000000000000777"]
        s.add(integration)
        s.commit()
    [item] = page_of("sentinelone_threats_scan.json")[:1]
    poller.router.get(S1_BASE + THREATS).mock(side_effect=Console([item]))

    result = await poller.run(row)

    assert (result.handed_over, result.refused, result.quarantined) == (0, 1, 0)
    [held] = quarantined(engine, row)
    assert alerts_of(engine, row) == [] and "not mapped to this integration's customer" in held.reason
    admin = make_user(engine, Role.MSP_ADMIN)[1]
    release = f"/api/v1/soc/quarantine/{held.id}/release"
    still = await api.post(release, headers=auth(admin))
    assert still.status_code == 409 and "foreign_site" in still.json()["detail"], still.text
    mapped = await api.patch(
        f"/api/v1/soc/integrations/{row.id}",
        json={"vendor_tenant_ids": ["1650000000000000777", "1650000000000000001"]},
        headers=auth(admin),
    )
    assert mapped.status_code == 200, mapped.text
    released = await api.post(release, headers=auth(admin))
    assert released.status_code == 200, released.text
