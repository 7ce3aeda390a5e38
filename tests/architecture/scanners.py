"""The scanners behind tests/test_architecture.py.

They read the source tree with `ast` and import only the modules whose values they need (workflow classes,
activity-name constants); nothing connects to Temporal or a database. Each check returns its problems as
`path:line: message` strings (empty: the rule holds), so a test prints every violation at once. Roots and package
names are arguments, so the scanners' own tests run them on small fake trees under tmp_path.
"""

import ast
import enum
import importlib
import inspect
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import temporalio.activity
import temporalio.worker
import temporalio.workflow

# {task queue: (workflow classes, activity callables)}, as the worker registers them.
Registrations = dict[str, tuple[list[type], list[Callable[..., Any]]]]

# workflow.execute_activity, start_local_activity, execute_activity_method, ...: every way a workflow calls one.
ACTIVITY_STARTERS = frozenset(
    f"{verb}_{kind}activity{suffix}"
    for verb in ("execute", "start")
    for kind in ("", "local_")
    for suffix in ("", "_method", "_class")
)
FORWARDING_DEPTH = 5  # helper passing the name to a helper passing it on ...: give up after this many hops
Scope = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


# --- source modules --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class SourceModule:
    name: str  # dotted module name
    path: Path
    root: Path
    _tree: ast.Module | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def tree(self) -> ast.Module:
        if self._tree is None:
            self._tree = ast.parse(self.path.read_text(encoding="utf-8"), filename=str(self.path))
        return self._tree


def iter_modules(root: Path, packages: Iterable[str]) -> list[SourceModule]:
    """Every module of the given top-level packages (or single-file modules such as `worker`), found on disk."""
    modules = []
    for package in packages:
        single = root / f"{package}.py"
        if single.is_file():
            modules.append(SourceModule(package, single, root))
            continue
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules.append(SourceModule(".".join(parts), path, root))
    return modules


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def absolute_import(module: SourceModule, node: ast.ImportFrom) -> str:
    """The module a `from ... import` reads from, relative imports resolved against the importing module."""
    if not node.level:
        return node.module or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def is_workflow_class(value: object) -> bool:
    return inspect.isclass(value) and temporalio.workflow._Definition.from_class(value) is not None


def _kind(value: object) -> str:
    if isinstance(value, ModuleType):
        return "a module"
    if inspect.isclass(value):
        return "a class without @workflow.defn"
    if inspect.isroutine(value):
        return "a function"
    return f"a {type(value).__name__} constant"


# --- (a) only workflow classes leave the workflows package --------------------------------------------------------


def _not_a_workflow_class(source: str, name: str) -> str | None:
    """None when `from source import name` imports a @workflow.defn class, else what it imports instead."""
    if name == "*":
        return "a star import"
    try:
        module = importlib.import_module(source)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the finding
        return f"which cannot be imported ({type(exc).__name__}: {exc})"
    value = getattr(module, name, inspect.Parameter.empty)
    if value is inspect.Parameter.empty:
        try:
            value = importlib.import_module(f"{source}.{name}")
        except ImportError:
            return "a name it does not define"
    return None if is_workflow_class(value) else _kind(value)


def workflow_imports_outside_worker(root: Path, packages: Iterable[str], workflows: str = "workflows") -> list[str]:
    """Every import from the workflows package, in the given packages, of anything but a @workflow.defn class
    (the worker registers workflows; elsewhere a workflow class serves only typed handles)."""
    problems = []
    for module in iter_modules(root, packages):
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                problems.extend(
                    f"{module.where}:{node.lineno}: `import {alias.name}` imports a whole workflows module"
                    for alias in node.names
                    if in_package(alias.name, workflows)
                )
            elif isinstance(node, ast.ImportFrom) and in_package(source := absolute_import(module, node), workflows):
                problems.extend(
                    f"{module.where}:{node.lineno}: imports {alias.name} from {source}, {kind}"
                    for alias in node.names
                    if (kind := _not_a_workflow_class(source, alias.name))
                )
    return problems


# --- (b) the worker's registrations ------------------------------------------------------------------------------


class NoTemporal:
    """The client handed to build_workers by the test: workers are recorded, never run, so nothing may use it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AssertionError(f"client.{name} used while building the workers: the test has no Temporal server")


def registrations_from_build_workers(build_workers: Callable[..., Any], *args: Any) -> Registrations:
    """Call build_workers(*args) as production does, with temporalio's Worker replaced by a recorder of its
    arguments (a real Worker needs a connected client). Returns what each task queue got."""
    real = temporalio.worker.Worker
    signature = inspect.signature(real.__init__)
    recorded: list[Mapping[str, Any]] = []

    class RecordedWorker:
        def __init__(self, *a: Any, **kw: Any) -> None:
            recorded.append(signature.bind(self, *a, **kw).arguments)  # a wrong argument fails as it would

    targets = [temporalio.worker, inspect.getmodule(build_workers)]
    with ExitStack() as stack:
        for module in targets:
            if module is not None and getattr(module, "Worker", None) is real:
                stack.enter_context(mock.patch.object(module, "Worker", RecordedWorker))
        build_workers(*args)
    if not recorded:
        raise AssertionError(f"{build_workers.__qualname__} built no temporalio.worker.Worker")
    registrations: Registrations = {}
    for arguments in recorded:
        workflows, activities = registrations.setdefault(arguments["task_queue"], ([], []))
        workflows.extend(arguments.get("workflows", ()))
        activities.extend(arguments.get("activities", ()))
    return registrations


def activity_name(fn: Callable[..., Any]) -> str | None:
    """The name an activity is registered under (None: not an @activity.defn, or a dynamic activity)."""
    definition = temporalio.activity._Definition.from_callable(fn)
    return definition.name if definition is not None else None


def _describe(fn: object) -> str:
    return getattr(fn, "__qualname__", repr(fn))


def duplicate_registrations(registrations: Registrations) -> list[str]:
    """Activity or workflow names registered twice on one task queue, and callables that are no activity."""
    problems = []
    for queue, (workflows, activities) in registrations.items():
        problems.extend(
            f"task queue {queue!r}: {_describe(fn)} is registered as an activity but has no @activity.defn"
            for fn in activities
            if temporalio.activity._Definition.from_callable(fn) is None
        )
        names = Counter(name for name in map(activity_name, activities) if name is not None)
        for name, count in sorted(names.items()):
            if count > 1:
                owners = ", ".join(_describe(fn) for fn in activities if activity_name(fn) == name)
                problems.append(f"task queue {queue!r}: activity {name!r} is registered {count} times ({owners})")
        problems.extend(
            f"task queue {queue!r}: {_describe(cls)} is registered as a workflow but has no @workflow.defn"
            for cls in workflows
            if not is_workflow_class(cls)
        )
        workflow_names = Counter(
            temporalio.workflow._Definition.must_from_class(cls).name for cls in workflows if is_workflow_class(cls)
        )
        problems.extend(
            f"task queue {queue!r}: workflow {name!r} is registered {count} times"
            for name, count in sorted(workflow_names.items(), key=lambda item: str(item[0]))
            if count > 1
        )
    return problems


# --- (b) the activities each workflow calls ----------------------------------------------------------------------


@dataclass(eq=False)
class CallSite:
    module: SourceModule
    call: ast.Call
    scopes: tuple[Scope, ...]  # enclosing classes and functions, outermost first

    @property
    def where(self) -> str:
        return f"{self.module.where}:{self.call.lineno}"

    @property
    def callee(self) -> str | None:
        func = self.call.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None

    @property
    def top_class(self) -> str | None:
        return self.scopes[0].name if self.scopes and isinstance(self.scopes[0], ast.ClassDef) else None


@dataclass(eq=False)
class ActivityCall:
    site: CallSite  # the workflow.execute_activity(...) call
    name: str | None  # the activity name it calls, None when it cannot be resolved
    problem: str | None  # why not
    bound_at: CallSite  # where the name is written: the call itself, or the call handing it to a helper
    via: tuple[str, ...] = ()  # the helpers (functions, methods) the name was passed through

    def describe(self) -> str:
        if not self.via:
            return self.bound_at.where
        helpers = " -> ".join(f"{helper}()" for helper in reversed(self.via))
        return f"{self.bound_at.where} (passed through {helpers} to the call at {self.site.where})"


def _call_sites(module: SourceModule) -> list[CallSite]:
    sites = []

    def visit(node: ast.AST, scopes: tuple[Scope, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call):
                sites.append(CallSite(module, child, scopes))
            inner = (*scopes, child) if isinstance(child, Scope) else scopes
            visit(child, inner)

    visit(module.tree, ())
    return sites


def _first_argument(call: ast.Call) -> ast.expr | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    return next((kw.value for kw in call.keywords if kw.arg == "activity"), None)


def _parameters(function: Scope) -> list[str]:
    a = function.args  # type: ignore[union-attr]
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    return names + [p.arg for p in (a.vararg, a.kwarg) if p is not None]


def _assigns(function: Scope, name: str) -> bool:
    return any(
        isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
        for node in ast.walk(function)
    )


def _is_staticmethod(function: Scope) -> bool:
    decorators = getattr(function, "decorator_list", [])
    return any(isinstance(d, ast.Name | ast.Attribute) and ast.unparse(d).endswith("staticmethod") for d in decorators)


class WorkflowCode:
    """The workflows package, read once: its modules, their @workflow.defn classes and every call in them."""

    def __init__(self, root: Path, package: str = "workflows"):
        self.package = package
        self.modules = iter_modules(root, [package])
        self.by_name = {module.name: module for module in self.modules}
        self.problems: list[str] = []
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, dict[str, type]] = {}  # module name -> {class name: @workflow.defn class}
        for module in self.modules:
            try:
                imported = importlib.import_module(module.name)
            except Exception as exc:  # noqa: BLE001 - reported; its calls cannot be resolved
                self.problems.append(f"{module.where}:1: cannot be imported ({type(exc).__name__}: {exc})")
                continue
            self.namespaces[module.name] = vars(imported)
            self.classes[module.name] = {
                value.__qualname__: value
                for value in vars(imported).values()
                if is_workflow_class(value) and value.__module__ == module.name
            }
        self.sites = [site for module in self.modules for site in _call_sites(module)]

    @property
    def workflow_classes(self) -> dict[type, SourceModule]:
        return {cls: self.by_name[module] for module, found in self.classes.items() for cls in found.values()}

    def activity_calls(self) -> Iterator[ActivityCall]:
        for site in self.sites:
            if site.callee not in ACTIVITY_STARTERS:
                continue
            argument = _first_argument(site.call)
            if argument is None:
                yield ActivityCall(site, None, "the call has no activity argument", site)
            else:
                yield from self._resolve(argument, site, site, ())

    def _resolve(
        self, expr: ast.expr, origin: CallSite, context: CallSite, via: tuple[str, ...]
    ) -> Iterator[ActivityCall]:
        source = ast.unparse(expr)
        function = self._binding_function(expr, context)
        if function is None:
            name, problem = self._evaluate(expr, context)
            yield ActivityCall(origin, name, problem, context, via)
            return
        assert isinstance(expr, ast.Name)
        if expr.id not in _parameters(function):
            yield ActivityCall(origin, None, f"`{source}` is a local variable, not a constant", context, via)
            return
        if isinstance(function, ast.Lambda) or len(via) >= FORWARDING_DEPTH:
            yield ActivityCall(origin, None, f"`{source}` is passed in from where the test cannot follow", context, via)
            return
        callers = list(self._callers(function, context, expr.id))
        if not callers:
            problem = f"`{source}` is a parameter of {function.name}, which nothing in {self.package} calls"
            yield ActivityCall(origin, None, problem, context, via)
        for caller, argument in callers:
            if argument is None:
                problem = f"{function.name}() is called without a value for `{source}`"
                yield ActivityCall(origin, None, problem, caller, (*via, function.name))
            else:
                yield from self._resolve(argument, origin, caller, (*via, function.name))

    @staticmethod
    def _binding_function(expr: ast.expr, context: CallSite) -> Scope | None:
        """The enclosing function in which the name `expr` is a parameter or a local variable, if any."""
        if not isinstance(expr, ast.Name):
            return None
        for scope in reversed(context.scopes):
            if isinstance(scope, ast.ClassDef):
                continue  # a class body's names are not visible in its methods
            if expr.id in _parameters(scope) or _assigns(scope, expr.id):
                return scope
        return None

    def _callers(
        self, function: Scope, context: CallSite, parameter: str
    ) -> Iterator[tuple[CallSite, ast.expr | None]]:
        """Each call of `function` and the argument it passes for `parameter` (its default when it passes none).
        A method's calls: through an attribute (self.f, cls.f, Class.f) inside its class. A module-level function's:
        by its name in its module or wherever it is imported under that name, or as an attribute (module.f)."""
        assert not isinstance(function, ast.Lambda)
        depth = context.scopes.index(function)
        owner = context.scopes[depth - 1] if depth else None
        method = isinstance(owner, ast.ClassDef)
        defined = self.namespaces.get(context.module.name, {}).get(function.name) if depth == 0 else None
        a = function.args
        positional = [p.arg for p in (*a.posonlyargs, *a.args)]
        defaults = dict(zip(reversed(positional), reversed(a.defaults), strict=False))
        defaults |= {p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None}
        if method and not _is_staticmethod(function) and positional:
            positional = positional[1:]
        for site in self.sites:
            if site.callee != function.name:
                continue
            if method and not (isinstance(site.call.func, ast.Attribute) and owner in site.scopes):
                continue
            if not method and isinstance(site.call.func, ast.Name) and site.module is not context.module:
                if defined is None or self.namespaces.get(site.module.name, {}).get(function.name) is not defined:
                    continue
            index = positional.index(parameter) if parameter in positional else None
            argument: ast.expr | None = None
            if index is not None and len(site.call.args) > index:
                if not any(isinstance(arg, ast.Starred) for arg in site.call.args[: index + 1]):
                    argument = site.call.args[index]
            else:
                argument = next((kw.value for kw in site.call.keywords if kw.arg == parameter), None)
            if argument is None and parameter in defaults:
                yield context, defaults[parameter]
            else:
                yield site, argument

    def _evaluate(self, expr: ast.expr, context: CallSite) -> tuple[str | None, str | None]:
        """The activity name `expr` stands for, evaluated in its module's namespace: a string, a module constant
        or an enum member (whose value is the name)."""
        source = ast.unparse(expr)
        if not all(isinstance(node, ast.Name | ast.Attribute | ast.Constant | ast.Load) for node in ast.walk(expr)):
            return None, f"`{source}` is not a string, a module constant or an enum member"
        namespace = self.namespaces.get(context.module.name)
        if namespace is None:
            return None, f"`{source}` cannot be resolved: {context.module.name} cannot be imported"
        try:
            value = eval(compile(ast.Expression(body=expr), context.module.where, "eval"), dict(namespace))  # noqa: S307
        except Exception as exc:  # noqa: BLE001 - reported as unresolvable
            return None, f"`{source}` cannot be evaluated in {context.module.name} ({type(exc).__name__}: {exc})"
        if isinstance(value, enum.Enum):
            value = value.value
        if not isinstance(value, str):
            return None, f"`{source}` is {_kind(value)}, not an activity name (use a name constant from domain/)"
        return value, None

    def owners(self, call: ActivityCall) -> list[type]:
        """The workflow classes that run the code where the activity name is written: its class; for module-level
        code, every workflow of the module; in a helper module, every workflow whose module imports it."""
        module = call.bound_at.module.name
        classes = self.classes.get(module, {})
        if call.bound_at.top_class in classes:
            return [classes[call.bound_at.top_class]]
        if classes:
            return list(classes.values())
        return [
            cls
            for importer, found in self.classes.items()
            if module in self._helpers(importer)
            for cls in found.values()
        ]

    def _imports(self, module: SourceModule) -> set[str]:
        imported: set[str] = set()
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                source = absolute_import(module, node)
                imported.add(source)
                imported.update(f"{source}.{alias.name}" for alias in node.names)
        parents = {".".join(name.split(".")[:i]) for name in imported for i in range(1, name.count(".") + 1)}
        return (imported | parents) & self.by_name.keys()

    def _helpers(self, module: str) -> set[str]:
        """The modules of the package without workflows that `module` imports, directly or through such modules."""
        seen: set[str] = set()
        todo = [module]
        while todo:
            for imported in self._imports(self.by_name[todo.pop()]):
                if imported not in seen and not self.classes.get(imported):
                    seen.add(imported)
                    todo.append(imported)
        return seen


def unregistered_activity_calls(code: WorkflowCode, registrations: Registrations) -> list[str]:
    """Activity calls whose name cannot be resolved or is not registered on the calling workflow's task queue(s),
    workflows registered on no queue, and registered workflows this scan cannot see."""
    problems = list(code.problems)
    names = {queue: {activity_name(fn) for fn in activities} for queue, (_, activities) in registrations.items()}
    queues: dict[type, list[str]] = defaultdict(list)
    for queue, (workflows, _) in registrations.items():
        for cls in workflows:
            queues[cls].append(queue)
    discovered = code.workflow_classes
    for cls, module in discovered.items():
        if not queues.get(cls):
            problems.append(f"{module.where}: workflow {cls.__qualname__} is registered on no task queue")
    for cls in queues.keys() - discovered.keys():
        problems.append(
            f"workflow {cls.__module__}.{cls.__qualname__} is registered but not defined in {code.package}/, "
            "so the activities it calls are not checked"
        )
    for call in code.activity_calls():
        if call.problem is not None:
            problems.append(f"{call.describe()}: {call.problem}")
            continue
        for cls in code.owners(call):
            problems.extend(
                f"{call.describe()}: {cls.__qualname__} calls activity {call.name!r}, "
                f"which is not registered on its task queue {queue!r}"
                for queue in queues.get(cls, [])
                if call.name not in names[queue]
            )
    return problems


# --- (b) activity names are defined once -------------------------------------------------------------------------


@dataclass(frozen=True)
class NameConstant:
    value: str
    where: str
    label: str


def _assignments(body: list[ast.stmt]) -> Iterator[tuple[str, ast.expr, int]]:
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            yield stmt.targets[0].id, stmt.value, stmt.lineno
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            yield stmt.target.id, stmt.value, stmt.lineno


def _constant_value(module: SourceModule, path: list[str], expr: ast.expr) -> object:
    try:
        return ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError):
        value: object = importlib.import_module(module.name)
        for name in path:
            value = getattr(value, name)
        return value


def activity_name_constants(root: Path, packages: Iterable[str]) -> list[NameConstant]:
    """Activity names as defined: the string members of top-level classes named `*Activity` and the module
    constants named `*_ACTIVITY`. An alias of another constant (`X_ACTIVITY = SlaActivity.X`) defines nothing."""
    found = []
    for module in iter_modules(root, packages):
        candidates: list[tuple[list[str], ast.expr, int]] = []
        for stmt in module.tree.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name.endswith("Activity"):
                candidates.extend(
                    ([stmt.name, name], value, line)
                    for name, value, line in _assignments(stmt.body)
                    if not name.startswith("_")
                )
        candidates.extend(
            ([name], value, line) for name, value, line in _assignments(module.tree.body) if name.endswith("_ACTIVITY")
        )
        for path, expr, line in candidates:
            if isinstance(expr, ast.Name | ast.Attribute):
                continue
            value = _constant_value(module, path, expr)
            if isinstance(value, enum.Enum):
                value = value.value
            if isinstance(value, str):
                found.append(NameConstant(value, f"{module.where}:{line}", ".".join(path)))
    return found


def duplicate_activity_names(root: Path, packages: Iterable[str]) -> list[str]:
    by_value: dict[str, list[NameConstant]] = defaultdict(list)
    for constant in activity_name_constants(root, packages):
        by_value[constant.value].append(constant)
    return [
        f"activity name {value!r} is defined {len(defs)} times: " + ", ".join(f"{d.label} ({d.where})" for d in defs)
        for value, defs in sorted(by_value.items())
        if len(defs) > 1
    ]


# --- (c) the import contract -------------------------------------------------------------------------------------


def lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run import-linter's `lint-imports` of this venv (next to sys.executable) in `cwd`."""
    executable = Path(sys.executable).parent / "lint-imports"
    if not executable.exists():
        raise FileNotFoundError(f"{executable} is missing: install the test extras (pip install -e '.[test]')")
    return subprocess.run([str(executable), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
