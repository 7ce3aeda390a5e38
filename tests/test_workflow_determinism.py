"""Workflow code is deterministic, checked on the source (tests/architecture/determinism.py): the worker runs workflows
without Temporal's sandbox, so this check and the replay tests (tests/workflows/test_replay.py) are what keep
`workflows/` and `domain/` free of clocks, randomness, I/O and state shared between runs."""

import textwrap
from pathlib import Path

import pytest
from temporalio.worker import UnsandboxedWorkflowRunner

from tests.architecture.determinism import nondeterminism

ROOT = Path(__file__).resolve().parents[1]


def test_workflow_code_has_no_clock_randomness_io_or_shared_state() -> None:
    problems = nondeterminism(ROOT, ("workflows", "domain"), ("workflows",))
    if problems:
        pytest.fail("not deterministic:\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)


def test_the_worker_runs_workflows_unsandboxed_which_this_check_replaces() -> None:
    from worker import workflow_runner

    assert isinstance(workflow_runner(), UnsandboxedWorkflowRunner)


def scan(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return nondeterminism(tmp_path, ("workflows", "domain"), ("workflows",))


CLEAN = """\
    import asyncio
    from datetime import datetime, timedelta
    from uuid import UUID

    from temporalio import workflow
    from temporalio.exceptions import ApplicationError

    from domain.rules import LIMITS

    RETRY_AFTER = timedelta(minutes=5)


    @workflow.defn
    class Flow:
        def __init__(self) -> None:
            self._seen: list[UUID] = []

        @workflow.run
        async def run(self) -> datetime:
            self._seen.append(workflow.uuid4())
            await asyncio.sleep(1)
            return workflow.now()
"""


def test_clean_workflow_code_passes(tmp_path: Path) -> None:
    assert scan(tmp_path, {"workflows/flow.py": CLEAN, "domain/rules.py": "LIMITS = {'P1': 60}\n"}) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from datetime import datetime\nx = lambda: datetime.now()\n", "calls datetime.now(): the wall clock"),
        ("import datetime\ndef f():\n    return datetime.date.today()\n", "calls datetime.date.today()"),
        ("import uuid\ndef f():\n    return uuid.uuid4()\n", "calls uuid.uuid4(): a random id"),
        ("from uuid import uuid4\n", "imports uuid.uuid4: a random id"),
        ("import random\n", "imports random: not a module workflow code may use"),
        ("import time\n", "imports time: not a module"),
        ("from sqlmodel import Session\n", "imports sqlmodel.Session: not a module"),
        ("import httpx\n", "imports httpx"),
        ("from temporalio.client import Client\n", "only temporalio.workflow, .exceptions and .common"),
        ("def f():\n    return open('x').read()\n", "calls open(): file I/O"),
        ("COUNT = 0\ndef f():\n    global COUNT\n    COUNT += 1\n", "`global` state"),
    ],
)
def test_each_rule_names_what_it_found(tmp_path: Path, source: str, expected: str) -> None:
    for package in ("workflows", "domain"):
        problems = scan(tmp_path / package, {f"{package}/mod.py": source})
        assert len(problems) == 1 and expected in problems[0], (package, problems)
        assert problems[0].startswith(f"{package}/mod.py:")


@pytest.mark.parametrize(
    "source",
    [
        "SEEN = []\n",
        "CACHE: dict[str, int] = {}\n",
        "from collections import defaultdict\nBY_KEY = defaultdict(list)\n",
        "class Flow:\n    pending = set()\n",
    ],
)
def test_mutable_state_shared_by_runs_is_refused_in_workflows(tmp_path: Path, source: str) -> None:
    problems = scan(tmp_path, {"workflows/mod.py": source})
    assert len(problems) == 1 and "shared by every workflow run" in problems[0]
    # domain/ keeps read-only lookup tables at module level; only `global` (assignment) is refused there.
    assert scan(tmp_path / "d", {"domain/mod.py": source}) == []
