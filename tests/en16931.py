"""The official EN 16931 rules for CII invoices (CEN Schematron, run with saxonche) from the validators folder that
development machines and CI have next to the project (../shared/validators). A missing folder fails the test: an
e-invoice test that silently skips its validation proves nothing."""

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

VALIDATORS = Path(__file__).resolve().parents[1] / ".." / "shared" / "validators"


def failed_rules_checker() -> Callable[[bytes], list[dict]]:
    """A function giving every failed EN 16931 rule of an XML document (empty: valid)."""
    if not (VALIDATORS / "en16931_cii.py").is_file():
        pytest.fail(f"EN 16931 validator not found at {VALIDATORS.resolve()} (expected ../shared/validators)")
    sys.path.insert(0, str(VALIDATORS))
    try:
        from en16931_cii import failed_rules
    finally:
        sys.path.remove(str(VALIDATORS))

    def run(xml: bytes) -> list[dict]:
        with tempfile.NamedTemporaryFile(suffix=".xml") as file:
            file.write(xml)
            file.flush()
            return failed_rules(file.name)

    return run
