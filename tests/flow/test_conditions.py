"""Conditions across pages: an answer on a page that became hidden counts as null for
every later condition and is never handed over."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services

TREE = Path(__file__).resolve().parent.parent / "fixtures" / "procedures"


@pytest.fixture
def survey(db, settings):
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(TREE).errors == []


def test_changing_an_earlier_answer_drops_what_it_no_longer_shows(client, survey):
    first = client.post(reverse("procedure_start", args=["test-town", "pet-survey"]))["Location"]
    answers = {"f-mail": "a@example.jp", "f-has_dog": "yes"}
    dogs = client.post(first, {"_action": "next", **answers})["Location"]
    assert dogs.endswith("/dogs/")
    notes = client.post(dogs, {"_action": "next", "f-dog_count": "2"})["Location"]
    html = client.get(notes).content.decode()
    assert 'name="f-dog_note"' in html  # shown: dog_count > 0
    client.post(notes, {"_action": "next", "f-dog_note": "よく吠えます", "f-other_note": "なし"})

    # The resident goes back to the first page and answers no.
    confirm = client.post(first, {"_action": "next", **answers, "f-has_dog": "no"})["Location"]
    assert confirm.endswith("/notes/")  # the dogs page is skipped now
    html = client.get(notes).content.decode()
    assert 'name="f-dog_note"' not in html  # dog_count is null: its note is not asked
    response = client.post(notes, {"_action": "next", "f-other_note": "なし"})
    client.post(response["Location"])

    sub = m.Submission.objects.get()
    assert sub.answers["has_dog"] is False
    assert "dog_count" not in sub.answers
    assert "dog_note" not in sub.answers
    assert sub.fee_total == 0


def test_the_fee_counts_what_is_shown(client, survey):
    first = client.post(reverse("procedure_start", args=["test-town", "pet-survey"]))["Location"]
    dogs = client.post(first, {"_action": "next", "f-mail": "a@example.jp", "f-has_dog": "yes"})
    notes = client.post(dogs["Location"], {"_action": "next", "f-dog_count": "3"})["Location"]
    confirm = client.post(notes, {"_action": "next", "f-dog_note": "x"})["Location"]
    client.post(confirm)
    assert m.Submission.objects.get().fee_total == 300


def test_a_bundle_asks_a_shared_field_again_where_its_rules_are_stricter(client, survey):
    from tests.factories import page_post

    from .conftest import page_spec
    from .test_every_field_type import tweak

    url = client.post(reverse("bundle_start", args=["test-town", "strict"]))["Location"]
    while "/1/" not in url:
        _d, position, page = page_spec(url)
        data = tweak(position, page, page_post(page))
        if page.id == "basics":
            data["f-tel"] = ""  # optional in the first procedure
        if page.id == "people":
            data["f-who-kana_family"] = data["f-who-kana_given"] = ""  # kana optional there
        response = client.post(url, data)
        assert response.status_code == 302
        url = response["Location"]

    # The e-mail meets the second procedure's rules: asked once. The phone (required
    # here) and the name (kana required here) are asked again, starting from the answers.
    assert url.endswith("/1/contact/")
    html = client.get(url).content.decode()
    assert 'name="f-mail"' not in html
    assert 'name="f-tel"' in html
    assert 'name="f-who-kana_family"' in html and 'value="山田"' in html
    response = client.post(url, {"_action": "next", "f-who-family": "山田", "f-who-given": "太郎"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "f-tel-error" in text and "f-who-kana_family-error" in text
