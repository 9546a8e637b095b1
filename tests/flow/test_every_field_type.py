"""A procedure with every field type of the format (written only from the format page)
files end to end: groups with conditions, postal codes and files inside entries, page
conditions, and fees with quantity and when."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services

from .conftest import file_completely, walk_to_confirm

TREE = Path(__file__).resolve().parent.parent / "fixtures" / "procedures"
START = ("test-town", "every-field")


@pytest.fixture
def every_field(db):
    report = services.procedures_load(TREE)
    assert report.errors == []


def tweak(position, page, data):
    if page.id == "basics":
        data["f-title_text"] = "Annual report"
        data["f-copies"] = "３"  # full-width digits are accepted
        data["f-weight"] = "1.5"
    if page.id == "people":
        data["f-helpers-0-helper_role"] = "lead"
        data["f-helpers-0-helper_role_other"] = "posted while hidden"
    return data


def test_every_field_type_files_end_to_end(client, every_field):
    draft, done = file_completely(client, reverse("procedure_start", args=list(START)), tweak)
    sub = draft.receipt.submissions.get()
    a = sub.answers
    assert a["title_text"] == "Annual report"
    assert a["copies"] == 3 and a["weight"] == 1.5
    assert a["color"] == "red" and a["extras"] == ["a"] and a["agree_news"] is True
    assert a["news_topic"] == "テスト"  # shown: agree_news and 'a' in extras
    assert a["who"]["family"] == "山田"
    assert a["zip"] == "5400008" and a["addr"]["prefecture"] == "大阪府"
    assert len(a["corp"]) == 13
    assert a["account"]["number"] == "1234567"
    helper = a["helpers"][0]
    assert helper["helper_role"] == "lead"
    assert "helper_role_other" not in helper  # hidden in its entry: not kept
    assert len(helper["helper_doc"]) == 1
    assert len(a["docs"]) == 1 and a["ok"] is True
    # Files of group entries travel with the submission too.
    assert sub.attachments.count() == 2
    # 500 + 100 x 3 copies; the helper fee applies only when 'b' is chosen.
    assert sub.fee_total == 800
    assert [line["subtotal"] for line in sub.fee_lines] == [500, 300, 0]
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT


def test_a_page_condition_skips_the_page_and_drops_its_answers(client, every_field):
    def no_copies(position, page, data):
        data = tweak(position, page, data)
        if page.id == "basics":
            data["f-copies"] = "0"
        return data

    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(START)), no_copies)
    html = client.get(confirm).content.decode()
    assert "補助者" not in html  # the "people" page was skipped
    client.post(confirm)
    sub = m.Submission.objects.get()
    assert "who" not in sub.answers and "helpers" not in sub.answers
    assert sub.fee_total == 500


def test_a_pattern_message_from_the_file_is_shown(client, every_field):
    from tests.factories import page_post

    from .conftest import page_spec

    url = client.post(reverse("procedure_start", args=list(START)))["Location"]
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-title_text"] = "lower case"
    response = client.post(url, data)
    assert "英大文字で始めてください" in response.content.decode()


def test_the_group_minimum_is_enforced_on_the_server(client, every_field):
    from tests.factories import page_post

    from .conftest import page_spec

    url = walk_to_page(client, "people")
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-helpers-count"] = "0"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "f-helpers-error" in response.content.decode()


def walk_to_page(client, page_id):
    from tests.factories import page_post

    from .conftest import page_spec

    url = client.post(reverse("procedure_start", args=list(START)))["Location"]
    while True:
        _d, position, page = page_spec(url)
        if page.id == page_id:
            return url
        url = client.post(url, tweak(position, page, page_post(page)))["Location"]


def test_a_required_group_needs_one_entry_even_with_repeat_min_zero(client, db, tmp_path, settings):
    import shutil

    settings.RATE_LIMIT_ENABLED = False
    tree = tmp_path / "procedures"
    shutil.copytree(TREE, tree)
    path = tree / "test-town" / "every-field.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "repeat: {min: 1, max: 3}", "required: true\n        repeat: {min: 0, max: 3}"
    )
    path.write_text(text, encoding="utf-8")
    assert services.procedures_load(tree).errors == []
    from tests.factories import page_post

    from .conftest import page_spec

    url = walk_to_page(client, "people")
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-helpers-count"] = "0"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "f-helpers-error" in response.content.decode()
