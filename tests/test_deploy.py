"""Production settings: `check --deploy` is clean, secrets come only from the environment,
the procedures directory is checked at start, and costly endpoints are rate-limited."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

REPO = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # A fresh process as an operator would start it: none of this test run's settings
    # (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright in this process).
    dropped = (
        "SECRET_KEY",
        "DEBUG",
        "EMBEDDED",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "DATABASE_URL",
        "CACHE_URL",
        "CLAMD_ADDRESS",
    )
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "EMBEDDED": "0",
    "DEBUG": "0",
    "SECRET_KEY": "x7Hq9-production-like-secret-key-for-the-deploy-check-0123456789abcdef",
    "ALLOWED_HOSTS": "shinsei.example.lg.jp",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    # Only read, never reached, by the checks.
    "CLAMD_ADDRESS": "tcp://127.0.0.1:3310",
}


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def embedded_key() -> str:
    from django.conf import settings

    return settings.EMBEDDED_SECRET_KEY


@pytest.mark.parametrize(
    "env",
    [
        {"EMBEDDED": "1", "DEBUG": "0"},
        {**PRODUCTION, "SECRET_KEY": "embedded"},
    ],
    ids=["embedded-default", "embedded-key-set-as-secret-key"],
)
def test_check_deploy_fails_while_the_embedded_key_is_in_use(env):
    env = {k: (embedded_key() if v == "embedded" else v) for k, v in env.items()}
    result = manage("check", "--deploy", env=env)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "forms_engine.E010" in result.stderr
    assert "embedded default SECRET_KEY" in result.stderr


def test_the_embedded_key_as_a_fallback_is_a_deploy_error_too(settings):
    from forms_engine.checks import check_embedded_secret_key

    settings.SECRET_KEY = PRODUCTION["SECRET_KEY"]
    assert check_embedded_secret_key(None) == []
    settings.SECRET_KEY_FALLBACKS = [settings.EMBEDDED_SECRET_KEY]
    assert [e.id for e in check_embedded_secret_key(None)] == ["forms_engine.E010"]


def test_check_deploy_fails_in_production_without_a_shared_cache():
    env = {k: v for k, v in PRODUCTION.items() if k != "CACHE_URL"}
    result = manage("check", "--deploy", env=env)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "forms_engine.E011" in result.stderr
    assert "E010" not in result.stderr


def test_check_deploy_fails_when_a_deployment_leaves_embedded_at_its_default():
    # A real key and a shared cache, but EMBEDDED never set: developer mode in production.
    env = {k: v for k, v in PRODUCTION.items() if k != "EMBEDDED"}
    result = manage("check", "--deploy", env=env)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "forms_engine.E012" in result.stderr
    assert "developer mode in a deployment" in result.stderr
    assert "E010" not in result.stderr and "E011" not in result.stderr


def test_check_deploy_fails_on_a_per_process_cache_whatever_embedded_says():
    env = {k: v for k, v in PRODUCTION.items() if k not in ("EMBEDDED", "CACHE_URL")}
    result = manage("check", "--deploy", env=env)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "forms_engine.E011" in result.stderr
    assert "forms_engine.E012" in result.stderr


def test_the_plain_check_stays_quiet_in_the_embedded_default():
    result = manage("check", "--fail-level", "WARNING", env={})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_broken_procedures_directory_fails_the_system_check(tmp_path):
    tree = tmp_path / "procedures"
    shutil.copytree(REPO / "procedures", tree)
    path = tree / "sample-city" / "dog-registration.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("show_if: vaccinated", "show_if: vacinated")
    )
    # A warning: the service keeps running on the live versions; a deploy gate fails.
    assert manage("check", env={"PROCEDURES_DIR": str(tree)}).returncode == 0
    result = manage("check", "--fail-level", "WARNING", env={"PROCEDURES_DIR": str(tree)})
    assert result.returncode != 0
    line = next(
        number
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "show_if: vacinated" in text
    )
    assert f"sample-city/dog-registration.yaml:{line}" in result.stderr
    assert "unknown field 'vacinated'" in result.stderr


@pytest.fixture
def limited(settings):
    settings.RATE_LIMIT_ENABLED = True
    # Clients from other addresses than loopback: the embedded key would refuse them.
    settings.SECRET_KEY = PRODUCTION["SECRET_KEY"]
    cache.clear()
    yield settings
    cache.clear()


def test_the_postal_lookup_is_rate_limited(client, limited):
    limited.RATE_LIMITS = dict(limited.RATE_LIMITS, postal="3/60")
    codes = [
        client.post(reverse("postal_lookup"), {"code": "5400008"}).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_the_sign_in_link_is_rate_limited(client, limited, mailoutbox):
    limited.RATE_LIMITS = dict(limited.RATE_LIMITS, login_link="2/600")
    codes = [
        client.post(reverse("login"), {"email": f"r{i}@example.jp"}).status_code for i in range(3)
    ]
    assert codes == [302, 302, 429]
    assert len(mailoutbox) == 2


def test_the_rate_limit_counts_each_client_address_separately(client, limited):
    limited.RATE_LIMITS = dict(limited.RATE_LIMITS, postal="1/60")
    first = client.post(reverse("postal_lookup"), {"code": "5400008"}, REMOTE_ADDR="10.0.0.1")
    other = client.post(reverse("postal_lookup"), {"code": "5400008"}, REMOTE_ADDR="10.0.0.2")
    again = client.post(reverse("postal_lookup"), {"code": "5400008"}, REMOTE_ADDR="10.0.0.1")
    assert (first.status_code, other.status_code, again.status_code) == (200, 200, 429)


@pytest.mark.django_db
def test_the_demo_admin_sees_loaded_procedures_and_submissions(client, django_user_model):
    from django.core.management import call_command

    call_command("load_procedures", str(REPO / "procedures"))
    out = io.StringIO()
    call_command("ensure_demo_admin", stdout=out)
    codes = re.search(r"one-time codes \(each works once\): (.+)", out.getvalue())[1].split()
    # Password, then one of the printed codes: the admin's sign-in is the staff one.
    response = client.post("/staff/login/", {"username": "admin", "password": "demo-admin-2026"})
    assert response.status_code == 302
    response = client.post(response["Location"], {"token": codes[0], "next": "/admin/"})
    assert response.status_code == 302
    for url in ("/admin/forms_engine/procedure/", "/admin/forms_engine/submission/"):
        assert client.get(url).status_code == 200
    assert "dog-registration" in client.get("/admin/forms_engine/procedure/").content.decode()
