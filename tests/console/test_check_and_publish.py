"""Check gives exactly the command line's errors; a broken file is saved but never
published; publishing follows the loader's content-hash rule; unpublishing stops new
filings and tells residents with a draft; the history says who published; every save,
publish and unpublish is audited with the version hash."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from console.models import ProcedureDraft, Publication
from forms_engine import models as m
from inbox.models import AuditLog
from tests.flow.conftest import walk_to_confirm

SAMPLES = Path(__file__).resolve().parents[2] / "procedures"

# Broken files, each with several errors at once (lines and key paths differ).
BROKEN = {
    "unknown-field": (SAMPLES / "sample-city" / "dog-registration.yaml")
    .read_text(encoding="utf-8")
    .replace("show_if:", "show_if: vacinated == true or", 1)
    # From the console, env names are the organization's own (test_console_trust.py).
    .replace("env:ANIMAL_DB_", "env:ORG_SAMPLE_CITY_ANIMAL_DB_"),
    "many-errors": (
        "title: {ja: 壊れた手続き}\n"
        "department: enviroment\n"
        "contact_email: mail\n"
        "login: sometimes\n"
        "pages:\n"
        "  - id: first\n"
        "    title: 最初\n"
        "    fields:\n"
        "      - id: name\n"
        "        type: nmae\n"
        "        label: 氏名\n"
        "      - id: age\n"
        "        type: number\n"
        "        label: 年齢\n"
        "        showif: age > 3\n"
        "      - id: name\n"
        "        type: text\n"
        "        label: 重複\n"
    ),
    "bad-yaml": "title: {ja: x\npages: [\n",
    "empty-ish": "title: 題名\n",
}


def _command_errors(org: m.Organization, slug: str, text: str, tmp_path: Path) -> list[str]:
    """What `manage.py validate_procedures` prints for the file next to the stored
    organization.yaml."""
    folder = tmp_path / org.slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "organization.yaml").write_text(org.source, encoding="utf-8")
    (folder / f"{slug}.yaml").write_text(text, encoding="utf-8")
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command("validate_procedures", str(tmp_path), stderr=stderr, stdout=io.StringIO())
    return [line for line in stderr.getvalue().splitlines() if line.strip()]


def _page_errors(html: str) -> list[str]:
    block = re.search(r'<ul class="check-errors">(.*?)</ul>', html, re.S)
    assert block, "no error list on the page"
    import html as htmlmod

    return [
        htmlmod.unescape(item)
        for item in re.findall(r'<li><a href="#line-\d+">(.*?)</a></li>', block.group(1), re.S)
    ]


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_check_shows_exactly_the_errors_of_the_command_line(world, tmp_path, name):
    org = m.Organization.objects.get(slug="sample-city")
    text = BROKEN[name]
    expected = _command_errors(org, name, text, tmp_path)
    assert expected, "the file must be broken"
    client = world.client("city_admin")
    client.post(reverse("console:procedure_new"), {"slug": name, "start": "blank"})
    draft = ProcedureDraft.objects.get(slug=name)
    response = client.post(
        reverse("console:draft_edit", args=[draft.pk]), {"text": text, "_action": "check"}
    )
    assert response.status_code == 200
    assert _page_errors(response.content.decode()) == expected
    # Each error's line is marked in the numbered listing.
    for line in {int(e.split(":", 2)[1].split(" ")[0]) for e in expected}:
        assert (
            f'id="line-{line}" class="source-line source-line--error"' in response.content.decode()
        )


def test_a_broken_file_is_saved_as_a_draft_but_never_published(world):
    client = world.client("city_admin")
    client.post(reverse("console:procedure_new"), {"slug": "broken-one", "start": "blank"})
    draft = ProcedureDraft.objects.get(slug="broken-one")
    response = client.post(
        reverse("console:draft_edit", args=[draft.pk]),
        {"text": BROKEN["many-errors"], "_action": "publish"},
    )
    assert response.status_code == 400
    assert 'id="publish-refused"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.text == BROKEN["many-errors"]  # kept
    assert not m.Procedure.objects.filter(slug="broken-one").exists()
    assert not m.ProcedureVersion.objects.filter(procedure__slug="broken-one").exists()
    assert not Publication.objects.exists()
    assert not AuditLog.objects.filter(action="console.publish").exists()


def _publish(client: Client, draft: ProcedureDraft, text: str):
    return client.post(
        reverse("console:draft_edit", args=[draft.pk]), {"text": text, "_action": "publish"}
    )


def test_publishing_follows_the_content_hash_rule_and_drafts_stay_on_their_version(world):
    client = world.client("city_admin")
    dog = m.Procedure.objects.get(organization__slug="sample-city", slug="dog-registration")
    v1 = dog.live_version
    assert v1 is not None
    # A resident's filing in progress on version 1.
    resident = Client()
    start = resident.post(reverse("procedure_start", args=["sample-city", "dog-registration"]))
    assert start.status_code == 302
    in_progress = m.Draft.objects.get(status=m.Draft.Status.OPEN)
    assert in_progress.version_ids == [v1.pk]

    client.post(reverse("console:procedure_edit", args=[dog.pk]))
    draft = ProcedureDraft.objects.get(slug="dog-registration")
    assert draft.text == v1.source

    # Unchanged text: no new version, no history row.
    response = _publish(client, draft, v1.source.replace("\n", "\r\n"))  # as a browser posts
    assert response.status_code == 302
    assert dog.versions.count() == 1
    assert not Publication.objects.exists()

    changed = v1.source.replace("犬の登録申請", "犬の登録申請（新）", 1)
    assert changed != v1.source
    response = _publish(client, draft, changed)
    assert response.status_code == 302
    dog.refresh_from_db()
    v2 = dog.live_version
    assert v2 is not None and v2.number == 2 and v2.source == changed
    # The same content hash the loader gives the same bytes.
    import hashlib

    assert v2.content_hash == hashlib.sha256(changed.encode()).hexdigest()
    publication = Publication.objects.get()
    assert (publication.version, publication.actor_name) == (v2, "city_admin")
    in_progress.refresh_from_db()
    assert in_progress.version_ids == [v1.pk]  # stays on its version

    # Publishing the first text again makes version 1 live again, no third version.
    _publish(client, draft, v1.source)
    dog.refresh_from_db()
    assert dog.live_version == v1 and dog.versions.count() == 2

    audit = AuditLog.objects.filter(action="console.publish").order_by("created_at")
    assert [a.data["version_hash"] for a in audit] == [
        v1.content_hash,
        v2.content_hash,
        v1.content_hash,
    ]
    saves = AuditLog.objects.filter(action="console.draft_save")
    assert {a.data["version_hash"] for a in saves} >= {v2.content_hash, v1.content_hash}

    detail = client.get(reverse("console:procedure_detail", args=[dog.pk])).content.decode()
    assert "city_admin" in detail
    diff = client.get(reverse("console:version_diff", args=[dog.pk]) + "?a=1&b=2")
    body = diff.content.decode()
    assert (
        '<span class="diff__del">-title: {ja: 犬の登録申請' in body or "犬の登録申請（新）" in body
    )
    assert 'class="diff__add">+' in body


def test_the_diff_is_escaped(world):
    client = world.client("city_admin")
    dog = m.Procedure.objects.get(organization__slug="sample-city", slug="dog-registration")
    v1 = dog.live_version
    assert v1 is not None
    client.post(reverse("console:procedure_edit", args=[dog.pk]))
    draft = ProcedureDraft.objects.get(slug="dog-registration")
    text = v1.source + "# <script>alert(1)</script>\n"
    assert _publish(client, draft, text).status_code == 302
    body = client.get(reverse("console:version_diff", args=[dog.pk]) + "?a=1&b=2").content
    assert b"<script>alert(1)" not in body
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_unpublishing_stops_new_filings_and_tells_residents_with_a_draft(world):
    client = world.client("city_admin")
    dog = m.Procedure.objects.get(organization__slug="sample-city", slug="dog-registration")
    resident = Client()
    start_url = reverse("procedure_start", args=["sample-city", "dog-registration"])
    # A resident has filled in every page and stands on the check page.
    walk_to_confirm(resident, start_url)
    draft = m.Draft.objects.get(status=m.Draft.Status.OPEN)
    first_page = reverse("filing_page", args=[draft.pk, 0, "owner"])

    response = client.post(reverse("console:procedure_unpublish", args=[dog.pk]))
    assert response.status_code == 302
    dog.refresh_from_db()
    assert dog.unpublished_at is not None
    row = AuditLog.objects.get(action="console.unpublish")
    assert row.data["version_hash"] == dog.live_version.content_hash
    assert Publication.objects.get().action == Publication.Action.UNPUBLISH

    # The start page says it is closed, and a new filing cannot start.
    page = Client().get(start_url).content.decode()
    assert "受け付けていません" in page or "accepts no applications" in page
    assert Client().post(start_url).status_code == 200
    assert m.Draft.objects.filter(status=m.Draft.Status.OPEN).count() == 1
    # The home page no longer offers it.
    assert start_url not in Client().get(reverse("home")).content.decode()

    # The resident's draft page says so, and it cannot be submitted.
    body = resident.get(first_page).content.decode()
    assert 'id="unpublished-notice"' in body
    confirm = resident.get(reverse("filing_confirm", args=[draft.pk])).content.decode()
    assert 'id="unpublished-notice"' in confirm
    submitted = resident.post(reverse("filing_confirm", args=[draft.pk]))
    assert submitted.status_code == 409
    assert 'id="unpublished-notice"' in submitted.content.decode()
    assert not m.Submission.objects.filter(draft=draft).exists()
    draft.refresh_from_db()
    assert draft.status == m.Draft.Status.OPEN

    # Published again: filings start again.
    client.post(reverse("console:procedure_republish", args=[dog.pk]))
    dog.refresh_from_db()
    assert dog.unpublished_at is None
    assert Client().post(start_url).status_code == 302
