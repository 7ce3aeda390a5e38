"""docker/compose.yml against the Compose Specification's JSON schema, and against the hub itself: every PSA_*
variable the hub's services (and the image) set is a setting the hub reads with a value it accepts, and every
service's command is a `psa` command with arguments the CLI takes."""

import importlib.resources
import json
import re

import pytest
from jsonschema import Draft202012Validator

from hub.check import not_settings
from hub.config import Settings
from tests.deploy.files import (
    COMPOSE_FILE,
    NotAPsaCommand,
    env_example,
    hub_services,
    image_env,
    interpolate,
    load_compose,
    psa_invocations,
    resolve_psa,
    service_command,
)


def compose_schema() -> dict:
    """The Compose Specification's schema (github.com/compose-spec/compose-spec, schema/compose-spec.json, Apache-2.0)
    as the check-jsonschema package ships and updates it (`vendor.compose-spec`, licence beside it): installed from
    PyPI with the test extras, never fetched at test time."""
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def schema_errors(document: dict) -> list[str]:
    validator = Draft202012Validator(compose_schema())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_compose_file_follows_the_compose_specification():
    schema = compose_schema()
    assert schema["title"] == "Compose Specification"
    Draft202012Validator.check_schema(schema)
    assert schema_errors(load_compose()) == []


def test_the_schema_catches_a_broken_compose_file():
    broken = load_compose()
    broken["services"]["worker"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["api"]["restart_policy"] = "always"
    errors = "\n".join(schema_errors(broken))
    assert "services/worker/depends_on" in errors and "service_finished" in errors, errors
    assert "'restart_policy' was unexpected" in errors, errors


def test_the_hub_services_are_the_ones_the_readme_lists():
    assert set(hub_services(load_compose())) == {"temporal-setup", "migrate", "worker", "api"}


def hub_environment() -> dict[str, str]:
    """The PSA_* variables of the hub's services (with docker/.env.example's values) and of the image."""
    found = {k: v for k, v in image_env().items() if k.startswith("PSA_")}
    example = env_example()
    for name, svc in hub_services(load_compose()).items():
        env = svc.get("environment", {})
        assert isinstance(env, dict), f"{name}: environment as a mapping, so the anchors merge"
        found |= {k: interpolate(str(v), example) for k, v in env.items() if k.startswith("PSA_")}
    return found


def test_every_psa_variable_is_a_setting_with_a_valid_value():
    env = hub_environment()
    assert {"PSA_DATABASE_URL", "PSA_TEMPORAL_ADDRESS", "PSA_DATA_DIR"} <= set(env)
    assert not_settings(env) == [], "the hub reads these nowhere"
    settings = Settings(_env_file=None, **{k.removeprefix("PSA_").lower(): v for k, v in env.items()})
    assert settings.temporal_address == "temporal:7233"
    assert settings.effective_database_url.startswith("postgresql+psycopg://psa:change-me-psa@postgres:5432/")


def test_a_misspelt_variable_would_be_found():
    assert not_settings(["PSA_API_PORT", "PSA_SOC_CREDENTIALS__S1__TOKEN", "PSA_WORKER_PROCESSES", "TZ"]) == [
        "PSA_WORKER_PROCESSES"
    ]
    with pytest.raises(ValueError):
        Settings(_env_file=None, log_format="yaml")


@pytest.mark.parametrize("service", sorted(hub_services(load_compose())))
def test_every_service_runs_a_psa_command_the_cli_has(service):
    argv = service_command(load_compose()["services"][service])
    invocations = psa_invocations(argv)
    assert invocations, f"{service}: {argv} runs no psa command"
    for args in invocations:
        resolve_psa(args)  # raises NotAPsaCommand for an unknown command or bad arguments


def test_an_unknown_command_or_argument_is_refused():
    assert resolve_psa(["db", "upgrade"]).name == "upgrade"
    assert psa_invocations(["sh", "-c", "for i in 1 2; do psa temporal setup && exit 0; done"]) == [
        ["temporal", "setup"]
    ]
    for bad in (["workers"], ["db"], ["db", "upgrade", "head", "extra"], ["api", "--port", "1"]):
        with pytest.raises(NotAPsaCommand):
            resolve_psa(bad)


def test_the_compose_file_interpolates_with_the_example_env():
    """Every ${VAR:?...} the file requires has a value in .env.example (else `docker compose up` stops at once)."""
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE_FILE.read_text()))
    assert required and required <= set(env_example())
