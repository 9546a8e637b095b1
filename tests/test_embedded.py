"""The embedded default: one reading of EMBEDDED for the whole code, a demo admin only
while it is on, and the public embedded key serving loopback addresses only."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from .test_deploy import PRODUCTION, manage

REPO = Path(__file__).resolve().parent.parent
CODE = ("config", "forms_engine", "payments", "integrations")


def test_the_embedded_flag_is_read_from_the_environment_in_one_place_only():
    readers = []
    for folder in CODE:
        for path in (REPO / folder).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                if re.search(r"""["']EMBEDDED["']""", line):
                    readers.append(f"{path.relative_to(REPO)}: {line.strip()}")
    assert readers == ['config/settings.py: EMBEDDED = env.bool("EMBEDDED", default=True)']


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    """A migrated SQLite database of its own in VAR_DIR, for commands run in a subprocess."""
    var = tmp_path_factory.mktemp("var")
    result = manage("migrate", "--noinput", env={"VAR_DIR": str(var)})
    assert result.returncode == 0, result.stderr
    return var


@pytest.mark.parametrize("value", ["off", "no", "FALSE", "0"])
def test_the_demo_admin_is_refused_whenever_embedded_reads_as_false(
    value, migrated_sqlite, tmp_path
):
    shutil.copy(migrated_sqlite / "db.sqlite3", tmp_path / "db.sqlite3")
    env = {**PRODUCTION, "EMBEDDED": value, "VAR_DIR": str(tmp_path)}
    result = manage("ensure_demo_admin", env=env)
    assert result.returncode != 0, result.stdout
    assert "the demo admin exists only in the embedded default" in result.stderr
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM auth_user").fetchone() == (0,)


@pytest.mark.django_db
def test_the_demo_admin_is_refused_when_the_settings_say_not_embedded(settings):
    settings.EMBEDDED = False
    with pytest.raises(CommandError, match="only in the embedded default"):
        call_command("ensure_demo_admin")


@pytest.fixture
def embedded_key(settings):
    settings.SECRET_KEY = settings.EMBEDDED_SECRET_KEY
    settings.SECRET_KEY_FALLBACKS = []
    return settings


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_the_embedded_key_serves_loopback_addresses(client, embedded_key, address):
    assert client.get("/healthz/live", REMOTE_ADDR=address).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        {"REMOTE_ADDR": "10.0.0.1"},
        {"REMOTE_ADDR": "2001:db8::1"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1, 203.0.113.9:4711"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": 'for="[2001:db8::1]:4711";proto=https'},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=unknown"},
    ],
    ids=lambda h: ",".join(h.values()),
)
def test_the_embedded_key_refuses_every_other_client_address(client, embedded_key, headers):
    response = client.get("/", **headers)
    assert response.status_code == 403
    assert "SECRET_KEY" in response.content.decode()


def test_the_embedded_key_as_a_fallback_is_refused_too(client, settings):
    settings.SECRET_KEY = PRODUCTION["SECRET_KEY"]
    settings.SECRET_KEY_FALLBACKS = [settings.EMBEDDED_SECRET_KEY]
    assert client.get("/healthz/live", REMOTE_ADDR="203.0.113.9").status_code == 403


def test_a_key_of_its_own_serves_every_address(client, settings):
    settings.SECRET_KEY = PRODUCTION["SECRET_KEY"]
    assert client.get("/healthz/live", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_the_refusal_is_in_the_residents_language(client, embedded_key):
    ja = client.get("/", REMOTE_ADDR="203.0.113.9").content.decode()
    client.cookies["django_language"] = "en"
    en = client.get("/", REMOTE_ADDR="203.0.113.9").content.decode()
    assert ja != en and "127.0.0.1" in ja
