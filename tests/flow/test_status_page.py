"""The status page of a submission, as the resident reaches it from the mail link: the
timeline of its states, messages from staff, the pay link while a fee is due, the
correction form when returned, withdrawal while allowed, the receipt PDF; and the mails of
each step in the resident's language, as text and HTML, without staff-side personal data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import translation

from forms_engine import models as m
from forms_engine import services
from forms_engine.outbox import outbox_dispatch, topic_label

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
    return get_user_model().objects.create_user(
        "suzuki-reviewer",
        email="suzuki.staff@pref.osaka.example",
        first_name="一郎",
        last_name="鈴木",
        password="x" * 16,
    )


def opened(sub, language="ja") -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.cookies["django_language"] = language
    code = services.receipt_status_code(sub.receipt.number, sub.receipt.status_code_hash)
    response = browser.post(
        reverse("status"), {"number": sub.receipt.number, "code": code, "next": str(sub.pk)}
    )
    assert response["Location"] == reverse("status_submission", args=[sub.pk])
    return browser


def page(sub, language="ja") -> str:
    response = opened(sub, language).get(reverse("status_submission", args=[sub.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_timeline_messages_and_actions_follow_the_review(filed, reviewer, language):
    withdraw = reverse("status_withdraw", args=[filed.pk])
    first = page(filed, language)
    assert withdraw in first  # withdrawal while allowed (received, not yet in review)
    assert 'id="correction-form"' not in first
    assert reverse("status_receipt_pdf", args=[filed.pk]) in first

    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(filed.pk, ["phone"], "電話番号をご確認ください。", actor=reviewer)
    returned = page(filed, language)
    assert 'id="correction-form"' in returned and 'name="f-phone"' in returned
    assert "電話番号をご確認ください。" in returned
    assert withdraw in returned  # a returned filing may be withdrawn instead of corrected

    services.submission_resubmit(filed.pk, {"phone": "06-6941-0351"})
    services.submission_review_start(filed.pk, actor=reviewer)
    assert withdraw not in page(filed, language)  # not while staff review it
    services.submission_approve(filed.pk, actor=reviewer)
    final = page(filed, language)
    assert 'id="correction-form"' not in final and withdraw not in final
    with translation.override(language):
        labels = [
            topic_label(t)
            for t in (
                "submission.completed",
                "submission.review_started",
                "submission.returned",
                "submission.resubmitted",
                "submission.review_started",
                "submission.approved",
            )
        ]
        status = str(S.ACCEPTED.label)
    timeline = final.split('id="history-title"')[1]
    positions = []
    start = 0
    for label in labels:
        start = timeline.index(label, start)
        positions.append(start)
        start += 1
    assert positions == sorted(positions)
    assert f'<dd id="submission-status">{status}</dd>' in final
    # Staff-side personal data never reaches the resident's page.
    for staff in ("suzuki-reviewer", "suzuki.staff@", "鈴木", "一郎"):
        assert staff not in final


def test_the_pay_link_shows_while_a_fee_is_due_only(filed):
    """The core shows the payment through its `payment_details` hook, which the payments
    app fills (the core never imports it): the pay link while a fee is due, none after."""
    assert f'id="payment-{filed.number}"' not in page(filed)  # nothing owed
    m.Submission.objects.filter(pk=filed.pk).update(
        payment_status=m.Submission.PaymentStatus.AWAITING, payment_due_amount=3000
    )
    due = page(filed)
    assert f'id="payment-{filed.number}"' in due and 'href="/payments/pay/' in due
    assert "3,000円" in due
    m.Submission.objects.filter(pk=filed.pk).update(
        payment_status=m.Submission.PaymentStatus.PAID, paid_amount=3000
    )
    assert 'href="/payments/pay/' not in page(filed)


def _mails_of(sub) -> list:
    with TestCase.captureOnCommitCallbacks(execute=True):
        outbox_dispatch("forms_engine.resident_mails")
    return [x for x in mail.outbox if x.to == [sub.contact_email]]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_decision_withdrawal_and_message_mails_are_text_and_html_without_staff_data(
    filed, reviewer, language
):
    m.Receipt.objects.filter(pk=filed.receipt_id).update(language=language)
    typed = ["山田", "太郎", "090-1234-5678", "大手前", "540-0008"]
    staff = ["suzuki-reviewer", "suzuki.staff@", "鈴木", "一郎"]
    mail.outbox.clear()
    services.submission_message_send(filed.pk, "MSG-1", actor=reviewer)
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_approve(filed.pk, actor=reviewer)
    approved = _mails_of(filed)
    assert len(approved) == 2
    other = file_completely(
        Client(), reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )[0].receipt.submissions.get()
    m.Receipt.objects.filter(pk=other.receipt_id).update(language=language)
    mail.outbox.clear()
    services.submission_withdraw(other.pk)
    (withdrawn,) = _mails_of(other)
    expected = {
        "ja": ("メッセージ", "承認", "取り下げ"),
        "en": ("message", "approved", "withdrawn"),
    }[language]
    for message, word in zip([*approved, withdrawn], expected, strict=True):
        html, kind = message.alternatives[0]
        assert kind == "text/html" and f'<html lang="{language}">' in html
        assert word in message.subject.lower() or word in message.subject
        for body in (message.body, html):
            for value in typed + staff:
                assert value not in body, value
    assert "MSG-1" in approved[0].body
    if language == "en":
        assert all("受付番号" not in x.body for x in [*approved, withdrawn])
