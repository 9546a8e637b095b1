"""Fixtures of the integrations tests: the procedures loaded, rate limits off."""

from __future__ import annotations

import pytest

from tests.flow.conftest import _no_rate_limits, loaded  # noqa: F401 - fixtures

DOG = ("sample-city", "dog-registration")
CHILD = ("sample-city", "child-allowance")
SEMINAR = ("osaka-pref", "dx-seminar")


@pytest.fixture
def webhook_env(monkeypatch):
    """The dog registration's webhook goes to a URL the test sets later."""
    monkeypatch.setenv("ANIMAL_DB_SECRET", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
