"""Fixtures for the payment tests: a filed dog registration (3,000 yen before review) and a
filed records disclosure (a fee after review)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from forms_engine import models as m
from tests.flow.conftest import file_completely, loaded  # noqa: F401 - fixture re-export


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


@pytest.fixture
def dog_submission(client, loaded) -> m.Submission:  # noqa: F811
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["sample-city", "dog-registration"])
    )
    return draft.receipt.submissions.get()


@pytest.fixture
def after_review_submission(client, loaded) -> m.Submission:  # noqa: F811
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )
    return draft.receipt.submissions.get()
