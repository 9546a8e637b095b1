"""Console tests: the personas of tests/inbox (two organizations, their staff), and a
broken-file helper shared by the check tests."""

from __future__ import annotations

import pytest

from forms_engine import models as m
from tests.inbox.conftest import (  # noqa: F401  (fixtures)
    World,
    _no_rate_limits,
    loaded,
    make_staff,
    real_key,
    verified_client,
    world,
)


@pytest.fixture
def city(loaded) -> m.Organization:  # noqa: F811
    return m.Organization.objects.get(slug="sample-city")
