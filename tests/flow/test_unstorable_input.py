"""Characters PostgreSQL cannot keep (NUL in text or JSON, lone surrogates in JSON) are
dropped from what a resident typed, on every path that stores it: the rest is kept."""

from __future__ import annotations

import pytest
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from forms_engine.fields import Ctx
from forms_engine.filing import process_page

from .conftest import page_spec

DOG = ("sample-city", "dog-registration")


def start(client) -> str:
    response = client.post(reverse("procedure_start", args=list(DOG)))
    assert response.status_code == 302
    return response["Location"]


@pytest.mark.parametrize("action", ["next", "back", "save", "autosave"])
def test_a_nul_character_is_dropped_and_the_rest_of_the_typing_is_kept(client, loaded, action):
    url = start(client)
    # The phone number does not validate yet: "next" keeps the page as pending input too.
    response = client.post(
        url, {"_action": action, "f-name-family": "山\x00田", "f-phone": "06-12\x00"}
    )
    assert response.status_code in (200, 204, 302)
    html = client.get(url).content.decode()
    assert 'value="山田"' in html
    assert 'value="06-12"' in html
    draft = m.Draft.objects.get()
    assert "\x00" not in str(draft.pending)


def test_a_nul_character_on_a_page_that_fails_validation_is_not_shown_back(client, loaded):
    url = start(client)
    response = client.post(url, {"f-name-family": "山\x00田", "f-phone": "06-12"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="山田"' in html
    assert "\x00" not in html


def test_a_nul_character_in_a_valid_page_is_not_kept_in_the_answers(client, loaded):
    from tests.factories import page_post

    url = start(client)
    _draft, _position, page = page_spec(url)
    data = page_post(page)
    data["f-name-family"] = "山\x00田"
    assert client.post(url, data).status_code == 302
    draft = m.Draft.objects.get()
    assert draft.answers["0"]["name"]["family"] == "山田"


def test_a_lone_surrogate_is_dropped_before_the_input_is_stored(client, loaded):
    # Form posts decode invalid UTF-8 as U+FFFD, so a lone surrogate can only come from
    # code (a JSON body, say): the page is read as the view reads it, then stored.
    url = start(client)
    draft, position, page = page_spec(url)
    view = services.draft_view(draft)
    step = view.step(position, page.id)
    data = _QueryDict({"f-name-family": "山\ud800田", "f-phone": "06-12\udfff"})
    result = process_page(view, step, data, Ctx(lang="ja"), validate=False)
    services.draft_save_pending(draft, step.key, result.raw)
    draft.refresh_from_db()
    assert draft.pending[step.key]["name"]["family"] == "山田"
    assert draft.pending[step.key]["phone"] == "06-12"


class _QueryDict(dict):
    def getlist(self, key):
        value = self.get(key)
        return [] if value is None else [value]
