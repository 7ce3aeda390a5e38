"""Schemathesis over every operation of the API's OpenAPI schema: the real app served by uvicorn, a database of its
own, the time-skipping Temporal server with the hub's workers; as an MSP admin and as a customer user.

What must hold for every generated input: no 5xx, apart from a 503 saying the workflow engine did not answer (the
documented outage answer), no request left without an answer, and every answer in the shape the schema documents.
Fixed seed, derandomized: `make test` runs PSA_FUZZ_EXAMPLES (20) examples per operation on SQLite; `make fuzz`
runs many more, on PostgreSQL as well (PSA_FUZZ_DATABASES).
"""

import asyncio
import json
import os
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import pytest
import schemathesis
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from schemathesis.engine import events, from_schema
from sqlalchemy import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.problems import problem_response
from bench.sla_bench import fresh_database
from domain.roles import Role
from hub.config import Settings
from hub.db import make_engine
from hub.temporal import register_search_attributes
from tests.conftest import POSTGRES_URL, binary
from tests.factories import make_tenant, make_user
from worker import build_workers

EXAMPLES = int(os.environ.get("PSA_FUZZ_EXAMPLES", "20"))
SEED = int(os.environ.get("PSA_FUZZ_SEED", "14"))
DATABASES = os.environ.get("PSA_FUZZ_DATABASES", "sqlite").split()


@dataclass
class Finding:
    operation: str
    request: str
    status: int
    answer: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.request}\n  -> {self.status} {self.answer}"


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[Finding] = field(default_factory=list)
    schema_violations: list[Finding] = field(default_factory=list)
    engine_errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.operations)} operations, {self.cases} cases {dict(self.phases)}, "
            f"statuses {dict(sorted(self.statuses.items()))}, "
            f"{len(self.server_errors)} 5xx (Temporal's 503 apart), {len(self.schema_violations)} schema violations, "
            f"{len(self.engine_errors)} requests without an answer or engine errors"
        )


def temporal_outage(status: int, body: bytes) -> bool:
    """The one acceptable 5xx: a 503 problem saying the workflow engine did not answer (api/deps.py, the
    WorkflowUnavailable handler in api/problems.py)."""
    if status != 503:
        return False
    try:
        detail = json.loads(body)["detail"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(detail, str) and ("Temporal" in detail or "the request may still take effect" in detail)


def _finding(label: str, interaction, answer: str) -> Finding:  # noqa: ANN001 - schemathesis' recorded interaction
    request, response = interaction.request, interaction.response
    body = (request.body or b"")[:400].decode("utf-8", "replace")
    return Finding(label, f"{request.method} {request.uri} {body}".strip(), response.status_code, answer[:400])


def run_schemathesis(schema: dict, base_url: str, api_key: str, examples: int, coverage: bool = True) -> Tally:
    """One schemathesis run over every operation; every answer it got is judged here, not only the first failure
    per operation."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "headers": {"X-API-Key": api_key},
            "continue-on-failure": True,
            "workers": 1,
            "request-timeout": 60,  # a request that hangs this long is wedged: reported as an engine error
            "suppress-health-check": ["all"],
            "cache": {"enabled": False},
            "generation": {"max-examples": examples, "deterministic": True, "no-shrink": True, "database": "none"},
            "phases": {"coverage": {"enabled": coverage}, "stateful": {"enabled": True}},
            # 5xx are judged below from every recorded answer; schemathesis checks the documented shapes.
            "checks": {"enabled": False, "response_schema_conformance": {"enabled": True}},
        }
    )
    tally = Tally()
    for event in from_schema(schemathesis.openapi.from_dict(schema, config=config)).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            recorder = event.recorder
            for case_id, interaction in recorder.interactions.items():
                response = interaction.response
                if response is None:
                    continue
                label = recorder.cases[case_id].value.operation.label  # a stateful scenario spans operations
                tally.operations.add(label)
                tally.cases += 1
                tally.phases[event.phase.value] += 1
                tally.statuses[response.status_code] += 1
                if response.status_code >= 500 and not temporal_outage(response.status_code, response.content):
                    answer = response.content.decode("utf-8", "replace")
                    tally.server_errors.append(_finding(label, interaction, answer))
                for check in recorder.checks.get(case_id, []):
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        answer = f"{failure.title}: {failure.message}"
                        tally.schema_violations.append(_finding(label, interaction, answer))
        elif isinstance(event, events.NonFatalError):
            tally.engine_errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            tally.engine_errors.append(f"fatal: {event.exception!r}")
    return tally


def report(tally: Tally) -> str:
    lines = [tally.summary(), *tally.engine_errors]
    lines += [f"5xx {f}" for f in tally.server_errors] + [f"schema {f}" for f in tally.schema_violations]
    return "\n".join(lines)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """The app under uvicorn on this event loop, which the workers and the Temporal client share, as in `psa api`."""
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so, and without it every
    # keep-alive answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class Size(BaseModel):
    n: int


def flawed_app() -> FastAPI:
    """An app with an input that crashes it, an answer in a shape its schema does not allow, and Temporal's outage
    answer: what the fuzz test must tell apart."""
    app = FastAPI()

    @app.get("/items/{n}")
    async def item(n: int) -> dict:
        if n > 1000:
            raise RuntimeError("unguarded input")
        return {"n": n}

    @app.get("/sizes/{n}", response_model=Size)
    async def size(n: int) -> JSONResponse:
        return JSONResponse({"n": "odd" if n % 2 else n})

    @app.post("/tickets")
    async def ticket() -> JSONResponse:
        return problem_response(503, "Service Unavailable", "the workflow engine (Temporal) is not reachable")

    return app


async def test_the_fuzz_run_reports_crashes_and_wrong_shapes_and_lets_temporals_outage_pass():
    async with serve(flawed_app()) as url:
        app_schema = flawed_app().openapi()
        tally = await asyncio.to_thread(run_schemathesis, app_schema, url, "any", 10)
    assert tally.operations == {"GET /items/{n}", "GET /sizes/{n}", "POST /tickets"}
    assert tally.statuses[503] > 0, report(tally)  # the outage answers were seen, and not counted
    assert tally.server_errors and {f.operation for f in tally.server_errors} == {"GET /items/{n}"}, report(tally)
    assert all(f.status == 500 for f in tally.server_errors), report(tally)
    assert tally.schema_violations and {f.operation for f in tally.schema_violations} == {"GET /sizes/{n}"}


@pytest.fixture(scope="module", params=DATABASES)
def fuzz_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of its own: what the fuzzer writes must not reach the totals that other tests assert."""
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PSA_TEST_POSTGRES_URL not set")
    with fresh_database(POSTGRES_URL if request.param == "postgres" else None, tmp_path_factory.mktemp("fuzz")) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@dataclass
class Hub:
    url: str
    schema: dict
    keys: dict[Role, str]


@pytest.fixture(scope="module")
async def hub(fuzz_engine: Engine, worker_settings: Settings) -> AsyncIterator[Hub]:
    """The hub as `psa dev` runs it, on a Temporal test server of its own (workflows the fuzzer starts stay here)."""
    tenant = make_tenant(fuzz_engine)
    keys = {
        Role.MSP_ADMIN: make_user(fuzz_engine, Role.MSP_ADMIN)[1],
        Role.CUSTOMER_USER: make_user(fuzz_engine, Role.CUSTOMER_USER, tenant)[1],
    }
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=pydantic_data_converter
    )
    app = create_app(Settings(), engine=fuzz_engine, temporal=environment.client, clock=environment.get_current_time)
    try:
        await register_search_attributes(environment.client)
        with ThreadPoolExecutor(max_workers=8) as executor:
            async with AsyncExitStack() as stack:
                for w in build_workers(environment.client, fuzz_engine, executor, worker_settings):
                    await stack.enter_async_context(w)
                url = await stack.enter_async_context(serve(app))
                yield Hub(url, app.openapi(), keys)
    finally:
        await environment.shutdown()


# The customer run skips the coverage phase: a customer's role check refuses most operations before any input is
# read, so its thousands of boundary cases would test one 403 path; the fuzzing phase still covers every operation.
@pytest.mark.parametrize(("role", "coverage"), [(Role.MSP_ADMIN, True), (Role.CUSTOMER_USER, False)])
async def test_no_input_gets_a_server_error(hub: Hub, role: Role, coverage: bool, capsys: pytest.CaptureFixture):
    started = time.monotonic()
    tally = await asyncio.to_thread(run_schemathesis, hub.schema, hub.url, hub.keys[role], EXAMPLES, coverage)
    with capsys.disabled():  # the figures, also when the run passes
        print(f"\nfuzz as {role}, {EXAMPLES} examples, {time.monotonic() - started:.0f} s: {tally.summary()}")
    every_operation = {f"{m.upper()} {p}" for p, ops in hub.schema["paths"].items() for m in ops}
    assert tally.operations == every_operation, report(tally)
    assert not tally.engine_errors, report(tally)
    assert not tally.server_errors, report(tally)
    assert not tally.schema_violations, report(tally)
