"""The resident's side of the review: the status page's access, the correction of only the
named fields, withdrawal with a confirmation, and the mails of each transition."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from forms_engine.outbox import outbox_consumers, outbox_dispatch

from .conftest import file_completely

S = m.Submission.Status


@pytest.fixture
def filed(client, loaded):
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )
    return draft.receipt.submissions.get()


@pytest.fixture
def reviewer(db):
    return get_user_model().objects.create_user("reviewer-a", password="x" * 16)


def status_code(sub) -> str:
    return services.receipt_status_code(sub.receipt.number, sub.receipt.status_code_hash)


def opened(sub, language="ja") -> Client:
    """A fresh browser that opened the submission's page with the number and status code."""
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.cookies["django_language"] = language
    page = browser.get(reverse("status_submission", args=[sub.pk]))
    assert page.status_code == 200
    assert f'value="{sub.pk}"' in page.content.decode()  # the look-up form first
    response = browser.post(
        reverse("status"),
        {"number": sub.receipt.number, "code": status_code(sub), "next": str(sub.pk)},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("status_submission", args=[sub.pk])
    return browser


def inputs(html: str) -> set[str]:
    return set(re.findall(r'name="(f-[a-z_]+)', html))


def test_the_resident_corrects_only_the_named_fields_end_to_end(filed, reviewer):
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(
        filed.pk, ["phone", "documents"], "電話番号と文書名を確認してください。", actor=reviewer
    )
    browser = opened(filed)
    url = reverse("status_submission", args=[filed.pk])
    page = browser.get(url).content.decode()
    assert "電話番号と文書名を確認してください。" in page
    assert inputs(page) == {"f-phone", "f-documents"}
    # Prefilled with what was filed (typed once).
    assert 'value="090-1234-5678"' in page
    assert "令和7年度 電子申請システム運用保守契約書" in page

    invalid = browser.post(url, {"_action": "resubmit", "f-phone": "12", "f-documents": "短い"})
    assert invalid.status_code == 200
    body = invalid.content.decode()
    assert 'id="error-summary"' in body and 'href="#f-phone"' in body
    assert 'aria-describedby="f-phone-error' in body or "f-phone-error" in body
    assert m.Submission.objects.get(pk=filed.pk).status == S.RETURNED

    valid = browser.post(
        url,
        {"_action": "resubmit", "f-phone": "06-6941-0351", "f-documents": "令和6年度 議事録一式"},
    )
    assert valid.status_code == 302
    sub = m.Submission.objects.get(pk=filed.pk)
    assert sub.status == S.RESUBMITTED
    assert sub.answers["phone"] == "06-6941-0351"
    assert sub.answers["email"] == filed.answers["email"]  # untouched
    revision = sub.revisions.get()
    assert revision.previous_answers == {
        "phone": "090-1234-5678",
        "documents": "令和7年度 電子申請システム運用保守契約書",
    }
    assert revision.corrected_answers["documents"] == "令和6年度 議事録一式"
    after = browser.get(valid["Location"]).content.decode()
    assert "f-phone" not in after  # no correction form any more

    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_approve(filed.pk, actor=reviewer)
    final = browser.get(url).content.decode()
    assert "承認" in final


def test_a_named_file_field_takes_a_new_file_through_the_upload_path(filed, reviewer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import png_bytes

    old = list(filed.answers["reference"])
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(
        filed.pk, ["reference"], "別の資料を添付してください。", actor=reviewer
    )
    browser = opened(filed)
    url = reverse("status_submission", args=[filed.pk])
    page = browser.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page and old[0]["name"] in page
    # Take the old file back, then attach a new one and send.
    browser.post(url, {"_action": f"remove-file:f-reference:{old[0]['id']}"})
    page = browser.get(url).content.decode()
    assert old[0]["name"] not in page
    # A file attached and taken back before sending is deleted, not left behind.
    first = SimpleUploadedFile("first-try.png", png_bytes(), content_type="image/png")
    browser.post(url, {"_action": "attach", "f-reference": first})
    tried = m.Attachment.objects.get(original_name="first-try.png")
    assert tried.submission_id is None and "first-try.png" in browser.get(url).content.decode()
    browser.post(url, {"_action": f"remove-file:f-reference:{tried.pk}"})
    assert not m.Attachment.objects.filter(pk=tried.pk).exists()
    upload = SimpleUploadedFile("new-scan.png", png_bytes(), content_type="image/png")
    response = browser.post(url, {"_action": "resubmit", "f-reference": upload})
    assert response.status_code == 302, response.content.decode()[:3000]
    sub = m.Submission.objects.get(pk=filed.pk)
    assert sub.status == S.RESUBMITTED
    [new] = sub.answers["reference"]
    assert new["name"] == "new-scan.png" and new["id"] != old[0]["id"]
    attachment = m.Attachment.objects.get(pk=new["id"])
    assert attachment.submission_id == sub.pk and attachment.draft_id == sub.draft_id
    assert attachment.status != m.Attachment.Status.UPLOADING  # stored, checked, scanned
    # The original file stays with the submission for staff to compare.
    assert m.Attachment.objects.get(pk=old[0]["id"]).submission_id == sub.pk
    assert sub.revisions.get().previous_answers == {"reference": old}


def test_a_correction_cannot_claim_another_files_id(filed, reviewer, loaded):
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(filed.pk, ["reference"], "確認してください。", actor=reviewer)
    fake = {"id": "00000000-0000-0000-0000-000000000000", "name": "x.png", "size": 1}
    with pytest.raises(services.ReviewRefused) as refused:
        services.submission_resubmit(filed.pk, {"reference": [fake]})
    assert refused.value.code == "unknown_file"


def test_a_corrected_answer_brings_up_the_question_that_depends_on_it(filed, reviewer):
    assert filed.answers["methods"] == ["view"] and "delivery" not in filed.answers
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(
        filed.pk, ["methods"], "写しの要否を確認してください。", actor=reviewer
    )
    browser = opened(filed)
    url = reverse("status_submission", args=[filed.pk])
    page = browser.get(url).content.decode()
    # The dependent question is on the form, shown only if it applies (data-show-if).
    assert inputs(page) == {"f-methods", "f-delivery"}
    assert "data-show-if" in page
    missing = browser.post(url, {"_action": "resubmit", "f-methods": ["view", "paper_copy"]})
    assert missing.status_code == 200 and 'href="#f-delivery-field"' in missing.content.decode()
    response = browser.post(
        url, {"_action": "resubmit", "f-methods": ["view", "paper_copy"], "f-delivery": "post"}
    )
    assert response.status_code == 302
    sub = m.Submission.objects.get(pk=filed.pk)
    assert sub.answers["methods"] == ["view", "paper_copy"] and sub.answers["delivery"] == "post"
    revision = sub.revisions.get()
    assert revision.previous_answers == {"methods": ["view"]}
    assert revision.corrected_answers == {"methods": ["view", "paper_copy"], "delivery": "post"}

    # Back to viewing only: the dependent answer is dropped again and kept as it was.
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(filed.pk, ["methods"], "閲覧のみでよいですか。", actor=reviewer)
    response = browser.post(
        url, {"_action": "resubmit", "f-methods": ["view"], "f-delivery": "post"}
    )
    assert response.status_code == 302
    sub = m.Submission.objects.get(pk=filed.pk)
    assert "delivery" not in sub.answers
    second = sub.revisions.order_by("id").last()
    assert second.previous_answers == {"methods": ["view", "paper_copy"], "delivery": "post"}
    assert second.corrected_answers == {"methods": ["view"]}


def test_a_correction_keeps_within_the_filings_text_budget(filed, reviewer, settings):
    from forms_engine.filing import text_size

    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(filed.pk, ["documents"], "具体的に書いてください。", actor=reviewer)
    others = {k: v for k, v in filed.answers.items() if k != "documents"}
    settings.DRAFT_TEXT_MAX_CHARS = text_size(others) + text_size({"documents": "文" * 100})
    browser = opened(filed)
    url = reverse("status_submission", args=[filed.pk])
    response = browser.post(url, {"_action": "resubmit", "f-documents": "文" * 101})
    assert response.status_code == 413
    assert m.Submission.objects.get(pk=filed.pk).status == S.RETURNED
    response = browser.post(url, {"_action": "resubmit", "f-documents": "文" * 100})
    assert response.status_code == 302


def test_a_submission_page_opens_only_with_its_own_receipt(filed, loaded, reviewer):
    url = reverse("status_submission", args=[filed.pk])
    stranger = Client()
    page = stranger.get(url).content.decode()
    assert filed.number not in page and f'value="{filed.pk}"' in page
    wrong = stranger.post(
        reverse("status"),
        {"number": filed.receipt.number, "code": "WRONG-CODE", "next": str(filed.pk)},
    )
    assert wrong.status_code == 200 and filed.number not in stranger.get(url).content.decode()
    # A correction posted without access changes nothing.
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(filed.pk, ["phone"], "確認してください。", actor=reviewer)
    stranger.post(url, {"_action": "resubmit", "f-phone": "06-6941-0351"})
    stranger.post(reverse("status_withdraw", args=[filed.pk]))
    assert m.Submission.objects.get(pk=filed.pk).status == S.RETURNED


def test_the_signed_in_resident_who_owns_it_opens_it(client, filed):
    url = reverse("status_submission", args=[filed.pk])
    page = client.get(url).content.decode()
    assert filed.number not in page  # the filing browser alone: the code is needed
    resident = m.Resident.objects.create(email="taro@example.jp")
    m.Draft.objects.filter(pk=filed.draft_id).update(resident=resident)
    session = client.session
    session["resident"] = resident.pk
    session.save()
    page = client.get(url).content.decode()
    assert filed.number in page and f'value="{filed.pk}"' not in page
    other = m.Resident.objects.create(email="hanako@example.jp")
    session["resident"] = other.pk
    session.save()
    assert filed.number not in client.get(url).content.decode()


def test_withdrawal_asks_for_confirmation_first(filed, reviewer):
    browser = opened(filed)
    url = reverse("status_withdraw", args=[filed.pk])
    page = browser.get(url)
    assert page.status_code == 200
    assert m.Submission.objects.get(pk=filed.pk).status == S.SUBMITTED  # only asked
    response = browser.post(url)
    assert response.status_code == 302
    assert m.Submission.objects.get(pk=filed.pk).status == S.WITHDRAWN
    # Not again, and not once staff work on it.
    assert browser.post(url).status_code == 409
    page = browser.get(reverse("status_submission", args=[filed.pk])).content.decode()
    assert reverse("status_withdraw", args=[filed.pk]) not in page


def test_withdrawal_is_refused_in_review(filed, reviewer):
    services.submission_review_start(filed.pk, actor=reviewer)
    browser = opened(filed)
    assert browser.post(reverse("status_withdraw", args=[filed.pk])).status_code == 409
    assert m.Submission.objects.get(pk=filed.pk).status == S.IN_REVIEW


def test_internal_notes_never_reach_the_resident(filed, reviewer):
    services.submission_note_add(filed.pk, "内部メモ：電話で本人確認済み", actor=reviewer)
    services.submission_message_send(filed.pk, "追加の書類をお送りください。", actor=reviewer)
    page = opened(filed).get(reverse("status_submission", args=[filed.pk])).content.decode()
    assert "追加の書類をお送りください。" in page
    assert (
        "内部メモ" not in page
        and "Internal note" not in page
        and "内部メモ" not in str([msg.body for msg in mail.outbox])
    )


# ---- mails ---------------------------------------------------------------------------------


def _consume(sub):
    """Run the core's mail consumer (through the outbox dispatcher, as Celery or the
    embedded default does) and send what it queued, as after a commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        outbox_dispatch("forms_engine.resident_mails")


def test_the_mail_consumer_is_registered_for_each_workflow_topic():
    consumer = outbox_consumers()["forms_engine.resident_mails"]
    assert consumer.topics == {
        "submission.returned",
        "submission.resubmitted",
        "submission.approved",
        "submission.rejected",
        "submission.withdrawn",
        "submission.message_sent",
    }


@pytest.mark.parametrize("language", ["ja", "en"])
def test_each_transition_mails_the_resident_in_their_language(filed, reviewer, language):
    m.Receipt.objects.filter(pk=filed.receipt_id).update(language=language)
    mail.outbox.clear()
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(filed.pk, ["phone"], "STAFF-MESSAGE-1", actor=reviewer)
    services.submission_resubmit(filed.pk, {"phone": "06-6941-0351"})
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_reject(filed.pk, "STAFF-REASON-2", actor=reviewer)
    sub = m.Submission.objects.get(pk=filed.pk)
    _consume(sub)
    # The handler run again for the same events (a retry): one mail per event still.
    with TestCase.captureOnCommitCallbacks(execute=True):
        for event in sub.events.all():
            services.resident_mail_queue(event)
    assert len(mail.outbox) == 3  # returned, resubmitted, rejected (no mail for review start)
    returned, resubmitted, rejected = mail.outbox
    for message in mail.outbox:
        assert message.to == ["taro@example.jp"]
        html = message.alternatives[0][0]
        assert f'lang="{language}"' in html
        assert filed.number in message.subject and filed.number in message.body
        assert f"/status/{filed.pk}/" in message.body and f"/status/{filed.pk}/" in html
        # Nothing the resident typed beyond the address it goes to: no answer at all.
        for answer in ("山田", "太郎", "090-1234-5678", "06-6941-0351", "大手前", "540-0008"):
            assert answer not in message.body and answer not in html, answer
    assert "STAFF-MESSAGE-1" in returned.body and "STAFF-MESSAGE-1" in returned.alternatives[0][0]
    assert "STAFF-REASON-2" in rejected.body
    if language == "ja":
        assert "修正" in returned.subject and "電話番号" in returned.body
        assert "却下" in rejected.subject
        assert "受け付けました" in resubmitted.body or "受け付け" in resubmitted.body
    else:
        assert "correct" in returned.subject and "Phone number" in returned.body
        assert "rejected" in rejected.subject
    assert m.ResidentMail.objects.filter(mail_status="sent").count() == 3


def test_approval_withdrawal_and_message_mails(filed, reviewer):
    services.submission_message_send(filed.pk, "MSG-3", actor=reviewer)
    services.submission_withdraw(filed.pk)
    _consume(m.Submission.objects.get(pk=filed.pk))
    kinds = list(m.ResidentMail.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["message", "withdrawn"]
    assert "MSG-3" in mail.outbox[-2].body
    assert "取下げ" in mail.outbox[-1].subject or "取り下げ" in mail.outbox[-1].subject


def test_a_mail_outage_is_retried_and_no_address_sends_nothing(filed, reviewer, settings):
    settings.EMAIL_BACKEND = "tests.flow.test_resident_review.FailingBackend"
    services.submission_message_send(filed.pk, "MSG", actor=reviewer)
    _consume(m.Submission.objects.get(pk=filed.pk))
    row = m.ResidentMail.objects.get()
    assert row.mail_status == "pending" and row.mail_attempts == 1
    assert row.mail_error == "ConnectionRefusedError"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    m.ResidentMail.objects.update(mail_next_attempt_at=row.created_at)
    assert services.resident_mails_send() == 1
    assert m.ResidentMail.objects.get().mail_status == "sent"


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")
