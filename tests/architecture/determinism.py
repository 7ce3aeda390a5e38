"""The static determinism check: what the Temporal sandbox would catch at run time, checked on the source instead.

The worker runs workflows without the sandbox (worker.workflow_runner: the sandbox cost ~11 worker CPU-ms per ticket
start, more than half of it; bench/WORKER_CPU.md), and the sandbox never checked `domain/` anyway, which it passed
through. So every module that workflow code runs (`workflows/`, `domain/`) is held to these rules here:

- imports only from an allow-list of modules without I/O, clocks or randomness (a new one is added deliberately);
- no calls to the wall clock, random ids or the file system (`datetime.now()`, `date.today()`, `uuid.uuid4()`,
  `open()`, ...): workflow code takes `workflow.now()`, `workflow.uuid4()`, `workflow.random()`;
- no state shared between workflow runs of one process: no `global` statements, and in `workflows/` no mutable
  values (list, dict, set displays or constructors) at module level or as class attributes.

Each check returns `path:line: message` strings; the tests run it on this code base and on fake trees.
"""

import ast
from collections.abc import Iterable

from tests.architecture.scanners import SourceModule, absolute_import, iter_modules

# Top-level modules workflow code may import: the standard library's pure parts, the project's pure layers, and the
# libraries they use for data (pydantic, holidays tables, python-stdnum checks, the Temporal workflow API).
ALLOWED_IMPORTS = frozenset(
    {
        "__future__",
        "abc",
        "asyncio",
        "base64",
        "binascii",
        "bisect",
        "calendar",
        "collections",
        "contextlib",
        "copy",
        "dataclasses",
        "datetime",
        "decimal",
        "email",
        "enum",
        "fractions",
        "functools",
        "hashlib",
        "heapq",
        "hmac",
        "html",
        "ipaddress",
        "itertools",
        "json",
        "math",
        "operator",
        "re",
        "statistics",
        "string",
        "textwrap",
        "types",
        "typing",
        "typing_extensions",
        "unicodedata",
        "uuid",
        "zoneinfo",
        "annotated_types",
        "holidays",
        "pydantic",
        "stdnum",
        "temporalio",
        "domain",
        "workflows",
    }
)
# Names that read the clock, make randomness or touch files, by the dotted name a call spells.
FORBIDDEN_CALLS = {
    "datetime.now": "the wall clock: use workflow.now()",
    "datetime.utcnow": "the wall clock: use workflow.now()",
    "datetime.today": "the wall clock: use workflow.now()",
    "date.today": "the wall clock: use workflow.now()",
    "datetime.datetime.now": "the wall clock: use workflow.now()",
    "datetime.date.today": "the wall clock: use workflow.now()",
    "uuid.uuid1": "a random id: use workflow.uuid4()",
    "uuid.uuid4": "a random id: use workflow.uuid4()",
    "uuid1": "a random id: use workflow.uuid4()",
    "uuid4": "a random id: use workflow.uuid4()",
    "open": "file I/O",
    "input": "console I/O",
    "eval": "code from data",
    "exec": "code from data",
    "breakpoint": "a debugger stop",
}
# Temporal modules that are not the workflow API (clients, workers, the testing server) are I/O.
TEMPORAL_ALLOWED = ("temporalio.workflow", "temporalio.exceptions", "temporalio.common")
MUTABLE_CONSTRUCTORS = frozenset({"list", "dict", "set", "bytearray", "defaultdict", "Counter", "OrderedDict", "deque"})


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)) is not None:
        return f"{base}.{node.attr}"
    return None


def _imports(module: SourceModule) -> Iterable[tuple[int, str]]:
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = absolute_import(module, node)
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if base else alias.name


def _import_problem(name: str) -> str | None:
    top = name.split(".")[0]
    if top not in ALLOWED_IMPORTS:
        return f"imports {name}: not a module workflow code may use (I/O, clock or randomness?)"
    if top == "temporalio" and name != "temporalio" and not name.startswith(TEMPORAL_ALLOWED):
        return f"imports {name}: only temporalio.workflow, .exceptions and .common belong in workflow code"
    if name in ("uuid.uuid1", "uuid.uuid4"):
        return f"imports {name}: a random id: use workflow.uuid4()"
    return None


def _is_mutable(value: ast.expr | None) -> bool:
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    return isinstance(value, ast.Call) and (_dotted(value.func) or "").split(".")[-1] in MUTABLE_CONSTRUCTORS


def _shared_state(module: SourceModule) -> Iterable[tuple[int, str]]:
    bodies = [("module level", module.tree.body)]
    bodies += [(f"class {n.name}", n.body) for n in ast.walk(module.tree) if isinstance(n, ast.ClassDef)]
    for where, body in bodies:
        for stmt in body:
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            if _is_mutable(value):
                yield stmt.lineno, f"a mutable value at {where} is shared by every workflow run of the process"


def nondeterminism(root, packages: Iterable[str], workflow_packages: Iterable[str]) -> list[str]:  # noqa: ANN001
    """Problems in `packages` (all code workflows run); the shared-state rule for `workflow_packages` only (domain
    keeps read-only lookup tables at module level, which no code assigns to: `global` is refused everywhere)."""
    workflow_packages = tuple(workflow_packages)
    problems = []
    for module in iter_modules(root, packages):
        for line, name in _imports(module):
            if (problem := _import_problem(name)) is not None:
                problems.append(f"{module.where}:{line}: {problem}")
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and (name := _dotted(node.func)) in FORBIDDEN_CALLS:
                problems.append(f"{module.where}:{node.lineno}: calls {name}(): {FORBIDDEN_CALLS[name]}")
            elif isinstance(node, ast.Global):
                problems.append(f"{module.where}:{node.lineno}: `global` state is shared by every workflow run")
        if any(module.name == p or module.name.startswith(f"{p}.") for p in workflow_packages):
            problems += [f"{module.where}:{line}: {message}" for line, message in _shared_state(module)]
    return problems
