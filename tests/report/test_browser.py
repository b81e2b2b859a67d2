"""On a fresh machine without Chromium the report tests skip with one line saying what to
install; where ``TWOSIDED_REQUIRE_BROWSER=1`` (``.ci/run``) they fail instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import browser


def test_without_chromium_the_browser_tests_skip_naming_what_to_install(monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.delenv(browser.REQUIRE_ENV, raising=False)
    monkeypatch.delenv("TWOSIDED_SKIP_BROWSER_TESTS", raising=False)
    with pytest.raises(pytest.skip.Exception) as caught:
        browser.chromium()
    assert "apt-get install chromium" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_where_browser_tests_are_required_a_missing_chromium_fails(monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.setenv(browser.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception) as caught:
        browser.chromium()
    assert "apt-get install chromium" in str(caught.value)


def test_ci_requires_the_browser_tests():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert f"export {browser.REQUIRE_ENV}=1" in ci
