"""`qbr.summarize`: the real `openai` client against respx. A summary whose numbers are all the KPIs' goes into the
deck; one with an invented number, an LLM error or no LLM at all gives the rule-based summary."""

import json
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

import activities.qbr.summary as qbr_summary
from activities.qbr.summary import QbrSummaryActivities
from domain.qbr.kpis import compute_kpis
from domain.qbr.recommendations import executive_summary
from domain.qbr.summary import ExecutiveSummary
from hub.config import Settings
from tests.activities import test_soc_summary
from tests.activities.test_soc_summary import KEY, MODEL, Recorder, settings
from tests.connectors.test_llm import api_error, completion
from tests.domain.qbr.facts import current, previous

GOOD = (
    "Im Quartal Q4 2026 wurden 4 Tickets eröffnet und 3 gelöst.\n"
    "Die SLA-Erfüllung bei der Reaktion lag bei 75,0 %, bei der Lösung bei 50,0 %.\n"
    "Das Stundenkontingent war zu 62,5 % genutzt."
)
chat = test_soc_summary.chat  # the respx route of the Chat Completions endpoint (a fixture)
INVENTED = GOOD + "\nDie Kundenzufriedenheit stieg auf 98 %."


@pytest.fixture(scope="module")
def kpis():
    return compute_kpis(current(), previous(), "K10001", "Muster GmbH")


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(qbr_summary, "log", recorder)
    return recorder


async def summarize(kpis, **overrides: Any) -> ExecutiveSummary:  # noqa: ANN001
    return await ActivityEnvironment().run(QbrSummaryActivities(settings(**overrides)).summarize, kpis)


async def test_a_good_summary_goes_into_the_deck(chat, kpis, logs):
    chat.respond(200, json=completion(GOOD, model="llama3.1:8b"))
    result = await summarize(kpis)
    assert result == ExecutiveSummary(lines=GOOD.splitlines(), source="llm", model="llama3.1:8b")
    assert logs.warnings() == []
    body = json.loads(chat.calls.last.request.content)
    assert body["model"] == MODEL and chat.calls.last.request.headers["Authorization"] == f"Bearer {KEY}"
    assert json.loads(body["messages"][1]["content"])["customer_number"] == "K10001"


async def test_an_invented_number_falls_back_to_the_rules(chat, kpis, logs):
    chat.respond(200, json=completion(INVENTED))
    assert await summarize(kpis) == ExecutiveSummary(lines=executive_summary(kpis), source="rules")
    [warning] = logs.warnings()
    assert warning["reason"] == "SummaryRejected" and "98" in warning["error"]


async def test_an_llm_error_falls_back_without_leaking_the_key(chat, kpis, logs):
    chat.respond(401, json=api_error(f"Incorrect API key provided: {KEY}.", "invalid_request_error"))
    assert (await summarize(kpis)).source == "rules"
    [warning] = logs.warnings()
    assert warning["reason"] == "rejected" and KEY not in str(warning)


async def test_no_llm_configured_asks_nobody(chat, kpis):
    result = await ActivityEnvironment().run(QbrSummaryActivities(Settings(llm_base_url="")).summarize, kpis)
    assert result == ExecutiveSummary(lines=executive_summary(kpis), source="rules")
    assert chat.call_count == 0



async def test_an_english_deck_asks_for_english_and_falls_back_to_english_rules(chat, logs):
    english = compute_kpis(current().model_copy(update={"language": "en"}), previous(), "K10001", "Muster GmbH")
    good = "In Q4 2026, 4 tickets were opened and 3 resolved.\nSLA attainment for response was 75.0 %."
    chat.respond(200, json=completion(good))
    result = await summarize(english)
    assert result.source == "llm" and result.lines == good.splitlines()
    assert "in English" in json.loads(chat.calls.last.request.content)["messages"][0]["content"]
    chat.respond(200, json=completion(good + "\nCustomer satisfaction rose to 98 %."))
    fallback = await summarize(english)
    assert fallback == ExecutiveSummary(lines=executive_summary(english, "en"), source="rules")
    assert fallback.lines[0].startswith("In quarter 2026-Q4, 4 tickets were opened")
