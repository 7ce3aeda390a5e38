"""Without Chromium the browser tests fail with a message saying what to install; they skip only when
PSA_SKIP_BROWSER=1 says so."""

import pytest

from tests.portal import conftest


def test_missing_chromium_fails_unless_skipping_is_asked_for(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("PSA_SKIP_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        conftest._chromium()
    monkeypatch.setenv("PSA_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception):
        conftest._chromium()
