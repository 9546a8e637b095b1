"""The review actions of the inbox: each POSTed from a submission's page, scoped, CSRF-
checked, audited, refused transitions shown as an error; and the whole correction round
with the resident's status page in between."""

from __future__ import annotations

import re

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from inbox.models import AuditLog
from tests.flow.conftest import file_completely

S = m.Submission.Status


def detail_url(sub: m.Submission) -> str:
    return reverse("inbox:submission_detail", args=[sub.pk])


def action_url(sub: m.Submission, name: str) -> str:
    return reverse("inbox:submission_action", args=[sub.pk, name])


def status_of(sub: m.Submission) -> str:
    return m.Submission.objects.get(pk=sub.pk).status


def test_start_review_then_approve_from_the_page_each_audited(world):
    sub = world.submissions["city_env"]
    client = world.client("city_env")
    page = client.get(detail_url(sub)).content.decode()
    assert action_url(sub, "start_review") in page
    assert action_url(sub, "approve") not in page  # not allowed from 受付

    response = client.post(action_url(sub, "start_review"))
    assert response.status_code == 302 and response["Location"].endswith("#actions")
    assert status_of(sub) == S.IN_REVIEW
    page = client.get(detail_url(sub)).content.decode()
    assert action_url(sub, "approve") in page and action_url(sub, "start_review") not in page

    assert client.post(action_url(sub, "approve")).status_code == 302
    sub.refresh_from_db()
    assert sub.status == S.ACCEPTED and sub.decided_at is not None
    rows = list(
        AuditLog.objects.filter(action__startswith="submission.")
        .exclude(action="submission.view")
        .order_by("id")
        .values_list("action", "data")
    )
    assert rows == [
        ("submission.start_review", {"from": "submitted", "to": "in_review"}),
        ("submission.approve", {"from": "in_review", "to": "accepted"}),
    ]
    assert sub.events.filter(topic="submission.approved").get().payload["actor"] == (
        world.users["city_env"].pk
    )


def test_a_refused_transition_is_shown_as_an_error_and_changes_nothing(world):
    sub = world.submissions["city_env"]
    client = world.client("city_env")
    response = client.post(action_url(sub, "approve"))  # still 受付
    assert response.status_code == 409
    text = response.content.decode()
    assert 'id="action-error"' in text and "現在の状況では" in text
    assert status_of(sub) == S.SUBMITTED
    assert not sub.events.filter(topic="submission.approved").exists()
    refused = AuditLog.objects.get(action="submission.approve.refused")
    assert refused.data == {"code": "not_allowed", "status": "submitted"}


def test_reject_needs_a_reason_which_is_kept_out_of_the_audit(world):
    sub = world.submissions["city_env"]
    client = world.client("city_env")
    client.post(action_url(sub, "start_review"))
    response = client.post(action_url(sub, "reject"), {"reason": "  "})
    assert response.status_code == 409 and status_of(sub) == S.IN_REVIEW
    response = client.post(action_url(sub, "reject"), {"reason": "所有者の確認ができません"})
    assert response.status_code == 302 and status_of(sub) == S.REJECTED
    assert m.SubmissionMessage.objects.get(submission=sub).body == "所有者の確認ができません"
    assert "所有者" not in str(list(AuditLog.objects.values_list("data", flat=True)))


def test_return_offers_the_versions_visible_fields_and_needs_one(world):
    sub = world.submissions["pref_ga"]  # records disclosure, general affairs
    client = world.client("pref_ga")
    client.post(action_url(sub, "start_review"))
    page = client.get(detail_url(sub)).content.decode()
    picker = set(re.findall(r'name="fields" value="([a-z_]+)"', page))
    assert {"name", "email", "requester_type"} <= picker
    assert "corporation_name" not in picker  # hidden by the answers (not a corporation)

    response = client.post(action_url(sub, "return"), {"message": "確認してください"})
    assert response.status_code == 409
    assert "Choose at least one" in response.content.decode() or "1つ以上" in (
        response.content.decode()
    )
    assert status_of(sub) == S.IN_REVIEW
    response = client.post(
        action_url(sub, "return"), {"fields": ["corporation_name"], "message": "確認"}
    )
    assert response.status_code == 409 and status_of(sub) == S.IN_REVIEW

    response = client.post(
        action_url(sub, "return"), {"fields": ["email", "name"], "message": "氏名の漢字を確認"}
    )
    assert response.status_code == 302 and status_of(sub) == S.RETURNED
    row = AuditLog.objects.get(action="submission.return")
    assert row.data["fields"] == ["email", "name"] and "氏名" not in str(row.data)


def test_actions_outside_the_users_scope_are_not_found(world):
    sub = world.submissions["city_env"]
    for user in ("city_cit", "pref_ga", "pref_admin"):
        client = world.client(user)
        for name in ("start_review", "assign", "return", "approve", "reject", "message", "note"):
            response = client.post(action_url(sub, name), {"body": "x", "reason": "x"})
            assert response.status_code == 404, (user, name)
    assert status_of(sub) == S.SUBMITTED
    assert not m.SubmissionNote.objects.exists() and not m.SubmissionMessage.objects.exists()
    # An unknown action and a GET are not actions either.
    client = world.client("city_env")
    assert client.post(action_url(sub, "delete")).status_code == 404
    assert client.get(action_url(sub, "start_review")).status_code == 405


def test_actions_need_the_csrf_token(world):
    sub = world.submissions["city_env"]
    client = world.client("city_env")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.post(action_url(sub, "start_review")).status_code == 403
    assert status_of(sub) == S.SUBMITTED


def test_assign_to_me_to_a_colleague_and_never_outside_the_department(world):
    sub = world.submissions["city_env"]
    client = world.client("city_env")
    page = client.get(detail_url(sub)).content.decode()
    admin = world.users["city_env_admin"]
    assert f'<option value="{admin.pk}"' in page
    assert f'<option value="{world.users["city_cit"].pk}"' not in page

    assert client.post(action_url(sub, "assign"), {"assignee": "me"}).status_code == 302
    assert m.Submission.objects.get(pk=sub.pk).assigned_to == world.users["city_env"]
    assert client.post(action_url(sub, "assign"), {"assignee": str(admin.pk)}).status_code == 302
    assert m.Submission.objects.get(pk=sub.pk).assigned_to == admin
    other = world.users["city_cit"]
    response = client.post(action_url(sub, "assign"), {"assignee": str(other.pk)})
    assert response.status_code == 409
    assert m.Submission.objects.get(pk=sub.pk).assigned_to == admin
    assert client.post(action_url(sub, "assign"), {"assignee": ""}).status_code == 302
    assert m.Submission.objects.get(pk=sub.pk).assigned_to is None
    assert list(
        AuditLog.objects.filter(action="submission.assign")
        .order_by("id")
        .values_list("data", flat=True)
    ) == [
        {"assignee": world.users["city_env"].pk},
        {"assignee": admin.pk},
        {"assignee": None},
    ]
    assert sub.events.filter(topic="submission.assigned").count() == 3


def test_notes_stay_internal_and_messages_reach_the_resident(world):
    sub = world.submissions["city_env"]
    client = world.client("city_env")
    client.post(action_url(sub, "note"), {"body": "電話で本人確認済み"})
    client.post(action_url(sub, "message"), {"body": "写真を追加してください"})
    page = client.get(detail_url(sub)).content.decode()
    assert "電話で本人確認済み" in page and "写真を追加してください" in page
    audit = str(list(AuditLog.objects.values_list("data", flat=True)))
    assert "本人確認" not in audit and "写真" not in audit
    assert m.SubmissionNote.objects.get().author == world.users["city_env"]


@pytest.fixture
def filed(loaded, world):
    draft, _done = file_completely(
        Client(), reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )
    return draft.receipt.submissions.get()


def test_the_whole_correction_round_between_the_inbox_and_the_status_page(world, filed):
    reviewer = world.client("pref_ga")
    reviewer.post(action_url(filed, "start_review"))
    response = reviewer.post(
        action_url(filed, "return"),
        {"fields": ["phone", "documents"], "message": "電話番号と文書名を確認してください"},
    )
    assert response.status_code == 302

    # The resident opens the status page with the receipt number and status code.
    resident = Client()
    code = services.receipt_status_code(filed.receipt.number, filed.receipt.status_code_hash)
    resident.post(
        reverse("status"), {"number": filed.receipt.number, "code": code, "next": str(filed.pk)}
    )
    url = reverse("status_submission", args=[filed.pk])
    page = resident.get(url).content.decode()
    assert set(re.findall(r'name="(f-[a-z_]+)', page)) == {"f-phone", "f-documents"}
    assert resident.post(url, {"f-phone": "x", "f-documents": "短"}).status_code == 200
    assert status_of(filed) == S.RETURNED
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = resident.post(
            url, {"f-phone": "06-6941-0351", "f-documents": "令和6年度 議事録一式"}
        )
    assert response.status_code == 302 and status_of(filed) == S.RESUBMITTED

    page = reviewer.get(detail_url(filed)).content.decode()
    table = page[page.index('class="compare"') :]
    table = table[: table.index("</table>")]
    assert "090-1234-5678" in table and "06-6941-0351" in table  # before and after
    assert table.index("090-1234-5678") < table.index("06-6941-0351")
    assert "令和7年度 電子申請システム運用保守契約書" in table and "議事録一式" in table

    assert reviewer.post(action_url(filed, "approve")).status_code == 302
    assert status_of(filed) == S.ACCEPTED
    assert "承認" in resident.get(url).content.decode()
