"""Shared pytest fixtures.

The first section is test infrastructure (database, paths). Domain fixtures (personas and
the like) go in the second section below it.
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# =========================================================================================
# Infrastructure
# =========================================================================================
#
# Database: pytest-django builds the test database from settings.DATABASES, which come from
# DATABASE_URL (config/settings.py). `make test` sets
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/denshi_test unless it is already set, so
# the tests run on PostgreSQL in a database named test_denshi_test. A bare `pytest` with no
# DATABASE_URL runs on SQLite (in memory). The header of every run names the database used.
# No fixture here overrides django_db_setup: the settings are the single source.

REPO_ROOT = Path(__file__).resolve().parent.parent

# Property tests: in CI the examples are derandomized (the same ones every run, so a red
# CI is reproducible) and without a per-example deadline (a busy machine is not a bug).
# Developers' runs stay random and keep finding new examples.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_configure(config):
    # WhiteNoise warns at every request when STATIC_ROOT does not exist (nothing collected yet).
    try:
        from django.conf import settings

        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    except Exception:
        pass


def pytest_report_header(config):
    try:
        from django.conf import settings

        db = settings.DATABASES["default"]
    except Exception as exc:  # settings not importable: say so, let the tests fail loudly
        return [f"database: settings not loaded ({exc})"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        where = "in-memory test database"
    else:
        test_name = (db.get("TEST") or {}).get("NAME") or f"test_{db['NAME']}"
        where = f"{test_name} on {db.get('HOST') or 'local socket'}:{db.get('PORT') or 'default'}"
    return [f"database: {engine}, {where}"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder (wherever it is checked out)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def procedures_root() -> Path:
    """The shipped procedures tree (the YAML files under procedures/ in the repository)."""
    return REPO_ROOT / "procedures"


# =========================================================================================
# Domain fixtures (personas, procedures, submissions)
# =========================================================================================


@pytest.fixture(autouse=True)
def _fresh_engine_caches():
    """Procedure versions are cached per process (they never change in production, where
    ids are never reused); a rolled-back test database hands the same ids out again."""
    from forms_engine import services

    services.caches_clear()
    yield
    services.caches_clear()
