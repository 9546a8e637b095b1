"""The inbox list: filters, search, sort, keyset pages, counts per status, and a constant
number of queries per page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection  # noqa: F401 - read by skipif
from django.urls import reverse
from django.utils import timezone

from forms_engine import models as m
from inbox.selectors import InboxFilters, inbox_page, receipt_query
from integrations.models import Delivery

from .conftest import R, make_staff, make_submission, verified_client

S = m.Submission.Status
URL = "/staff/"


@pytest.fixture
def reviewer(loaded):
    return make_staff("env", "sample-city", R.REVIEWER, "environment")


def numbers(response) -> list[str]:
    return re.findall(
        r'<a href="/staff/submissions/[0-9a-f-]+/">([^<]+)</a>', response.content.decode()
    )


def at(days_ago: int, minutes: int = 0) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago, minutes=minutes)


def test_filters_by_status_date_payment_delivery_and_assignment(reviewer):
    other = make_staff("env2", "sample-city", R.REVIEWER, "environment")
    a = make_submission(status=S.SUBMITTED, submitted_at=at(10))
    b = make_submission(status=S.IN_REVIEW, submitted_at=at(5), assigned_to=reviewer)
    c = make_submission(
        status=S.SUBMITTED,
        submitted_at=at(1),
        assigned_to=other,
        payment_status=m.Submission.PaymentStatus.PAID,
    )
    Delivery.objects.create(
        submission=c,
        procedure_version=c.procedure_version,
        integration_id="x",
        type="webhook",
        state=Delivery.State.DEAD,
    )
    Delivery.objects.create(
        submission=b,
        procedure_version=b.procedure_version,
        integration_id="x",
        type="webhook",
        state=Delivery.State.DELIVERED,
    )
    client = verified_client(reviewer)

    def listed(**params):
        return set(numbers(client.get(URL, params)))

    assert listed() == {a.number, b.number, c.number}
    assert listed(status=S.SUBMITTED) == {a.number, c.number}
    assert listed(**{"from": at(6).date().isoformat()}) == {b.number, c.number}
    assert listed(to=at(4).date().isoformat()) == {a.number, b.number}
    assert listed(payment="paid") == {c.number}
    assert listed(payment="none") == {a.number, b.number}
    assert listed(delivery="dead") == {c.number}
    assert listed(delivery="delivered") == {b.number}
    assert listed(delivery="none") == {a.number}
    assert listed(mine="1") == {b.number}
    dog = m.Procedure.objects.get(slug="dog-registration")
    assert listed(procedure=str(dog.pk)) == {a.number, b.number, c.number}
    # Unreadable values are ignored, never a 500.
    assert listed(status="nonsense", to="2026-13-45", procedure="x") == {
        a.number,
        b.number,
        c.number,
    }


def test_sorts_and_keyset_pages_cover_every_row_once(reviewer):
    made = [
        make_submission(
            submitted_at=at(0, minutes=i), status=[S.SUBMITTED, S.IN_REVIEW][i % 3 == 0]
        )
        for i in range(7)
    ]
    same_time = at(0, minutes=100)
    made += [make_submission(submitted_at=same_time) for _ in range(3)]  # ties on the date
    for sort in ("newest", "oldest", "status"):
        seen: list[str] = []
        cursor = ""
        while True:
            rows, cursor, _counts = inbox_page(reviewer, InboxFilters(), sort, cursor, size=3)
            seen += [r.number for r in rows]
            if not cursor:
                break
        assert sorted(seen) == sorted(s.number for s in made), sort
        assert len(seen) == len(set(seen))
        if sort == "newest":
            times = [m.Submission.objects.get(number=n).submitted_at for n in seen]
            assert times == sorted(times, reverse=True)
        if sort == "status":
            statuses = [m.Submission.objects.get(number=n).status for n in seen]
            assert statuses == sorted(statuses)


def test_the_page_links_to_the_next_page_and_a_forged_cursor_lists_nothing(reviewer):
    for i in range(3):
        make_submission(submitted_at=at(0, minutes=i))
    client = verified_client(reviewer)
    first = client.get(URL, {"size": "2"})
    text = first.content.decode()
    link = re.search(r'href="\?([^"]*after=[^"]+)" rel="next"', text)[1].replace("&amp;", "&")
    second = client.get(URL + "?" + link)
    assert len(numbers(first)) == 2 and len(numbers(second)) == 1
    assert not set(numbers(first)) & set(numbers(second))
    assert client.get(URL, {"after": "not-a-cursor"}).status_code == 200
    assert numbers(client.get(URL, {"after": "WyJ4IiwieSJd"})) == []


def test_counts_per_status_cover_the_scope_and_procedure_not_the_status_filter(world):
    make_submission(status=S.IN_REVIEW)
    make_submission(status=S.IN_REVIEW)
    make_submission("sample-city", "resident-moving-in", status=S.IN_REVIEW)  # another dept
    rows, _cursor, counts = inbox_page(
        world.users["city_env"], InboxFilters(status=S.SUBMITTED), "newest", ""
    )
    assert counts == {S.SUBMITTED: 1, S.IN_REVIEW: 2}
    assert [r.status for r in rows] == [S.SUBMITTED]
    # Other filters narrow the rows, not the counts (the workload of the procedure).
    rows, _cursor, same = inbox_page(
        world.users["city_env"], InboxFilters(query="該当なし", assigned_to_me=True), "newest", ""
    )
    assert rows == [] and same == counts
    moving = m.Procedure.objects.get(slug="resident-moving-in")
    _rows, _c, other_procedure = inbox_page(
        world.users["city_admin"], InboxFilters(procedure_id=moving.pk), "newest", ""
    )
    assert other_procedure == {S.SUBMITTED: 1, S.IN_REVIEW: 1}
    _rows, _c, admin_counts = inbox_page(world.users["city_admin"], InboxFilters(), "newest", "")
    assert admin_counts == {S.SUBMITTED: 2, S.IN_REVIEW: 3}
    text = world.client("city_env").get(URL).content.decode()
    assert re.search(r"In review|審査中", text)


@pytest.mark.parametrize("rows", [1, 50])
def test_a_page_costs_the_same_few_queries_whatever_it_holds(
    reviewer, rows, django_assert_max_num_queries
):
    other = make_staff("assignee", "sample-city", R.REVIEWER, "environment")
    for i in range(rows):
        make_submission(submitted_at=at(0, minutes=i), assigned_to=other if i % 2 else None)
    client = verified_client(reviewer)
    client.get(URL)  # sessions and caches warm
    # session + user + OTP device + memberships + rows + counts + procedures (+ session save)
    with django_assert_max_num_queries(9):
        response = client.get(URL, {"q": "", "sort": "newest"})
    assert len(numbers(response)) == rows
    with django_assert_max_num_queries(9):
        response = client.get(URL, {"q": "やまだ", "status": "submitted"})
    assert len(numbers(response)) == rows


def test_receipt_numbers_are_read_in_any_width_and_case():
    assert receipt_query("acef-hjkm-nprt") == "ACEF-HJKM-NPRT"
    assert receipt_query("ＡＣＥＦＨＪ") == "ACEF-HJ"
    assert receipt_query("ACE") is None  # too short to be one: a name search
    assert receipt_query("山田") is None


def test_name_search_matches_hiragana_katakana_half_width_and_kanji(reviewer):
    target = make_submission(
        family="齋藤", given="美咲", kana_family="サイトウ", kana_given="ミサキ"
    )
    make_submission(family="斎藤", given="健", kana_family="サイトウ", kana_given="ケン")
    client = verified_client(reviewer)
    for query in ("齋藤", "齋藤 美咲", "さいとうみさき", "サイトウ　ミサキ", "ｻｲﾄｳﾐｻｷ", "みさき"):
        assert numbers(client.get(URL, {"q": query})) == [target.number], query
    assert len(numbers(client.get(URL, {"q": "さいとう"}))) == 2
    assert numbers(client.get(URL, {"q": "%"})) == []  # no wildcard


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL indexes")
def test_name_and_receipt_searches_can_use_their_indexes_on_postgresql(reviewer):
    """The search conditions the list builds are ones the trigram index (any part of a
    name) and the pattern index (receipt number prefixes) answer: with scans of the whole
    table off, the plan names them."""

    from inbox.selectors import _search

    make_submission(family="姓", given="名", kana_family="セイ", kana_given="メイ")
    base = m.Submission.objects.order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        name_plan = _search(base, "せいめい").explain()
        number_plan = _search(base, "ACEF-HJ").explain()
    assert "submission_name_search_trgm_idx" in name_plan, name_plan
    assert "submission_number_prefix_idx" in number_plan, number_plan


def test_a_corrected_name_is_found_by_its_new_reading(world):
    from django.test import Client

    from forms_engine import services
    from tests.flow.conftest import file_completely

    draft, _done = file_completely(
        Client(), reverse("procedure_start", args=["sample-city", "resident-moving-in"])
    )
    sub = m.Submission.objects.get(draft=draft)  # filed as 山田 太郎 (ヤマダ タロウ)
    reviewer = world.users["city_cit"]
    client = world.client("city_cit")
    assert sub.number in numbers(client.get(URL, {"q": "やまだたろう"}))
    services.submission_review_start(sub.pk, actor=reviewer)
    services.submission_return(sub.pk, ["name"], "氏名の読みを確認してください", actor=reviewer)
    services.submission_resubmit(
        sub.pk,
        {
            "name": {
                "family": "山田",
                "given": "太郎",
                "kana_family": "ヤマタ",
                "kana_given": "タロウ",
            }
        },
    )
    assert numbers(client.get(URL, {"q": "やまたたろう"})) == [sub.number]
    assert sub.number not in numbers(client.get(URL, {"q": "やまだたろう"}))
