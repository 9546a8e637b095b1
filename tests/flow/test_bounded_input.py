"""A request costs the server a bounded amount of work whatever it carries: an over-long
value is refused with a field error before any normaliser reads it, and what is kept of
it (the page shown again, Draft.pending) stays small."""

from __future__ import annotations

import json

import pytest

from forms_engine import models as m
from forms_engine import normalize, services
from tests.factories import page_post

from .conftest import page_spec
from .test_every_field_type import TREE, tweak, walk_to_page

# Megabytes, yet within the request body limit (DATA_UPLOAD_MAX_MEMORY_SIZE): the field's
# own limit refuses it. A larger body is refused whole (test_request_limits).
HUGE = "1" * 2_000_000


@pytest.fixture
def every_field(db, settings):
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(TREE).errors == []


@pytest.fixture
def normalisers_refuse_huge_input(replace_in_normalize):
    """Every normaliser reads its input through normalize_text first: make it fail loudly
    if a value anywhere near the posted size ever reaches it."""
    real = normalize.normalize_text

    def guarded(s, *args, **kwargs):
        assert len(s) < 100_000, f"a normaliser was given {len(s)} characters"
        return real(s, *args, **kwargs)

    replace_in_normalize("normalize_text", guarded)


@pytest.mark.parametrize(
    ("page_id", "input_name", "error_id"),
    [
        ("basics", "f-title_text", "f-title_text-error"),  # text (max_length: 20)
        ("basics", "f-tel", "f-tel-error"),
        ("basics", "f-when-year", "f-when-error"),  # date
        ("people", "f-zip", "f-zip-error"),  # postal_code
        ("people", "f-who-family", "f-who-family-error"),  # name
        ("people", "f-addr-city", "f-addr-city-error"),  # address
    ],
)
def test_a_two_megabyte_value_gets_a_field_error_without_being_normalised(
    client, every_field, normalisers_refuse_huge_input, page_id, input_name, error_id
):
    url = walk_to_page(client, page_id)
    _draft, position, page = page_spec(url)
    data = tweak(position, page, page_post(page))
    data[input_name] = HUGE

    response = client.post(url, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="{error_id}"' in html
    assert "長すぎます" in html  # "Too long: enter at most N characters."
    assert len(html) < 200_000  # the page does not send the megabytes back
    draft = m.Draft.objects.get(pk=url.split("/")[2])
    assert len(json.dumps(draft.pending)) < 20_000  # nor does the draft keep them


def test_the_limit_of_a_text_field_is_its_own_max_length(client, every_field):
    url = walk_to_page(client, "basics")
    _draft, position, page = page_spec(url)
    data = tweak(position, page, page_post(page))
    data["f-title_text"] = "A" * 500
    html = client.post(url, data).content.decode()
    assert "20文字以内" in html


def test_saving_for_later_keeps_only_a_bounded_part_of_a_huge_value(
    client, every_field, normalisers_refuse_huge_input
):
    url = walk_to_page(client, "basics")
    response = client.post(url, {"_action": "save", "f-note": HUGE})
    assert response.status_code == 302
    draft = m.Draft.objects.get(pk=url.split("/")[2])
    assert len(json.dumps(draft.pending)) < 20_000
