"""The offline provider (the embedded default), staff actions (record a payment, set the
fee after review, refund) and what the resident sees: status page, done page, receipt
mail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command

from forms_engine import models as m
from forms_engine import services as fs
from payments.models import Payment, Refund

PS = m.Submission.PaymentStatus


def has_pay_link(text: str, sub: m.Submission) -> bool:
    """Whether `text` links to this submission's pay page (links are signed with a
    timestamp: compared by what they name, not character by character)."""
    import re

    from payments.links import submission_for_token

    tokens = re.findall(r"/payments/pay/([^/\s\"]+)/", text)
    return any(submission_for_token(t) == sub for t in tokens)


def status_page(client, sub: m.Submission) -> str:
    code = fs.status_code_for(sub.receipt.number)
    response = client.post("/status/", {"number": sub.receipt.number, "code": code})
    assert response.status_code == 200
    return response.content.decode()


def test_offline_by_default_the_pay_page_says_how_to_pay(client, dog_submission, settings):
    sub = dog_submission
    assert settings.STRIPE_SECRET_KEYS == {} or "SAMPLE_CITY" not in settings.STRIPE_SECRET_KEYS
    pay_url = fs.payment_details(sub)["pay_url"]
    response = client.post(pay_url)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="offline-instructions"' in page
    payment = Payment.objects.get(submission=sub)
    assert (payment.provider, payment.state, payment.reference) == ("offline", "open", None)
    # Pressing again shows the same instructions, no second attempt.
    client.post(pay_url)
    assert Payment.objects.filter(submission=sub).count() == 1
    sub.refresh_from_db()
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT


def test_staff_record_an_offline_payment_and_refund_it(client, dog_submission):
    sub = dog_submission
    staff = get_user_model().objects.create_user("clerk", password="x")
    call_command("payment_record", sub.number, "3000", "--staff", "clerk")
    sub.refresh_from_db()
    assert sub.status == m.Submission.Status.SUBMITTED
    assert (sub.payment_status, sub.paid_amount) == (PS.PAID, 3000)
    paid = sub.events.get(topic="payment.paid")
    assert paid.payload["actor"] == staff.pk and paid.payload["provider"] == "offline"
    with pytest.raises(CommandError, match="already_paid"):
        call_command("payment_record", sub.number, "3000")
    call_command("payment_refund", sub.number, "500", "--reason", "減免の対象")
    sub.refresh_from_db()
    assert (sub.payment_status, sub.refunded_amount) == (PS.PARTIALLY_REFUNDED, 500)
    refund = Refund.objects.get()
    assert refund.reference.startswith("offline-") and refund.reason == "減免の対象"
    page = status_page(client, sub)
    assert "一部返金済み" in page and "減免の対象" in page and "500円" in page
    with pytest.raises(CommandError, match="amount_invalid"):
        call_command("payment_refund", sub.number, "2501", "--reason", "x")


def test_the_status_and_done_pages_offer_the_pay_link(client, dog_submission):
    sub = dog_submission
    page = status_page(client, sub)
    assert "支払い待ち" in page
    assert has_pay_link(page, sub)
    done = client.get(f"/f/{sub.draft_id}/done/").content.decode()
    assert has_pay_link(done, sub)


def test_the_receipt_mail_carries_the_pay_link(dog_submission, settings):
    import re

    from payments.links import submission_for_token

    [message] = mail.outbox
    match = re.search(re.escape(settings.SITE_URL) + r"/payments/pay/([^/\s]+)/", message.body)
    assert match, message.body
    assert submission_for_token(match[1]) == dog_submission


def test_a_tampered_pay_link_is_not_found(client, dog_submission):
    url = fs.payment_details(dog_submission)["pay_url"]
    assert client.get(url[:-3] + "xx/").status_code == 404


def test_after_review_staff_set_the_amount_then_the_resident_pays(client, after_review_submission):
    sub = after_review_submission
    assert "pay_url" not in fs.payment_details(sub)
    with pytest.raises(CommandError, match="amount_invalid"):
        call_command("payment_amount_set", sub.number, "0")
    call_command("payment_amount_set", sub.number, "1200")
    sub.refresh_from_db()
    assert (sub.payment_status, sub.payment_due_amount) == (PS.AWAITING, 1200)
    page = status_page(client, sub)
    assert has_pay_link(page, sub) and "1,200円" in page
    call_command("payment_record", sub.number, "1200")
    sub.refresh_from_db()
    assert sub.payment_status == PS.PAID
    assert "pay_url" not in fs.payment_details(sub)


def dispatch_mails() -> int:
    """Run the payments app's outbox consumer, and what it hands on after commit."""
    from django.test import TestCase

    from forms_engine.outbox import outbox_dispatch

    with TestCase.captureOnCommitCallbacks(execute=True):
        return outbox_dispatch("payments.mails")


def test_the_resident_is_mailed_the_pay_link_and_each_refund(
    client, after_review_submission, settings
):
    sub = after_review_submission
    dispatch_mails()
    mail.outbox.clear()
    call_command("payment_amount_set", sub.number, "1200")
    assert dispatch_mails() == 1
    assert len(mail.outbox) == 1, [(m.subject, m.to) for m in mail.outbox]
    [message] = mail.outbox
    assert message.to == ["taro@example.jp"]
    assert "1,200円" in message.body
    # The link is signed with a timestamp: it names this submission, whenever made.
    import re

    from payments.links import submission_for_token

    match = re.search(
        re.escape(settings.SITE_URL) + r"/payments/pay/([^/\s]+)/\?lang=ja", message.body
    )
    assert match, message.body
    assert submission_for_token(match[1]) == sub
    assert client.get(f"/payments/pay/{match[1]}/").status_code == 200
    assert dispatch_mails() == 0  # once per event
    call_command("payment_record", sub.number, "1200")
    mail.outbox.clear()
    dispatch_mails()
    assert len(mail.outbox) == 1, [(m.subject, m.to) for m in mail.outbox]
    [receipt] = mail.outbox
    assert "1,200円" in receipt.body and sub.number in receipt.body
    assert "お支払いを受け付けました" in receipt.subject
    call_command("payment_refund", sub.number, "200", "--reason", "手数料の減額")
    mail.outbox.clear()
    dispatch_mails()
    assert len(mail.outbox) == 1, [(m.subject, m.to) for m in mail.outbox]
    [refund] = mail.outbox
    assert "200円" in refund.body and "手数料の減額" in refund.body
    assert refund.to == ["taro@example.jp"]
    # Each mail is text and HTML, in the resident's language, and leads to the submission's
    # own status page (its id only: nothing personal in the URL).
    status_url = f"{settings.SITE_URL}/status/{sub.pk}/"
    for sent in (message, receipt, refund):
        [(html, kind)] = sent.alternatives
        assert kind == "text/html" and '<html lang="ja">' in html
        assert sub.number in html
    for sent in (receipt, refund):
        assert status_url in sent.body
        assert f'href="{status_url}"' in sent.alternatives[0][0]
    assert 'href="' + settings.SITE_URL + "/payments/pay/" in message.alternatives[0][0]


@pytest.mark.parametrize("order", ["scanned_then_paid", "paid_then_scanned"])
def test_a_paid_fee_hands_the_submission_on_once(dog_submission, order):
    """`submission.ready` needs both: the files settled and the fee paid."""
    sub = dog_submission

    def scan():
        for attachment in sub.attachments.all():
            fs.attachment_scan(attachment.pk)

    first, second = (
        (scan, lambda: call_command("payment_record", sub.number, "3000"))
        if order == "scanned_then_paid"
        else (lambda: call_command("payment_record", sub.number, "3000"), scan)
    )
    first()
    assert not sub.events.filter(topic="submission.ready").exists()
    second()
    assert sub.events.filter(topic="submission.ready").count() == 1


def test_starting_payments_is_rate_limited(client, dog_submission, settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pay": "2/600"}
    url = fs.payment_details(dog_submission)["pay_url"]
    assert [client.post(url).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(url).status_code == 200  # reading the page is not limited


def test_the_submission_status_page_shows_its_payment(client, dog_submission):
    from django.urls import reverse

    sub = dog_submission
    status_page(client, sub)  # opens the receipt for this browser
    page = client.get(reverse("status_submission", args=[sub.pk])).content.decode()
    assert "支払い待ち" in page and "3,000円" in page
    assert has_pay_link(page, sub)
