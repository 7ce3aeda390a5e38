"""The Dockerfile passes hadolint and every shell script shellcheck (both from their PyPI wheels): what an admin runs
on a Friday afternoon has no quoting slip or missing `set -e` a linter would have caught."""

import subprocess

import pytest

from tests.deploy.files import (
    DOCKERFILES,
    INSTALL_SH,
    REPO,
    UNITS,
    exec_argv,
    interpolate,
    load_compose,
    parse_unit,
    psa_wrapper,
    service_command,
    shell_scripts,
    tool,
)


def run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=REPO, input=stdin, capture_output=True, text=True, timeout=60)


def test_there_is_something_to_lint():
    assert [p.relative_to(REPO).as_posix() for p in DOCKERFILES] == ["docker/Dockerfile"]
    scripts = {p.relative_to(REPO).as_posix() for p in shell_scripts()}
    assert {"lxc/install.sh", "docker/postgres/init-databases.sh", "docker/temporal/setup-schema.sh"} <= scripts


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_dockerfile_passes_hadolint(dockerfile):
    # Every finding fails, "info" included (hadolint's default threshold).
    result = run([tool("hadolint"), "--no-color", str(dockerfile)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_pass_shellcheck():
    result = run([tool("shellcheck"), "--external-sources", *map(str, shell_scripts())])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_psa_wrapper_install_sh_writes_passes_shellcheck():
    """The wrapper is a heredoc inside install.sh: shellcheck does not look into heredocs."""
    result = run([tool("shellcheck"), "--shell=sh", "--external-sources", "-"], stdin=psa_wrapper())
    assert result.returncode == 0, result.stdout + result.stderr


def inline_shell() -> dict[str, str]:
    """The `sh -c` scripts of the compose services and of the units, and the compose CMD-SHELL health checks."""
    found = {}
    for name, svc in load_compose()["services"].items():
        argv = service_command(svc) if "command" in svc else []
        if argv[:2] in (["sh", "-c"], ["/bin/sh", "-c"]):
            found[f"compose {name}"] = interpolate(argv[2], {})  # `$$` in compose is the shell's `$`
        test = svc.get("healthcheck", {}).get("test", [])
        if test[:1] == ["CMD-SHELL"]:
            found[f"compose {name} healthcheck"] = test[1]
    for unit in UNITS:
        for value in parse_unit(unit).values("Service", "ExecStart"):
            argv = exec_argv(value)
            if argv[:2] in (["sh", "-c"], ["/bin/sh", "-c"]):
                found[unit.name] = argv[2]
    return found


def test_the_inline_shell_of_compose_and_the_units_passes_shellcheck():
    scripts = inline_shell()
    assert {"compose temporal-setup", "compose postgres healthcheck", "psa-setup.service"} <= set(scripts)
    for name, script in scripts.items():
        result = run([tool("shellcheck"), "--shell=sh", "-"], stdin=script + "\n")
        assert result.returncode == 0, f"{name}: {script}\n{result.stdout}"


def test_a_finding_fails_the_lint(tmp_path):
    """The linters really run and their exit code counts: a known-bad file fails."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN cd /tmp && pip install foo\n")
    assert run([tool("hadolint"), "--no-color", str(bad)]).returncode != 0
    script = tmp_path / "bad.sh"
    script.write_text("#!/bin/sh\nrm -rf $1/*\n")
    assert run([tool("shellcheck"), str(script)]).returncode != 0
    assert INSTALL_SH in shell_scripts()
