"""The deployment files as data: the compose file's hub services, the systemd units, the settings install.sh
writes, and the `psa` commands they run. The deploy tests and the launch test read the files through these helpers,
so what is checked and what is started is what an admin gets."""

import json
import re
import shlex
import signal
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import typer
import yaml

from hub.cli import app

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
LXC = REPO / "lxc"
COMPOSE_FILE = DOCKER / "compose.yml"
UNIT_DIR = LXC / "systemd"
INSTALL_SH = LXC / "install.sh"
DOCKERFILES = sorted(p for p in REPO.glob("docker/**/Dockerfile*") if p.suffix != ".dockerignore")
UNITS = sorted(UNIT_DIR.glob("*.service"))
# Where install.sh puts the virtualenv and the env file the units read.
UNIT_VENV_BIN = "/opt/psa/venv/bin"
UNIT_ENV_FILE = "/etc/psa/psa.env"


def tool(name: str) -> str:
    """A linter binary installed from its PyPI wheel into the venv (never downloaded at run time)."""
    path = Path(sysconfig.get_path("scripts")) / name
    if not path.exists():
        raise RuntimeError(f"{path} missing: install the test extras (make test does)")
    return str(path)


def shell_scripts() -> list[Path]:
    """Every shell script of the repository outside the virtualenv and caches."""
    skip = {".venv", ".git", "node_modules", ".pytest_cache", "build", "dist", "data"}
    return sorted(p for p in REPO.rglob("*.sh") if not skip & set(p.relative_to(REPO).parts))


# --- compose -------------------------------------------------------------------------------------------------------


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def hub_services(compose: dict) -> dict[str, dict]:
    """The services that run the hub's image (built from docker/Dockerfile)."""
    return {
        name: svc
        for name, svc in compose["services"].items()
        if isinstance(svc.get("build"), dict) and svc["build"].get("dockerfile") == "docker/Dockerfile"
    }


_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} with `env` standing for docker/.env; `$$` is a `$`."""

    def one(m: re.Match) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        if env.get(name):
            return env[name]
        if op and op.endswith("-"):
            return arg
        if op and op.endswith("?"):
            raise KeyError(f"{name} must be set: {arg}")
        return ""

    parts = value.split("$$")
    return "$".join(_INTERPOLATION.sub(one, part) for part in parts)


def image_env() -> dict[str, str]:
    """The ENV of docker/Dockerfile (its `ENV KEY=value \\` style), what every container of the image starts with."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            found |= dict(pair.split("=", 1) for pair in shlex.split(line[4:]))
    return found


def image_healthcheck() -> list[str]:
    """The argv of the image's HEALTHCHECK (exec form: a JSON array after CMD)."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("HEALTHCHECK ")]
    return json.loads(line.split(" CMD ", 1)[1])


def env_example() -> dict[str, str]:
    """docker/.env.example, the file an admin copies to docker/.env."""
    return dotenv_lines((DOCKER / ".env.example").read_text())


def service_command(svc: dict) -> list[str]:
    """The argv a service runs: its `command`, or the image's CMD (`psa api`) when it has none."""
    command = svc.get("command", ["psa", "api"])
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


# --- systemd -------------------------------------------------------------------------------------------------------


@dataclass
class Unit:
    path: Path
    sections: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def values(self, section: str, key: str) -> list[str]:
        return [v for k, v in self.sections.get(section, []) if k == key]

    def value(self, section: str, key: str) -> str:
        found = self.values(section, key)
        assert len(found) == 1, f"{self.path.name}: [{section}] {key} set {len(found)} times"
        return found[0]


def parse_unit(path: Path) -> Unit:
    """A systemd unit file, strictly: `[Section]` headers, `Key=value` lines, backslash continuations, comments
    (# and ;) on lines of their own. Anything else raises ValueError with the line number."""
    unit, section, pending = Unit(path), None, ""
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if section in unit.sections:
                raise ValueError(f"{path.name}:{number}: section [{section}] twice")
            unit.sections[section] = []
        elif section is not None and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*=.*", line):
            key, _, value = line.partition("=")
            unit.sections[section].append((key, value.strip()))
        else:
            raise ValueError(f"{path.name}:{number}: not a [Section] or Key=value line: {raw!r}")
    if pending:
        raise ValueError(f"{path.name}: ends inside a continued line")
    return unit


def unit_named(name: str) -> Unit:
    return parse_unit(UNIT_DIR / name)


def exec_argv(value: str) -> list[str]:
    """ExecStart= as argv: systemd's `$$` is a literal `$`; ${VAR} is left for the caller to expand."""
    return shlex.split(value.lstrip("-@:+!").replace("$$", "$"))


def dotenv_lines(text: str) -> dict[str, str]:
    """KEY=value lines as an EnvironmentFile or docker/.env has them (no quotes, no export)."""
    pairs = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"not KEY=value: {line!r}"
            pairs[key] = value
    return pairs


def install_env_file() -> dict[str, str]:
    """The /etc/psa/psa.env that lxc/install.sh writes on the first install (its heredoc), with the shell variables
    of the heredoc left as they are."""
    text = INSTALL_SH.read_text()
    body = re.search(r'cat > "\$ENV_FILE" <<ENV\n(.*?)\nENV\n', text, re.S)
    assert body, "install.sh no longer writes $ENV_FILE with a <<ENV heredoc"
    return dotenv_lines(body.group(1))


def install_set_env_keys() -> set[str]:
    """Settings install.sh changes on a re-run (`set_env KEY ...`)."""
    return set(re.findall(r"\bset_env (\w+)", INSTALL_SH.read_text()))


def psa_wrapper() -> str:
    """The /usr/local/bin/psa wrapper install.sh writes (a quoted heredoc: its text is the script)."""
    body = re.search(r"cat > /usr/local/bin/psa <<'WRAPPER'\n(.*?)\nWRAPPER\n", INSTALL_SH.read_text(), re.S)
    assert body, "install.sh no longer writes /usr/local/bin/psa with a <<'WRAPPER' heredoc"
    return body.group(1) + "\n"


# --- the psa CLI ---------------------------------------------------------------------------------------------------


def psa_invocations(argv: list[str]) -> list[list[str]]:
    """The `psa ...` command lines in an argv: the argv itself, or those inside a `sh -c SCRIPT`."""
    if Path(argv[0]).name == "psa":
        return [argv[1:]]
    if Path(argv[0]).name in ("sh", "bash") and argv[1:2] == ["-c"]:
        lexer = shlex.shlex(argv[2], posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        found, current = [], None
        for token in lexer:
            if current is not None and re.fullmatch(r"[;&|()]+", token):
                found.append(current)
                current = None
            elif current is not None:
                current.append(token)
            elif Path(token).name == "psa":
                current = []
        if current is not None:
            found.append(current)
        return found
    return []


class NotAPsaCommand(Exception):
    """`psa ARGS` would fail at once: unknown command or arguments the command does not take."""


def resolve_psa(args: list[str]) -> "typer.core.TyperCommand":
    """The command `psa ARGS` runs, found through the CLI's own command tree (typer builds it on its vendored click);
    its arguments are parsed as the CLI would parse them."""
    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="psa")
    rest = list(args)
    while isinstance(command, typer.core.TyperGroup):
        if not rest:
            raise NotAPsaCommand(f"`{ctx.command_path}` needs a sub-command")
        name = rest.pop(0)
        sub = command.get_command(ctx, name)
        if sub is None:
            raise NotAPsaCommand(f"`{ctx.command_path}` has no command {name!r}")
        command, ctx = sub, typer.Context(sub, info_name=name, parent=ctx)
    try:
        command.parse_args(ctx, rest)
    except Exception as err:  # the vendored click's UsageError and its subclasses
        raise NotAPsaCommand(f"`{ctx.command_path} {' '.join(rest)}`: {err}") from err
    return command


# --- how the units and the compose services start the hub --------------------------------------------------------


@dataclass
class Launch:
    """A process as systemd or compose starts it, and how they stop it."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: str | None
    stop_signal: signal.Signals
    stop_timeout: float
    ok_exit_codes: frozenset[int]

    def on_this_machine(self, venv_bin: str, path: str, work_dir: Path, **settings: str) -> "Launch":
        """The same command line and environment with only what must differ on a test machine: the virtualenv (the
        units' /opt/psa/venv/bin, the image's `psa` on PATH), the working directory, and the given PSA_* settings
        (addresses, ports, paths), each of which the file must set itself."""
        argv = [a.replace(UNIT_VENV_BIN, venv_bin) for a in self.argv]
        if argv[0] == "psa":
            argv[0] = f"{venv_bin}/psa"
        env = self.env | {"PATH": f"{venv_bin}:{path}", "HOME": str(work_dir)}
        for key, value in settings.items():
            assert key in self.env, f"{self.name} does not set {key}: nothing to replace"
            env[key] = value
        return Launch(self.name, argv, env, str(work_dir), self.stop_signal, self.stop_timeout, self.ok_exit_codes)


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|m|min)?", value).groups()
    return float(number) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "min": 60}[unit]


def unit_launch(name: str) -> Launch:
    """ExecStart, EnvironmentFile (the one install.sh writes), Environment=, WorkingDirectory, KillSignal,
    TimeoutStopSec and SuccessExitStatus of a unit."""
    unit = unit_named(name)
    env: dict[str, str] = {}
    for env_file in unit.values("Service", "EnvironmentFile"):
        assert env_file.lstrip("-") == UNIT_ENV_FILE, f"{name}: an env file install.sh does not write"
        env |= install_env_file()
    for assignment in unit.values("Service", "Environment"):
        env |= dict(pair.split("=", 1) for pair in shlex.split(assignment))
    kill = unit.values("Service", "KillSignal")
    # systemd takes an exit 0, the codes of SuccessExitStatus= and death by SIGHUP, SIGINT, SIGTERM or SIGPIPE for
    # a clean stop (a signal death shows as its negative number here).
    codes = {0, -signal.SIGHUP, -signal.SIGINT, -signal.SIGTERM, -signal.SIGPIPE}
    codes |= {int(c) for s in unit.values("Service", "SuccessExitStatus") for c in s.split() if c.isdigit()}
    timeout = unit.values("Service", "TimeoutStopSec")
    return Launch(
        name,
        exec_argv(unit.value("Service", "ExecStart")),
        env,
        unit.value("Service", "WorkingDirectory"),
        signal.Signals[kill[0]] if kill else signal.SIGTERM,
        _seconds(timeout[0]) if timeout else 90.0,
        frozenset(codes),
    )


def compose_launch(service: str) -> Launch:
    """A hub service's command, with the image's ENV and the service's environment (docker/.env.example's values);
    compose stops it with `stop_signal` (SIGTERM) and kills it after `stop_grace_period` (10 s)."""
    compose = load_compose()
    svc = hub_services(compose)[service]
    example = env_example()
    env = image_env() | {k: interpolate(str(v), example) for k, v in svc.get("environment", {}).items()}
    argv = [interpolate(a, example) for a in service_command(svc)]
    stop = signal.Signals[svc.get("stop_signal", "SIGTERM")]
    return Launch(
        f"compose {service}",
        argv,
        env,
        None,
        stop,
        _seconds(svc.get("stop_grace_period", "10s")),
        frozenset({0, -stop}),  # ended by its stop signal within the grace period: stopped, not killed
    )
