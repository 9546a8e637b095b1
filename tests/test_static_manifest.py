"""Static files have hashed names (collectstatic's manifest) and a year-long immutable
cache, as `make run` serves them: collectstatic and a request through WhiteNoise run in a
subprocess with the site's real settings (the other tests use plain names)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import django, json
django.setup()
from django.template import engines
from django.test import Client
url = engines["django"].from_string("{% load static %}{% static 'css/app.css' %}").render({})
client = Client()
hashed = client.get(url)
plain = client.get("/static/css/app.css")
print(json.dumps({"url": url, "status": hashed.status_code,
                  "cache": hashed.headers.get("Cache-Control", ""),
                  "plain_cache": plain.headers.get("Cache-Control", "")}))
"""


def test_static_files_have_hashed_names_and_a_long_cache(tmp_path):
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
    }
    env.pop("STATIC_MANIFEST", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    manifest = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())
    hashed_css = manifest["paths"]["css/app.css"]
    assert hashed_css != "css/app.css" and hashed_css.startswith("css/app.")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert probe["url"] == f"/static/{hashed_css}"
    assert probe["status"] == 200
    cache = probe["cache"]
    assert "immutable" in cache
    max_age = int(cache.split("max-age=")[1].split(",")[0])
    assert max_age >= 31536000
    # The unhashed name is not cached for long: a release changes what it holds.
    assert "immutable" not in probe["plain_cache"]
