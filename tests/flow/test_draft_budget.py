"""A draft holds a bounded amount of text in all (DRAFT_TEXT_MAX_CHARS), checked before
anything is normalised; a request body past what that needs is refused whole with a
translated page; and the confirmation page validates each stored value once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from forms_engine import models as m
from forms_engine import normalize, services

ORGANIZATION = """\
name: {ja: 長文町, en: Long Town}
departments:
  - {slug: general, name: {ja: 総務課, en: General Affairs}, email: general@long.test.example}
"""
PROCEDURE = """\
title: {ja: 長い意見書, en: Long statements}
department: general
contact_email: mail
pages:
  - id: intro
    title: 件名
    fields:
      - {id: title, type: text, label: 件名, required: true}
      - {id: mail, type: email, label: メール, required: true}
  - id: notes
    title: 意見
    fields:
      - id: notes
        type: group
        label: 意見
        repeat: {min: 1, max: 100}
        fields:
          - {id: body, type: textarea, label: 本文, max_length: 100000, required: true}
"""
TITLE = "道路の補修について"
MAIL = "taro@example.jp"


@pytest.fixture
def long_notes(db, tmp_path, settings):
    settings.RATE_LIMIT_ENABLED = False
    root = tmp_path / "procedures"
    (root / "long-town").mkdir(parents=True)
    (root / "long-town" / "organization.yaml").write_text(ORGANIZATION, encoding="utf-8")
    (root / "long-town" / "statements.yaml").write_text(PROCEDURE, encoding="utf-8")
    assert services.procedures_load(root).errors == []


@pytest.fixture
def normalised(replace_in_normalize):
    """The values normalize_text is given, in order."""
    seen: list[str] = []
    real = normalize.normalize_text

    def counting(s, *args, **kwargs):
        seen.append(s)
        return real(s, *args, **kwargs)

    replace_in_normalize("normalize_text", counting)
    return seen


def notes_page(client) -> str:
    """A filing started, its first page answered: the URL of the notes page."""
    start = client.post(reverse("procedure_start", args=["long-town", "statements"]))
    intro = start["Location"]
    response = client.post(intro, {"_action": "next", "f-title": TITLE, "f-mail": MAIL})
    assert response.status_code == 302
    return response["Location"]


def notes(count: int, length: int, action: str = "next") -> dict[str, str]:
    data = {"_action": action, "f-notes-count": str(count)}
    for i in range(count):
        data[f"f-notes-{i}-body"] = "あ" * length
    return data


def draft_of(url: str) -> m.Draft:
    return m.Draft.objects.get(pk=url.split("/")[2])


def test_a_page_past_the_drafts_text_budget_is_refused_unread_and_nothing_else_is_lost(
    client, long_notes, normalised
):
    url = notes_page(client)
    normalised.clear()

    # 100 entries of 2,500 characters: each within its field's limit, 250,000 in all.
    response = client.post(url, notes(100, 2_500))

    assert response.status_code == 413
    html = response.content.decode()
    assert 'id="page-error"' in html
    assert "200,000文字" in html
    assert normalised == []  # refused before any normaliser read it
    draft = draft_of(url)
    assert draft.answers == {"0": {"title": TITLE, "mail": MAIL}}
    assert draft.pending == {}


@pytest.mark.parametrize("action", ["back", "save", "add:f-notes"])
def test_keeping_typing_past_the_budget_is_refused_too(client, long_notes, settings, action):
    settings.DRAFT_TEXT_MAX_CHARS = 1_000
    url = notes_page(client)

    response = client.post(url, notes(3, 400, action))

    assert response.status_code == 413
    assert "1,000文字" in response.content.decode()
    assert draft_of(url).pending == {}


def test_an_autosave_past_the_budget_keeps_nothing(client, long_notes, settings):
    settings.DRAFT_TEXT_MAX_CHARS = 1_000
    url = notes_page(client)
    response = client.post(url, notes(3, 400, "autosave"))
    assert response.status_code == 413
    assert draft_of(url).pending == {}


def test_a_page_within_the_budget_is_saved(client, long_notes, settings):
    settings.DRAFT_TEXT_MAX_CHARS = 1_000
    url = notes_page(client)
    response = client.post(url, notes(2, 400))
    assert response.status_code == 302
    assert len(draft_of(url).answers["0"]["notes"]) == 2


def test_the_budget_holds_under_the_drafts_lock_too(client, long_notes, settings):
    # What a second tab would meet: the service refuses even if the view's check passed.
    settings.DRAFT_TEXT_MAX_CHARS = 1_000
    draft = draft_of(notes_page(client))
    with pytest.raises(services.FilingError) as info:
        services.draft_save_pending(draft, "0.notes", {"notes": [{"body": "あ" * 1_200}]})
    assert info.value.code == "too_much_text"
    assert draft_of(f"/f/{draft.pk}/").pending == {}


def test_a_request_body_past_what_the_budget_needs_gets_a_translated_413_page(
    client, long_notes, normalised
):
    url = notes_page(client)
    normalised.clear()

    # The reviewer's draft: 100 x 30,000 Japanese characters, 9 MB in the body.
    response = client.post(url, notes(100, 30_000))

    assert response.status_code == 413
    html = response.content.decode()
    assert "送信された内容が大きすぎます" in html
    assert normalised == []
    assert draft_of(url).answers == {"0": {"title": TITLE, "mail": MAIL}}


def test_the_request_body_limit_follows_the_text_budget():
    code = "from django.conf import settings; print(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)"
    env = {"DRAFT_TEXT_MAX_CHARS": "1000", "DJANGO_SETTINGS_MODULE": "config.settings"}
    import os

    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # 1,000 characters of 4 bytes, percent-encoded, and room for the field names.
    assert int(out) == 1_000 * 12 + 256 * 1024


def test_the_confirmation_page_validates_each_stored_value_once(client, long_notes, normalised):
    url = notes_page(client)
    response = client.post(url, notes(10, 1_000))
    assert response.status_code == 302
    normalised.clear()

    response = client.get(reverse("filing_confirm", args=[draft_of(url).pk]))

    assert response.status_code == 200
    # The title and ten notes: each normalised once (it was three times per entry).
    assert sorted(len(s) for s in normalised if len(s) == 1_000) == [1_000] * 10
