"""Architecture rules, checked statically (no Temporal server, no database):

- the import contract of pyproject.toml's [tool.importlinter] (`lint-imports`, also run by `make lint`);
- outside the worker, only @workflow.defn classes are imported from `workflows` (for typed handles), never their
  helpers or constants;
- every activity a workflow calls is registered with the worker on that workflow's task queue, no activity name is
  registered twice on one queue, and every activity name is defined once.

The scanners live in tests/architecture/scanners.py; the second half of this module tests them on fake trees.
"""

import importlib
import sys
import textwrap
import tomllib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from temporalio import activity, workflow

from tests.architecture.scanners import (
    NoTemporal,
    Registrations,
    WorkflowCode,
    activity_name,
    duplicate_activity_names,
    duplicate_registrations,
    lint_imports,
    registrations_from_build_workers,
    unregistered_activity_calls,
    workflow_imports_outside_worker,
)

ROOT = Path(__file__).resolve().parents[1]
# Code that may hold a typed workflow handle but must not reach into workflow modules otherwise.
OUTSIDE_WORKER = ("api", "activities", "hub", "connectors", "models", "domain", "documents")
# Where activity-name constants may be defined (the convention puts them in domain/).
PRODUCTION = ("domain", "documents", "workflows", "activities", "api", "models", "connectors", "hub", "worker")


def fail_on(problems: list[str], rule: str) -> None:
    if problems:
        pytest.fail(f"{rule} ({len(problems)}):\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)


# --- the rules, on this code base ---------------------------------------------------------------------------------


def test_import_contract_holds() -> None:
    result = lint_imports(ROOT, "--no-logo")
    if result.returncode != 0:
        pytest.fail(f"lint-imports exited {result.returncode}:\n{result.stdout}\n{result.stderr}", pytrace=False)


def test_only_workflow_classes_are_imported_from_workflows_outside_the_worker() -> None:
    fail_on(
        workflow_imports_outside_worker(ROOT, OUTSIDE_WORKER),
        "imports from workflows/ of what is no @workflow.defn class (move shared code to domain/ or hub/temporal/)",
    )


def names_by_queue(registrations: Registrations) -> dict[str, tuple[list[str], list[str | None]]]:
    return {
        queue: (sorted(cls.__qualname__ for cls in workflows), sorted(map(activity_name, activities), key=str))
        for queue, (workflows, activities) in registrations.items()
    }


@pytest.fixture(scope="module")
def registrations() -> Iterator[Registrations]:
    """The task queues, workflows and activities exactly as worker.build_workers registers them."""
    import worker  # here, not at the top: an import error fails these tests only
    from hub.config import Settings

    engine = create_engine("sqlite://")  # never connected: the activities only keep it
    settings = Settings(_env_file=None)
    with ThreadPoolExecutor(max_workers=1) as executor:
        found = registrations_from_build_workers(worker.build_workers, NoTemporal(), engine, executor, settings)
    if hasattr(worker, "registrations"):  # the mapping, if worker.py exposes it, must be what build_workers uses
        assert names_by_queue(worker.registrations(engine, NoTemporal(), settings)) == names_by_queue(found)
    yield found
    engine.dispose()


def test_every_called_activity_is_registered_on_the_workflows_task_queue(registrations: Registrations) -> None:
    fail_on(
        unregistered_activity_calls(WorkflowCode(ROOT), registrations),
        "activity calls that the worker cannot serve",
    )


def test_no_activity_is_registered_twice_on_one_task_queue(registrations: Registrations) -> None:
    fail_on(duplicate_registrations(registrations), "duplicate registrations")


def test_every_activity_name_is_defined_once() -> None:
    fail_on(duplicate_activity_names(ROOT, PRODUCTION), "activity names defined more than once")


# --- the scanners, on fake trees: each rule must be able to fail ---------------------------------------------------


class FakeTree:
    """Packages under tmp_path, named with a unique prefix so that they never meet the real ones in sys.modules."""

    def __init__(self, root: Path):
        self.root = root
        self.prefix = f"fake{uuid.uuid4().hex[:8]}"

    def name(self, package: str) -> str:
        return f"{self.prefix}_{package}"

    def write(self, files: dict[str, str]) -> None:
        """Write `files` ({path: source}); `pkg_` in paths and sources stands for the unique prefix."""
        for path, source in files.items():
            target = self.root / path.replace("pkg_", f"{self.prefix}_")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(source).replace("pkg_", f"{self.prefix}_"), encoding="utf-8")
        importlib.invalidate_caches()


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTree]:
    tree = FakeTree(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tree
    for name in [name for name in sys.modules if name.startswith(tree.prefix)]:
        del sys.modules[name]


FLOWS = """\
    from datetime import timedelta

    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from pkg_domain.names import SUMMARY_ACTIVITY, FlowActivity
        from pkg_workflows.helpers import shared

    T = timedelta(seconds=1)
    LOCAL_NAME = "flow.local"


    def helper() -> int:
        return 1


    class Plain:
        pass


    @workflow.defn
    class Flow:
        @workflow.run
        async def run(self) -> None:
            await workflow.execute_activity(FlowActivity.RECORD, start_to_close_timeout=T)
            await workflow.execute_local_activity(LOCAL_NAME, start_to_close_timeout=T)
            await self._write(FlowActivity.WRITE, 1)
            workflow.start_activity(activity=SUMMARY_ACTIVITY, start_to_close_timeout=T)
            await shared()
            name = "flow.record"
            await workflow.execute_activity(name, start_to_close_timeout=T)

        async def _write(self, activity: str, arg: object) -> None:
            await workflow.execute_activity(activity, arg, start_to_close_timeout=T)
"""
OTHERS = """\
    from datetime import timedelta

    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from pkg_domain.names import FlowActivity
        from pkg_workflows.helpers import run_named


    @workflow.defn(name="Other")
    class OtherFlow:
        @workflow.run
        async def run(self) -> None:
            await workflow.execute_activity(FlowActivity.RECORD, start_to_close_timeout=timedelta(seconds=1))
            await run_named(FlowActivity.WRITE)


    @workflow.defn
    class Orphan:
        @workflow.run
        async def run(self) -> None:
            pass
"""
HELPERS = """\
    from datetime import timedelta

    from temporalio import workflow

    from pkg_domain.names import SHARED_ACTIVITY


    async def shared() -> None:
        await workflow.execute_activity(SHARED_ACTIVITY, start_to_close_timeout=timedelta(seconds=1))


    async def run_named(name: str) -> None:
        await workflow.execute_activity(name, start_to_close_timeout=timedelta(seconds=1))
"""
NAMES = """\
    from enum import StrEnum


    class FlowActivity(StrEnum):
        RECORD = "flow.record"
        WRITE = "flow.write"


    class Plain:
        RECORD = "flow.record"  # not an *Activity class: not a name definition


    SUMMARY_ACTIVITY = "flow.summary"
    SHARED_ACTIVITY = "flow.shared"
    WRITE_ACTIVITY = FlowActivity.WRITE  # an alias defines nothing
"""


@pytest.fixture
def fake_project(fake: FakeTree) -> FakeTree:
    fake.write(
        {
            "pkg_domain/__init__.py": "",
            "pkg_domain/names.py": NAMES,
            "pkg_workflows/__init__.py": "",
            "pkg_workflows/helpers.py": HELPERS,
            "pkg_workflows/flows.py": FLOWS,
            "pkg_workflows/others.py": OTHERS,
        }
    )
    return fake


def test_scanner_reports_workflow_helpers_imported_outside_the_worker(fake_project: FakeTree) -> None:
    fake_project.write(
        {
            "pkg_api/__init__.py": "",
            "pkg_api/routes.py": """\
                from pkg_workflows.flows import Flow
                from pkg_workflows.flows import LOCAL_NAME, helper
                from pkg_workflows import flows
                import pkg_workflows.flows


                def handler():
                    from pkg_workflows.flows import Plain

                    return Flow, LOCAL_NAME, helper, flows, Plain
            """,
            "pkg_hub/__init__.py": "",
            "pkg_hub/client.py": "from pkg_workflows.flows import Flow as TypedHandle\n",
        }
    )
    workflows = fake_project.name("workflows")
    problems = workflow_imports_outside_worker(fake_project.root, [fake_project.name("api")], workflows)
    routes = f"{fake_project.name('api')}/routes.py"
    assert problems == [
        f"{routes}:2: imports LOCAL_NAME from {workflows}.flows, a str constant",
        f"{routes}:2: imports helper from {workflows}.flows, a function",
        f"{routes}:3: imports flows from {workflows}, a module",
        f"{routes}:4: `import {workflows}.flows` imports a whole workflows module",
        f"{routes}:8: imports Plain from {workflows}.flows, a class without @workflow.defn",
    ]
    assert workflow_imports_outside_worker(fake_project.root, [fake_project.name("hub")], workflows) == []


def fake_activity(name: str) -> Callable[..., Any]:
    @activity.defn(name=name)
    def fn() -> None: ...

    return fn


def test_scanner_resolves_activity_names_a_workflow_calls(fake_project: FakeTree) -> None:
    code = WorkflowCode(fake_project.root, fake_project.name("workflows"))
    flows = sys.modules[fake_project.name("workflows.flows")]
    called = {(cls.__name__, call.name) for call in code.activity_calls() for cls in code.owners(call)}
    assert called == {
        ("Flow", "flow.record"),
        ("Flow", "flow.local"),
        ("Flow", "flow.write"),  # passed through self._write
        ("Flow", "flow.summary"),
        ("Flow", "flow.shared"),  # in a helper module that flows.py imports
        ("Flow", None),  # a local variable
        ("OtherFlow", "flow.record"),
        ("OtherFlow", "flow.shared"),  # others.py imports the helper module too: it may call any of it
        ("Orphan", "flow.shared"),
        ("OtherFlow", "flow.write"),  # passed to a helper function of another module
    }
    assert set(code.workflow_classes) == {
        flows.Flow,
        sys.modules[fake_project.name("workflows.others")].OtherFlow,
        sys.modules[fake_project.name("workflows.others")].Orphan,
    }


def test_scanner_reports_unregistered_and_unresolvable_activity_calls(fake_project: FakeTree) -> None:
    code = WorkflowCode(fake_project.root, fake_project.name("workflows"))
    flows, others = (sys.modules[fake_project.name(f"workflows.{m}")] for m in ("flows", "others"))
    registrations: Registrations = {
        "a": ([flows.Flow], [fake_activity(n) for n in ("flow.record", "flow.write", "flow.local", "flow.summary")]),
        "b": ([others.OtherFlow], [fake_activity("flow.shared"), fake_activity("flow.write")]),
    }
    problems = unregistered_activity_calls(code, registrations)
    wf = fake_project.name("workflows")
    assert len(problems) == 4, problems
    assert f"{wf}/others.py: workflow Orphan is registered on no task queue" in problems
    assert any(p.startswith(f"{wf}/flows.py:31: `name` is a local variable") for p in problems), problems
    assert (
        f"{wf}/helpers.py:9: Flow calls activity 'flow.shared', which is not registered on its task queue 'a'"
        in problems
    )
    assert (
        f"{wf}/others.py:14: OtherFlow calls activity 'flow.record', which is not registered on its task queue 'b'"
        in problems
    )
    # The name passed through self._write is resolved at the call that passes it.
    registrations["a"][1].remove(next(fn for fn in registrations["a"][1] if activity_name(fn) == "flow.write"))
    assert any(
        p.startswith(
            f"{wf}/flows.py:27 (passed through _write() to the call at {wf}/flows.py:34): Flow calls "
            "activity 'flow.write'"
        )
        for p in unregistered_activity_calls(code, registrations)
    )
    registrations["b"][1].pop()  # flow.write, which OtherFlow passes to helpers.run_named
    assert any(
        p.startswith(
            f"{wf}/others.py:15 (passed through run_named() to the call at {wf}/helpers.py:13): OtherFlow calls "
            "activity 'flow.write'"
        )
        for p in unregistered_activity_calls(code, registrations)
    )


@workflow.defn(name="Inline")
class InlineWorkflow:
    @workflow.run
    async def run(self) -> None:
        pass


def test_scanner_reports_duplicate_registrations() -> None:
    def undecorated() -> None: ...

    registrations: Registrations = {
        "a": ([InlineWorkflow], [fake_activity("x"), fake_activity("y")]),
        "b": ([InlineWorkflow, InlineWorkflow], [fake_activity("x"), fake_activity("x"), undecorated]),
    }
    problems = duplicate_registrations(registrations)
    assert [p.split(" (")[0] for p in problems] == [
        "task queue 'b': test_scanner_reports_duplicate_registrations.<locals>.undecorated is registered as an "
        "activity but has no @activity.defn",
        "task queue 'b': activity 'x' is registered 2 times",
        "task queue 'b': workflow 'Inline' is registered 2 times",
    ]


def test_scanner_reports_activity_names_defined_twice(fake_project: FakeTree) -> None:
    domain = fake_project.name("domain")
    assert duplicate_activity_names(fake_project.root, [domain]) == []
    fake_project.write({"pkg_domain/more.py": 'RECORD_AGAIN_ACTIVITY = "flow.record"\n'})
    assert duplicate_activity_names(fake_project.root, [domain]) == [
        f"activity name 'flow.record' is defined 2 times: RECORD_AGAIN_ACTIVITY ({domain}/more.py:1), "
        f"FlowActivity.RECORD ({domain}/names.py:5)"
    ]


def test_registrations_are_recorded_from_build_workers_without_a_server(fake: FakeTree) -> None:
    fake.write(
        {
            "pkg_worker.py": """\
                from temporalio.worker import Worker


                def build_workers(client, workflows, activities):
                    return [Worker(client, task_queue="a", workflows=workflows, activities=activities)]
            """
        }
    )
    build_workers = importlib.import_module(fake.name("worker")).build_workers
    record = fake_activity("x")
    assert registrations_from_build_workers(build_workers, NoTemporal(), [InlineWorkflow], [record]) == {
        "a": ([InlineWorkflow], [record])
    }


def test_import_contract_reports_forbidden_imports(tmp_path: Path) -> None:
    """The project's own contracts, on stubs of its root packages: clean, then with forbidden imports."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "worker.py").write_text("")
    args = (str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo")

    clean = lint_imports(tmp_path, *args)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (tmp_path / "domain" / "rules.py").write_text("from models import tables\n")
    (tmp_path / "models" / "tables.py").write_text("")
    (tmp_path / "api" / "routes.py").write_text("import worker\n")
    (tmp_path / "workflows" / "flow.py").write_text("import domain.rules\n")  # indirect: workflows -> ... -> models
    broken = lint_imports(tmp_path, *args)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    report = " ".join(broken.stdout.split())
    for expected in (
        "domain is not allowed to import models: - domain.rules -> models.tables (l.1)",
        "api is not allowed to import worker: - api.routes -> worker (l.1)",
        "workflows is not allowed to import models: - workflows.flow -> domain.rules (l.1) domain.rules -> "
        "models.tables (l.1)",
    ):
        assert expected in report, broken.stdout
