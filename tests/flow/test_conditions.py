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
