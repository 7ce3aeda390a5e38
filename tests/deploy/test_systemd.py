"""The LXC deployment's systemd units: well-formed (`systemd-analyze verify` where it exists, and a strict parser
everywhere), sandboxed, running `psa` commands the CLI has, with settings (lxc/install.sh's env file) the hub reads."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.check import not_settings
from hub.config import Settings
from tests.deploy.files import (
    INSTALL_SH,
    UNIT_ENV_FILE,
    UNIT_VENV_BIN,
    UNITS,
    exec_argv,
    install_env_file,
    install_set_env_keys,
    parse_unit,
    psa_invocations,
    resolve_psa,
    tool,
    unit_named,
)

# Every unit runs as the unprivileged user psa inside this sandbox (lxc/README.md: needs nesting=1).
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "ReadWritePaths": "/var/lib/psa",
    "UMask": "0027",
    "User": "psa",
    "Group": "psa",
}
NAMES = [u.name for u in UNITS]


def test_the_units_install_sh_installs():
    assert NAMES == ["psa-api.service", "psa-setup.service", "psa-temporal.service", "psa-worker@.service"]
    installed = set(re.findall(r"lxc/systemd/([\w@.-]+\.service)", INSTALL_SH.read_text()))
    assert installed == set(NAMES)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path):
    """The units as installed, but with this machine's virtualenv and a temporary env file in place of /opt/psa and
    /etc/psa (verify checks that ExecStart's binary exists). Unknown keys are only warnings to systemd: any output
    fails the test."""
    env_file = tmp_path / "psa.env"
    env_file.write_text("PSA_TEMPORAL_NAMESPACE=default\n")
    venv_bin = str(Path(tool("psa")).parent)
    for unit in UNITS:
        text = unit.read_text().replace(UNIT_VENV_BIN, venv_bin).replace(UNIT_ENV_FILE, str(env_file))
        (tmp_path / unit.name).write_text(text)
    verify = ["systemd-analyze", "verify", "--man=no", "--generators=no"]
    result = subprocess.run([*verify, *NAMES], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    (tmp_path / "psa-api.service").write_text(text.replace("ProtectSystem=strict", "ProtectSystem=sometimes"))
    broken = subprocess.run([*verify, "psa-api.service"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "protect system" in broken.stderr.lower()  # the check above would see a bad value


@pytest.mark.parametrize("path", UNITS, ids=NAMES)
def test_each_unit_is_well_formed_and_sandboxed(path: Path):
    unit = parse_unit(path)
    assert set(unit.sections) == {"Unit", "Service", "Install"}
    assert unit.value("Unit", "Description")
    assert unit.value("Install", "WantedBy") == "multi-user.target"
    for key, expected in HARDENING.items():
        assert unit.value("Service", key) == expected, f"{path.name}: {key}"
    assert unit.value("Service", "EnvironmentFile") == UNIT_ENV_FILE
    assert unit.value("Service", "WorkingDirectory") == "/var/lib/psa"
    if unit.value("Service", "Type") == "simple":
        assert unit.value("Service", "Restart") == "always"


def test_the_parser_refuses_a_malformed_unit(tmp_path: Path):
    for text in ("[Service]\nExecStart /bin/true\n", "User=psa\n[Service]\n", "[Service]\n[Service]\n"):
        bad = tmp_path / "bad.service"
        bad.write_text(text)
        with pytest.raises(ValueError):
            parse_unit(bad)


@pytest.mark.parametrize("name", ["psa-api.service", "psa-setup.service", "psa-worker@.service"])
def test_each_hub_unit_runs_a_psa_command_the_cli_has(name: str):
    argv = exec_argv(unit_named(name).value("Service", "ExecStart"))
    invocations = psa_invocations(argv)
    assert invocations, argv
    for args in invocations:
        resolve_psa(args)
    assert all(a.startswith(UNIT_VENV_BIN) for a in argv if a.endswith("/psa"))


def test_the_temporal_unit_uses_flags_the_bundled_cli_has():
    """The unit's command line with --help appended: the CLI parses every flag first and refuses an unknown one."""
    argv = exec_argv(unit_named("psa-temporal.service").value("Service", "ExecStart"))
    assert argv[0] == f"{UNIT_VENV_BIN}/temporal" and argv[1:3] == ["server", "start-dev"]
    # ${PSA_TEMPORAL_NAMESPACE} is expanded by systemd from the env file, which must set it.
    assert "${PSA_TEMPORAL_NAMESPACE}" in argv and "PSA_TEMPORAL_NAMESPACE" in install_env_file()
    args = [a.replace("${PSA_TEMPORAL_NAMESPACE}", "default") for a in argv[1:]]
    for extra, ok in (([], True), (["--no-such-flag"], False)):
        result = subprocess.run([tool("temporal"), *args, *extra, "--help"], capture_output=True, text=True, timeout=30)
        assert (result.returncode == 0) == ok, result.stderr


def test_the_env_file_install_sh_writes_holds_valid_settings():
    env = install_env_file()
    unit_env = [v for u in UNITS for v in parse_unit(u).values("Service", "Environment")]
    names = set(env) | install_set_env_keys() | {v.split("=", 1)[0] for e in unit_env for v in e.split()}
    assert names and not_settings(names) == [], "the hub reads these nowhere"
    # The heredoc's shell variables with values install.sh gives them.
    shell = {"${db_password}": "x" * 48, "${pg_port}": "5432", "${DATA_DIR}": "/var/lib/psa"}
    values = {}
    for key, value in env.items():
        for var, given in shell.items():
            value = value.replace(var, given)
        values[key] = value
    assert not [v for v in values.values() if "$" in v]
    settings = Settings(_env_file=None, **{k.removeprefix("PSA_").lower(): v for k, v in values.items()})
    assert settings.effective_database_url.startswith("postgresql+psycopg://psa:")
    assert str(settings.data_dir) == "/var/lib/psa"
