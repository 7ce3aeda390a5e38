"""Vendor payload fixtures for the SOC domain tests (JSON files under tests/fixtures/soc)."""

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "soc"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def s1_webhook() -> dict[str, Any]:
    return load("sentinelone_threat_webhook.json")


@pytest.fixture
def s1_page() -> dict[str, Any]:
    return load("sentinelone_threats_page.json")


@pytest.fixture
def rc_page() -> dict[str, Any]:
    return load("rocketcyber_incidents_page.json")


@pytest.fixture
def xdr_alarm() -> dict[str, Any]:
    return load("barracuda_xdr_alarm.json")


@pytest.fixture
def generic_alert() -> dict[str, Any]:
    return load("generic_alert.json")
