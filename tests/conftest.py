"""Shared pytest fixtures.

The first section is test infrastructure (database, paths). Domain fixtures (personas and
the like) go in the second section below it.
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from tests.scanning.clamd import clamd_server  # noqa: F401 - a session fixture for every test

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

# Property tests: no per-example deadline anywhere (Hypothesis fails an example that takes
# over 200 ms by default: a timing assertion, and a busy machine is not a bug). In CI the
# examples are derandomized (the same ones every run, so a red CI is reproducible);
# developers' runs stay random and keep finding new examples.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_configure(config):
    # The tests rely on the work a request kicks on commit (outbox consumers, deliveries,
    # scans, mails) having run when it returns: in the caller's thread, not in the embedded
    # default's background threads (tests/integrations/test_background.py turns them on).
    # Also for the servers a test starts in a process of its own.
    os.environ["TASKS_IN_BACKGROUND"] = "0"
    try:
        from django.conf import settings

        settings.TASKS_IN_BACKGROUND = False
    except Exception:
        pass
    # WhiteNoise warns at every request when STATIC_ROOT does not exist (nothing collected yet).
    try:
        from django.conf import settings

        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    except Exception:
        pass


def pytest_collection_modifyitems(config, items):
    # A test that needs a service started by the session carries that service's marker, so
    # that `-m "not clamd"` leaves it out without each test saying so.
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "clamd_server" in fixtures:
            item.add_marker(pytest.mark.clamd)
        if "s3_server" in fixtures:
            item.add_marker(pytest.mark.s3)


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


def _django_settings() -> dict[str, str]:
    from django.conf import settings

    return {name: repr(getattr(settings, name)) for name in dir(settings) if name.isupper()}


def _environ() -> dict[str, str]:
    # pytest names the running test (and its phase) there itself.
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


@pytest.fixture(autouse=True)
def _no_leaks_between_tests():
    """A test that changes Django settings or the environment must undo the change
    (pytest-django's `settings` fixture, `monkeypatch`): the test that leaks fails here,
    rather than some later test that happens to depend on the value."""
    settings_before, environ_before = _django_settings(), _environ()
    yield
    settings_after, environ_after = _django_settings(), _environ()
    leaked = [
        f"settings.{name}"
        for name in sorted(settings_before.keys() | settings_after.keys())
        if settings_before.get(name) != settings_after.get(name)
    ] + [
        f"os.environ[{name!r}]"
        for name in sorted(environ_before.keys() | environ_after.keys())
        if environ_before.get(name) != environ_after.get(name)
    ]
    if leaked:
        pytest.fail(
            "the test left changed: " + ", ".join(leaked) + " (use the `settings` fixture "
            "or monkeypatch, which restore them)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder (wherever it is checked out)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def procedures_root() -> Path:
    """The shipped procedures tree (the YAML files under procedures/ in the repository)."""
    return REPO_ROOT / "procedures"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (SeaweedFS `weed mini`) on loopback for the whole
    session, with the bucket created (CORS open to any origin); stopped at the end. See
    tests/seaweedfs.py (ports: SEAWEEDFS_TEST_PORT, default 18333..18337)."""
    from tests import seaweedfs

    proc, server = seaweedfs.start(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        seaweedfs.stop(proc)


@pytest.fixture
def s3_settings(settings, s3_server):
    """The project's storage pointed at the SeaweedFS server for one test: the AWS_*
    settings (forms_engine.storage.object_store()) and STORAGES' default (the Attachment
    FileField, through django-storages). Restored afterwards by the `settings` fixture."""
    for name, value in s3_server.settings().items():
        setattr(settings, name, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": s3_server.bucket,
                "endpoint_url": s3_server.endpoint,
                "region_name": s3_server.region,
                "access_key": s3_server.access_key,
                "secret_key": s3_server.secret_key,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    return settings


# =========================================================================================
# Domain fixtures (personas, procedures, submissions)
# =========================================================================================


@pytest.fixture(autouse=True)
def _fresh_engine_caches():
    """Procedure versions are cached per process (they never change in production, where
    ids are never reused); a rolled-back test database hands the same ids out again."""
    from forms_engine import services
    from forms_engine.rush.page import shell_cache_clear
    from forms_engine.views.start import newcomer_pages_clear

    def clear():
        services.caches_clear()
        newcomer_pages_clear()
        shell_cache_clear()

    clear()
    yield
    clear()


@pytest.fixture
def rate_limited(settings):
    """Rate limits on, with counters that start at zero and are gone after the test (they
    live in the cache, which outlasts a test)."""
    from django.core.cache import cache

    settings.RATE_LIMIT_ENABLED = True
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def replace_in_normalize(monkeypatch):
    """Replace a name of forms_engine.normalize for every caller: on the package (where the
    field types and views look it up) and in each of its modules that holds it (where the
    parsers look up normalize_text, unicodedata, ...); monkeypatch restores them."""
    import importlib
    import pkgutil

    from forms_engine import normalize

    modules = [normalize] + [
        importlib.import_module(f"{normalize.__name__}.{info.name}")
        for info in pkgutil.iter_modules(normalize.__path__)
    ]

    def replace(name: str, new: object) -> None:
        holders = [module for module in modules if name in vars(module)]
        assert holders, f"forms_engine.normalize has no {name!r}"
        assert len({id(vars(module)[name]) for module in holders}) == 1, f"{name!r} differs"
        for module in holders:
            monkeypatch.setattr(module, name, new)

    return replace


@pytest.fixture(scope="session", autouse=True)
def _static_files_by_plain_name():
    """The site uses hashed static names from collectstatic's manifest (config/settings.py);
    the tests serve static files from the source folders (live_server's static handler,
    no collectstatic), so they use plain names. tests/test_static_manifest.py runs the real
    collectstatic and checks the hashed names and their cache."""
    from django.conf import settings
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield
