"""The vendor's own status and verdict through webhook -> incident workflow -> ticket, on the time-skipping server
(issue #12): threats the vendor already handled open at most an informational P4 ticket (policy `handled_threats`),
never page and never propose containment; a decommissioned agent is never contained; RocketCyber's severity,
description, remediation and event count reach the ticket. Fixtures: tests/fixtures/soc/threat_states/."""

import copy
import json
from pathlib import Path

import httpx
import respx
from sqlmodel import Session, select

from domain.tickets import Priority
from models import SocIncident, Ticket
from tests.api.test_soc_webhook_api import deliver, eventually, incident, ticket_of
from tests.conftest import auth
from tests.workflows.test_incident_lifecycle import PAGER_1, configure, later, notes
from workflows.soc.incident import IncidentWorkflow

STATES = Path(__file__).parent.parent / "fixtures/soc/threat_states"


def load(name: str) -> dict:
    return json.loads((STATES / name).read_text(encoding="utf-8"))


def on_host(threat: dict, host: str) -> dict:
    threat = copy.deepcopy(threat)
    threat["agentRealtimeInfo"]["agentComputerName"] = host
    return threat


def incidents_of(engine, tenant_id) -> list[SocIncident]:
    with Session(engine) as s:
        return list(s.exec(select(SocIncident).where(SocIncident.tenant_id == tenant_id)))


def tickets_of(engine, tenant_id) -> list[Ticket]:
    with Session(engine) as s:
        return list(s.exec(select(Ticket).where(Ticket.tenant_id == tenant_id)))


async def state_of(env, inc: SocIncident):
    return await env.client.get_workflow_handle(f"incident-{inc.key}").query(IncidentWorkflow.state)


async def test_a_threats_page_all_resolved_on_a_decommissioned_agent_opens_informational_tickets_only(
    api, env, engine, soc
):
    """The issue's case: four mitigated and resolved threats on a decommissioned agent of a critical server, with an
    on-call chain configured. Before: three P1 tickets, pages and disconnect proposals."""
    await configure(api, soc, oncall_chain=[PAGER_1])
    host = soc["server"].upper()  # the vendor's spelling; the inventory has it in lower case
    page = load("sentinelone_resolved_on_decommissioned_agent.json")
    page["data"] = [on_host(t, host) for t in page["data"]]
    with respx.mock(assert_all_called=False) as mock:
        pager = mock.post(PAGER_1).mock(return_value=httpx.Response(202))
        assert (await deliver(api, env, soc["integration"], page)).status_code == 202
        tenant_id = soc["tenant"].id
        rows = await eventually(
            lambda: (
                (r := incidents_of(engine, tenant_id))
                and len(r) == 3
                and sum(i.alert_count for i in r) == 4
                and all(ticket_of(engine, i) for i in r)
                and r
            )
        )
        for inc in rows:
            state = await state_of(env, inc)
            assert state.paging is None and state.containment is None
        assert pager.call_count == 0

    assert {i.vendor_status for i in rows} == {"resolved"} and {i.priority for i in rows} == {"P4"}
    tickets = tickets_of(engine, tenant_id)
    assert len(tickets) == 3 and {t.priority for t in tickets} == {Priority.P4}
    for t in tickets:
        assert t.title.endswith(f" auf {host} (SentinelOne: bereits behoben)"), t.title
        assert t.description.startswith("Zur Information: SentinelOne meldet diesen Alarm bereits behoben.")
        assert "keine Netztrennung" in t.description and "Agent: außer Betrieb genommen" in t.description
        assert "Konfidenz: malicious" in t.description and "90 %" not in t.description
        assert not any("Netzwerk trennen" in n or "alarmiert" in n for n in notes(engine, t.id))
    # Recorded for reports: the incident list shows them.
    listed = await api.get("/api/v1/soc/incidents", params={"tenant_id": str(tenant_id)}, headers=auth(soc["tech"]))
    assert listed.status_code == 200, listed.text
    assert sum(1 for i in listed.json()["items"] if i["vendor_status"] == "resolved") == 3


async def test_with_policy_none_a_false_positive_is_recorded_without_ticket_until_the_vendor_reopens_it(
    api, env, engine, soc
):
    await configure(api, soc, handled_threats="none")
    host = soc["workstation"]
    fp = on_host(load("sentinelone_false_positive.json"), host)
    assert (await deliver(api, env, soc["integration"], fp)).status_code == 202
    inc = await eventually(lambda: (i := incident(engine, host)) and i.alert_count == 1 and i)
    assert inc.ticket_id is None and inc.vendor_status == "suppressed" and inc.priority == "P4"
    assert tickets_of(engine, soc["tenant"].id) == []

    # The analyst revises the verdict at the console: the threat is open again and now needs a ticket.
    reopened = later(fp, minutes=10, analystVerdict="true_positive", mitigationStatus="not_mitigated")
    reopened["threatInfo"]["incidentStatus"] = "unresolved"
    assert (await deliver(api, env, soc["integration"], reopened)).status_code == 202
    tkt = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    assert tkt.priority == Priority.P2 and "bereits" not in tkt.title and tkt.title.endswith(f"auf {host}")
    assert "Status bei SentinelOne: offen" in tkt.description
    assert len(tickets_of(engine, soc["tenant"].id)) == 1


async def test_an_open_threat_on_a_decommissioned_agent_pages_but_proposes_no_containment(api, env, engine, soc):
    await configure(api, soc, oncall_chain=[PAGER_1])
    host = soc["server"]
    threat = on_host(load("sentinelone_open_on_decommissioned_agent.json"), host)
    with respx.mock(assert_all_called=False) as mock:
        pager = mock.post(PAGER_1).mock(return_value=httpx.Response(202))
        assert (await deliver(api, env, soc["integration"], threat)).status_code == 202
        tkt = await eventually(lambda: ticket_of(engine, incident(engine, host)))
        assert tkt.priority == Priority.P1
        await eventually(lambda: pager.call_count == 1)
        state = await state_of(env, incident(engine, host))
        assert state.paging is not None and state.containment is None
        r = await api.post(f"/api/v1/soc/incidents/{state.key}/acknowledge", headers=auth(soc["tech"]))
        assert r.status_code == 200, r.text
    assert not any("Netzwerk trennen" in n for n in notes(engine, tkt.id))


async def test_an_unhandled_alert_in_an_informational_incident_asks_to_check_the_priority(api, env, engine, soc):
    host = soc["workstation"]
    mitigated = on_host(load("sentinelone_mitigated_unresolved.json"), host)
    assert (await deliver(api, env, soc["integration"], mitigated)).status_code == 202
    tkt = await eventually(lambda: ticket_of(engine, incident(engine, host)))
    assert tkt.priority == Priority.P4 and tkt.title.endswith("(SentinelOne: bereits eingedämmt)")

    # The same file detected again on the same device, and this time S1 did not stop it: one incident, one note.
    again = copy.deepcopy(mitigated)
    again["id"] = again["threatInfo"]["threatId"] = "1801234567890000124"
    again["threatInfo"]["mitigationStatus"] = "not_mitigated"
    assert (await deliver(api, env, soc["integration"], again)).status_code == 202
    text = await eventually(lambda: (n := notes(engine, tkt.id)) and any(x.startswith("Achtung") for x in n) and n)
    warning = next(x for x in text if x.startswith("Achtung"))
    assert "1801234567890000124" in warning and "bitte Priorität prüfen" in warning
    assert text.index(warning) > next(i for i, x in enumerate(text) if "Alarm sentinelone 1801234567890000124" in x)
    assert len(tickets_of(engine, soc["tenant"].id)) == 1


async def test_rocketcyber_severity_decides_and_the_ticket_shows_description_remediation_and_events(
    api, env, engine, soc
):
    r = await api.post(
        "/api/v1/soc/integrations",
        headers=auth(soc["admin"]),
        json={
            "tenant_id": str(soc["tenant"].id),
            "source": "rocketcyber",
            "name": "RocketCyber",
            "vendor_tenant_ids": ["1234567"],
        },
    )
    assert r.status_code == 201, r.text
    page = load("rocketcyber_incidents_severities.json")
    assert (await deliver(api, env, r.json(), page)).status_code == 202
    tenant_id = soc["tenant"].id
    tickets = await eventually(lambda: (t := tickets_of(engine, tenant_id)) and len(t) == 4 and t)
    by_title = {t.title: t for t in tickets}
    assert {title: t.priority for title, t in by_title.items()} == {
        "[RocketCyber] Ransomware Behavior Detected auf FIN-FS-01": Priority.P3,
        "[RocketCyber] Suspicious PowerShell Execution auf CONTOSO-WS-042": Priority.P3,
        "[RocketCyber] Office 365 Login From Unusual Country": Priority.P4,
        "[RocketCyber] Windows Defender Disabled auf CONTOSO-WS-011 (RocketCyber: bereits behoben)": Priority.P4,
    }
    critical = by_title["[RocketCyber] Ransomware Behavior Detected auf FIN-FS-01"].description
    assert "Schweregrad: Critical, Einstufung: suspicious" in critical
    assert "Betroffene Geräte: FIN-FS-01, CONTOSO-WS-017, CONTOSO-WS-023" in critical
    assert "Ereignisse: 412" in critical
    assert "Beschreibung: Mass file renames with the extension .lockbit" in critical
    assert "Empfehlung des Herstellers: Disconnect the affected devices" in critical
    # The incident knows every device of the ransomware incident, one key each; the others name one or none.
    rows = await eventually(lambda: (i := incidents_of(engine, tenant_id)) and len(i) == 4 and i)  # written after
    devices = sorted((i.device_keys or []) for i in rows)
    assert devices == [
        [],
        ["host:contoso-ws-011"],
        ["host:contoso-ws-042"],
        ["host:fin-fs-01", "host:contoso-ws-017", "host:contoso-ws-023"],
    ]
