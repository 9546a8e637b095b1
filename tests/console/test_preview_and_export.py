"""The dry run writes nothing (rows of every model counted before and after); the export
is the folder load_procedures reads, and loading it into an empty database gives the same
versions (content hashes)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
from django.apps import apps
from django.core import mail
from django.urls import reverse

from console.models import ProcedureDraft
from forms_engine import models as m
from inbox.models import AuditLog

PROJECT = Path(__file__).resolve().parents[2]

PREVIEWED = """\
title: {ja: 試しの手続き, en: Trial procedure}
department: environment
contact_email: email
fee:
  items:
    - label: {ja: 手数料, en: Fee}
      amount: 500
pages:
  - id: about
    title: {ja: あなたについて, en: About you}
    fields:
      - id: email
        type: email
        label: {ja: メールアドレス, en: Email address}
        required: true
      - id: has_dog
        type: yes_no
        label: {ja: 犬を飼っていますか, en: Do you have a dog?}
        required: true
      - id: dog_name
        type: text
        label: {ja: 犬の名前, en: Dog's name}
        show_if: has_dog == true
        required: true
      - id: photo
        type: file
        label: {ja: 写真, en: Photo}
  - id: more
    title: {ja: 犬について, en: About the dog}
    show_if: has_dog == true
    fields:
      - id: age
        type: number
        label: {ja: 年齢, en: Age}
"""


def _counts() -> dict[str, int]:
    """Rows of every model but the session (the dry run lives there) and the audit log
    (the preview is audited)."""
    skip = {"sessions.session", "inbox.auditlog", "axes.accesslog", "axes.accessattempt"}
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label_lower not in skip and not model._meta.proxy
    }


def test_the_dry_run_files_nothing(world, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    client = world.client("city_admin")
    client.post(reverse("console:procedure_new"), {"slug": "trial", "start": "blank"})
    draft = ProcedureDraft.objects.get(slug="trial")
    client.post(
        reverse("console:draft_edit", args=[draft.pk]), {"text": PREVIEWED, "_action": "save"}
    )
    mail.outbox.clear()
    before = _counts()

    frames = client.get(reverse("console:preview", args=[draft.pk]) + "?lang=en")
    body = frames.content.decode()
    assert 'width="390"' in body and 'width="1280"' in body
    start = client.get(reverse("console:preview_start", args=[draft.pk, "en"]))
    page_url = start["Location"]
    assert page_url == reverse("console:preview_page", args=[draft.pk, "en", "about"])
    page = client.get(page_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "About you" in html and "Dog&#x27;s name" in html or "Dog's name" in html
    assert "data-show-if" in html  # conditions live through expr.js
    assert "frame-ancestors 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "SAMEORIGIN"
    # Japanese too.
    ja = client.get(reverse("console:preview_page", args=[draft.pk, "ja", "about"]))
    assert "あなたについて" in ja.content.decode()

    # A page with an error, then valid answers with a file, then the second page.
    invalid = client.post(page_url, {"f-email": "not-an-address", "f-has_dog": "yes"})
    assert invalid.status_code == 200 and "error-summary" in invalid.content.decode()
    photo = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    photo.name = "dog.png"
    nxt = client.post(
        page_url,
        {"f-email": "a@example.jp", "f-has_dog": "yes", "f-dog_name": "ポチ", "f-photo": photo},
    )
    assert nxt.status_code == 302, nxt.content.decode()[:2000]
    assert nxt["Location"] == reverse("console:preview_page", args=[draft.pk, "en", "more"])
    done = client.post(nxt["Location"], {"f-age": "3"})
    assert done["Location"] == reverse("console:preview_confirm", args=[draft.pk, "en"])
    check = client.get(done["Location"]).content.decode()
    assert "ポチ" in check and "500" in check
    assert "dog.png" in check  # the file went through the page, named only
    filed = client.post(done["Location"])
    assert 'id="dry-run-done"' in filed.content.decode()

    assert _counts() == before
    assert mail.outbox == []
    assert not any(tmp_path.rglob("*.png"))
    assert AuditLog.objects.filter(action="console.preview_dry_run").exists()


def test_export_then_load_into_an_empty_database_gives_identical_versions(world, tmp_path):
    client = world.client("city_admin")
    # Console work first: a new procedure, a changed one, changed settings.
    client.post(reverse("console:procedure_new"), {"slug": "trial", "start": "blank"})
    draft = ProcedureDraft.objects.get(slug="trial")
    response = client.post(
        reverse("console:draft_edit", args=[draft.pk]), {"text": PREVIEWED, "_action": "publish"}
    )
    assert response.status_code == 302
    settings_page = client.get(reverse("console:organization_settings"))
    assert settings_page.status_code == 200
    data = {
        "contact_ja": "サンプル市役所（新）",
        "contact_en": "Sample City Hall (new)",
        "dept-TOTAL_FORMS": "4",
        "dept-INITIAL_FORMS": "3",
        "dept-MIN_NUM_FORMS": "0",
        "dept-MAX_NUM_FORMS": "100",
    }
    org = m.Organization.objects.get(slug="sample-city")
    for i, d in enumerate(org.departments.order_by("pk")):
        data[f"dept-{i}-slug"] = d.slug
        data[f"dept-{i}-name_ja"] = d.name["ja"]
        data[f"dept-{i}-name_en"] = d.name.get("en", "")
        data[f"dept-{i}-email"] = d.email
    data.update(
        {
            "dept-3-slug": "parks",
            "dept-3-name_ja": "公園課",
            "dept-3-email": "parks@city.sample.example",
        }
    )
    saved = client.post(reverse("console:organization_settings"), data)
    assert saved.status_code == 302, saved.content.decode()[:3000]

    exported = client.get(reverse("console:export"))
    assert exported.status_code == 200
    assert exported["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    names = sorted(archive.namelist())
    assert "sample-city/organization.yaml" in names
    assert "sample-city/trial.yaml" in names
    assert "sample-city/moving-in.bundle.yaml" in names
    assert not any(n.startswith("osaka-pref/") for n in names)
    root = tmp_path / "export"
    archive.extractall(root)
    assert AuditLog.objects.filter(action="console.export").exists()

    def snapshot() -> dict[str, object]:
        org = m.Organization.objects.get(slug="sample-city")
        return {
            "organization": org.content_hash,
            "departments": sorted(
                (d.slug, d.email) for d in m.Department.objects.filter(organization=org)
            ),
            "procedures": sorted(
                (p.slug, p.live_version.content_hash)
                for p in m.Procedure.objects.filter(organization=org).select_related("live_version")
            ),
            "bundles": sorted(
                (b.slug, b.live_version.content_hash)
                for b in m.Bundle.objects.filter(organization=org).select_related("live_version")
            ),
        }

    before = snapshot()
    assert ("trial", hashlib.sha256(PREVIEWED.encode()).hexdigest()) in before["procedures"]
    # A new, empty database (migrated), loaded by the command from the exported folder.
    after = _load_into_empty_database(root, tmp_path)
    assert after == json.loads(json.dumps(before))


SNAPSHOT = """
import json
from forms_engine import models as m
org = m.Organization.objects.get(slug="sample-city")
print(json.dumps({
    "organization": org.content_hash,
    "departments": sorted((d.slug, d.email) for d in m.Department.objects.filter(organization=org)),
    "procedures": sorted((p.slug, p.live_version.content_hash) for p in m.Procedure.objects.filter(organization=org).select_related("live_version")),
    "bundles": sorted((b.slug, b.live_version.content_hash) for b in m.Bundle.objects.filter(organization=org).select_related("live_version")),
    "numbers": sorted({v.number for v in m.ProcedureVersion.objects.all()}),
}))
"""


def _load_into_empty_database(root: Path, tmp_path: Path) -> dict[str, object]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/denshi")
    name = f"{base.rsplit('/', 1)[1]}_roundtrip"
    url = f"{base.rsplit('/', 1)[0]}/{name}"
    admin = f"{base.rsplit('/', 1)[0]}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    manage = [sys.executable, str(PROJECT / "manage.py")]
    try:
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=PROJECT)
        subprocess.run([*manage, "load_procedures", str(root)], env=env, check=True, cwd=PROJECT)
        out = subprocess.run(
            [*manage, "shell", "-c", SNAPSHOT],
            env=env,
            check=True,
            cwd=PROJECT,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    # A fresh database: every procedure is at its first version, with the same hash.
    assert result.pop("numbers") == [1]
    return result
