"""Outages answered properly: liveness and readiness probes apart, and a translated 503
page with Retry-After while the database is down."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import OperationalError, connections
from django.test import Client

from forms_engine.views import start as home_view


@pytest.fixture
def database_down(monkeypatch):
    """Every connection attempt fails as it does when PostgreSQL is not running."""

    def refused(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')

    for connection in connections.all():
        monkeypatch.setattr(connection, "ensure_connection", refused)


@pytest.fixture
def browser():
    # As a browser sees it: the exception becomes a response instead of failing the test.
    return Client(raise_request_exception=False)


def test_liveness_answers_while_the_database_is_down(browser, database_down):
    response = browser.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


@pytest.mark.parametrize("url", ["/healthz/ready", "/healthz"])
def test_readiness_fails_and_names_the_database_while_it_is_down(browser, database_down, url):
    response = browser.get(url)
    assert response.status_code == 503
    assert response.json() == {"ok": False, "failed": ["database"]}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_is_ok_when_the_database_and_the_cache_answer(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "failed": []}


@pytest.mark.django_db
def test_readiness_checks_the_broker_when_one_is_configured(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    assert client.get("/healthz/ready").status_code == 200


@pytest.mark.django_db
def test_readiness_checks_the_cache(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


def production_redirect_exempt() -> list[str]:
    """SECURE_REDIRECT_EXEMPT as config/settings.py sets it in production."""
    from .test_deploy import PRODUCTION, manage

    code = "import json; from django.conf import settings; "
    code += "print(json.dumps(settings.SECURE_REDIRECT_EXEMPT))"
    result = manage("shell", "--no-imports", "-c", code, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_probes_answer_plain_http_where_pages_redirect_to_https(database_down, settings):
    # Platforms probe over plain HTTP inside the cluster and count a redirect as healthy.
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = production_redirect_exempt()
    browser = Client(raise_request_exception=False)
    assert browser.get("/healthz/live").status_code == 200
    assert browser.get("/healthz/ready").status_code == 503
    assert browser.get("/healthz").status_code == 503
    assert browser.get("/").status_code == 301


def test_while_the_database_is_down_pages_answer_503_in_japanese(browser, database_down):
    response = browser.get("/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "ただいまサービスを利用できません" in html


def test_while_the_database_is_down_pages_answer_503_in_english_when_chosen(browser, database_down):
    browser.cookies["django_language"] = "en"
    response = browser.get("/")
    assert response.status_code == 503
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "The service is temporarily unavailable" in html


def test_other_server_errors_stay_500(browser, monkeypatch, db):
    def broken(*args, **kwargs):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(home_view, "render", broken)
    response = browser.get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response


@pytest.mark.parametrize("dependency", ["database", "cache", "broker"])
@pytest.mark.django_db
def test_a_dependency_that_never_answers_fails_readiness_without_holding_the_worker(
    client, settings, monkeypatch, dependency
):
    """A black-holed dependency: its probe blocks until the test ends. Readiness must
    answer anyway, naming it (without a per-probe timeout it would wait out the block and
    then call the dependency healthy)."""
    from forms_engine import health

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    released = threading.Event()

    def black_hole():
        released.wait(timeout=10)

    monkeypatch.setattr(health, f"_{dependency}", black_hole)
    monkeypatch.setattr(health, "PROBE_TIMEOUT", 0.3, raising=False)
    try:
        response = client.get("/healthz/ready")
    finally:
        released.set()
    assert response.status_code == 503
    assert response.json()["failed"] == [dependency]
