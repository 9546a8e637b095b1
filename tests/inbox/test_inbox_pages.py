"""The inbox list and a submission's page: scope, search, rendering."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from forms_engine import models as m
from inbox.models import AuditLog

from .conftest import make_submission


def detail_url(sub: m.Submission) -> str:
    return reverse("inbox:submission_detail", args=[sub.pk])


def test_a_reviewer_lists_the_submissions_of_their_department_only(world):
    response = world.client("city_env").get(reverse("inbox:submission_list"))

    assert response.status_code == 200
    text = response.content.decode()
    assert world.submissions["city_env"].number in text
    for other in ("city_cit", "pref_dx", "pref_ga"):
        assert world.submissions[other].number not in text


def test_an_organization_admin_lists_the_whole_organization(world):
    text = world.client("city_admin").get(reverse("inbox:submission_list")).content.decode()

    assert world.submissions["city_env"].number in text
    assert world.submissions["city_cit"].number in text
    assert world.submissions["pref_dx"].number not in text


def test_the_detail_page_shows_the_answers_as_the_resident_saw_them_and_is_audited(world):
    sub = world.submissions["city_env"]
    response = world.client("city_env").get(detail_url(sub))

    assert response.status_code == 200
    text = response.content.decode()
    assert "犬の登録申請" in text  # the procedure version's own title
    assert "山田" in text and "ヤマダ" in text  # the name as the confirmation page shows it
    row = AuditLog.objects.get(action="submission.view")
    assert row.submission_id == sub.pk and row.actor_name == "city_env"
    assert row.organization_id == sub.organization_id
    assert row.address == "127.0.0.1"


def test_a_submission_of_another_department_is_not_found(world):
    response = world.client("city_env").get(detail_url(world.submissions["city_cit"]))
    assert response.status_code == 404
    assert not AuditLog.objects.filter(action="submission.view").exists()


def test_a_password_only_session_is_sent_to_the_second_factor(world):
    client = Client()
    client.force_login(world.users["city_env"])

    response = client.get(reverse("inbox:submission_list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("inbox:login"))


def test_search_by_receipt_number_prefix_and_by_name_in_kanji_or_kana(world):
    sub = make_submission(
        number="ACEF-HJKM-NPRT",
        family="渡辺",
        given="健",
        kana_family="ワタナベ",
        kana_given="ケン",
    )
    client = world.client("city_env")
    url = reverse("inbox:submission_list")

    for query in (
        "ACEF-HJKM-NPRT",
        "acefhjkm",
        "ＡＣＥＦ",
        "渡辺",
        "渡辺 健",
        "わたなべ",
        "ワタナベケン",
        "ﾜﾀﾅﾍﾞ",
    ):
        text = client.get(url, {"q": query}).content.decode()
        assert sub.number in text, query
        assert world.submissions["city_env"].number not in text, query
    text = client.get(url, {"q": "やまだ"}).content.decode()
    assert world.submissions["city_env"].number in text and sub.number not in text
