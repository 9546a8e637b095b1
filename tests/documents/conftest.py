"""Fixtures of the document tests."""

from __future__ import annotations

import pytest

from tests.submission_rows import load_test_town, make_submission

__all__ = ["make_submission"]


@pytest.fixture
def test_town(db):
    return load_test_town()
