"""Stripe Checkout, webhooks and reconciliation, with the real `stripe` library talking over
HTTP to the local Stripe-like peer (stripe_peer.py), and webhook payloads signed the way
Stripe signs them."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from forms_engine import models as m
from forms_engine import services as fs
from payments import services as ps
from payments.models import Payment, ProviderEvent, Refund

from .conftest import signed_post

PS = m.Submission.PaymentStatus


def start(client, sub: m.Submission, peer) -> Payment:
    """The resident presses "Pay" on the pay page: redirected to the peer's Checkout."""
    pay_url = fs.payment_details(sub)["pay_url"]
    page = client.get(pay_url)
    assert page.status_code == 200
    assert "3,000" in page.content.decode()
    response = client.post(pay_url)
    assert response.status_code == 302, response.content.decode()[:500]
    payment = Payment.objects.filter(submission=sub).order_by("-attempt").first()
    assert response["Location"] == f"{peer.url}/checkout/{payment.reference}"
    return payment


def expect_dog(peer, sub: m.Submission) -> None:
    peer.expect.amount = 3000
    peer.expect.methods = ["card", "konbini"]
    peer.expect.receipt_number = sub.number
    peer.expect.submission_id = str(sub.pk)


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def payment_topics(sub: m.Submission) -> list[str]:
    return list(sub.events.filter(topic__startswith="payment.").values_list("topic", flat=True))


def test_checkout_asks_stripe_for_3000_yen_by_card_or_konbini_once(
    client, dog_submission, stripe_on
):
    sub = dog_submission
    expect_dog(stripe_on, sub)
    payment = start(client, sub, stripe_on)
    [request] = stripe_on.checkout_requests()
    params = request.params
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "jpy",
                "unit_amount": "3000",
                "product_data": {"name": "登録手数料"},
            },
            "quantity": "1",
        }
    ]
    assert params["payment_method_types"] == ["card", "konbini"]
    assert params["metadata"]["receipt_number"] == sub.number
    assert params["metadata"]["submission_id"] == str(sub.pk)
    assert request.headers["idempotency-key"] == f"checkout-{sub.pk}-1"
    assert params["success_url"].endswith("?lang=ja")
    assert f"/return/{payment.pk}/" in params["success_url"]
    assert f"/cancel/{payment.pk}/" in params["cancel_url"]
    assert params["locale"] == "ja"
    # A double tap goes to the same Checkout: no second session.
    again = client.post(fs.payment_details(sub)["pay_url"])
    assert again["Location"] == f"{stripe_on.url}/checkout/{payment.reference}"
    assert len(stripe_on.checkout_requests()) == 1
    assert stripe_on.refusals == []


def test_the_peer_refuses_a_wrong_amount_and_nothing_is_paid(client, dog_submission, stripe_on):
    sub = dog_submission
    stripe_on.expect.amount = 2999  # what Stripe must be asked is checked by the peer
    response = client.post(fs.payment_details(sub)["pay_url"])
    assert response.status_code == 503
    assert stripe_on.refusals == ["amount 3000 is not 2999"]
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING


def test_paid_by_card_hands_the_submission_on_once(client, dog_submission, stripe_on):
    sub = dog_submission
    for attachment in sub.attachments.all():
        fs.attachment_scan(attachment.pk)  # its files are settled: only the fee holds it
    assert not sub.events.filter(topic="submission.ready").exists()
    expect_dog(stripe_on, sub)
    payment = start(client, sub, stripe_on)
    stripe_on.complete(payment.reference)
    body = stripe_on.event("checkout.session.completed", payment.reference)
    response = signed_post(client, body)
    assert response.status_code == 200
    assert response.content == b"applied"
    sub.refresh_from_db()
    assert sub.status == m.Submission.Status.SUBMITTED
    assert (sub.payment_status, sub.paid_amount) == (PS.PAID, 3000)
    payment.refresh_from_db()
    assert payment.state == Payment.State.PAID
    assert payment.payment_reference.startswith("pi_test_")
    # The same event again: processed once.
    again = signed_post(client, body)
    assert (again.status_code, again.content) == (200, b"duplicate")
    assert payment_topics(sub) == ["payment.awaiting", "payment.paid"]
    assert ProviderEvent.objects.count() == 1
    assert sub.events.filter(topic="submission.ready").count() == 1


def test_the_success_page_confirms_without_waiting_for_the_webhook(
    client, dog_submission, stripe_on
):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete(payment.reference)
    page = client.get(local(stripe_on.sessions[payment.reference]["success_url"]))
    assert page.status_code == 200
    assert "お支払いを受け付けました" in page.content.decode()
    sub.refresh_from_db()
    assert sub.payment_status == PS.PAID
    # The webhook that follows changes nothing.
    body = stripe_on.event("checkout.session.completed", payment.reference)
    assert signed_post(client, body).content == b"ignored"
    assert payment_topics(sub) == ["payment.awaiting", "payment.paid"]


def test_cancelled_checkout_is_stopped_at_stripe_and_may_be_started_again(
    client, dog_submission, stripe_on
):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    page = client.get(local(stripe_on.sessions[payment.reference]["cancel_url"]))
    assert page.status_code == 200
    assert stripe_on.sessions[payment.reference]["status"] == "expired"
    sub.refresh_from_db()
    assert sub.payment_status == PS.CANCELLED
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    second = start(client, sub, stripe_on)
    assert second.attempt == 2
    assert stripe_on.checkout_requests()[-1].headers["idempotency-key"] == (f"checkout-{sub.pk}-2")
    # Stripe's expiry event of the first session, late: the second attempt stays open.
    late = stripe_on.event("checkout.session.expired", payment.reference)
    assert signed_post(client, late).content == b"ignored"
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING


def test_an_expired_checkout_expires_cleanly(client, dog_submission, stripe_on):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.expire(payment.reference)
    assert signed_post(
        client, stripe_on.event("checkout.session.expired", payment.reference)
    ).content == (b"applied")
    sub.refresh_from_db()
    assert sub.payment_status == PS.EXPIRED
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    assert not sub.events.filter(topic="submission.ready").exists()
    # The resident starts again.
    second = start(client, sub, stripe_on)
    assert second.attempt == 2 and second.state == Payment.State.OPEN


def test_konbini_pending_then_paid(client, dog_submission, stripe_on):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete_konbini(payment.reference)
    body = stripe_on.event("checkout.session.completed", payment.reference)
    assert signed_post(client, body).content == b"applied"
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING_KONBINI
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    payment.refresh_from_db()
    assert payment.konbini["stores"]["familymart"]["confirmation_number"] == "12345"
    # The pay page shows the slip, not a second Pay button.
    page = client.get(fs.payment_details(sub)["pay_url"]).content.decode()
    assert "12345" in page and "/vouchers/" in page
    assert 'id="pay-button"' not in page
    stripe_on.konbini_paid(payment.reference)
    paid = stripe_on.event("checkout.session.async_payment_succeeded", payment.reference)
    assert signed_post(client, paid).content == b"applied"
    sub.refresh_from_db()
    assert sub.payment_status == PS.PAID
    assert sub.status == m.Submission.Status.SUBMITTED
    assert payment_topics(sub) == ["payment.awaiting", "payment.awaiting_konbini", "payment.paid"]


def test_konbini_slip_expired_lets_the_resident_start_again(client, dog_submission, stripe_on):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete_konbini(payment.reference)
    signed_post(client, stripe_on.event("checkout.session.completed", payment.reference))
    stripe_on.konbini_expired(payment.reference)
    failed = stripe_on.event("checkout.session.async_payment_failed", payment.reference)
    assert signed_post(client, failed).content == b"applied"
    sub.refresh_from_db()
    assert sub.payment_status == PS.EXPIRED
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    assert start(client, sub, stripe_on).attempt == 2


def test_out_of_order_events_never_move_a_payment_back(client, dog_submission, stripe_on):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete_konbini(payment.reference)
    pending = stripe_on.event("checkout.session.completed", payment.reference)
    stripe_on.konbini_paid(payment.reference)
    paid = stripe_on.event("checkout.session.async_payment_succeeded", payment.reference)
    expired = stripe_on.event("checkout.session.expired", payment.reference)
    failed = stripe_on.event("checkout.session.async_payment_failed", payment.reference)
    # Paid arrives first; the earlier "slip issued", and stale failures, after it.
    for body, outcome in ((paid, b"applied"), (pending, b"ignored"), (expired, b"ignored")):
        assert signed_post(client, body).content == outcome
    assert signed_post(client, failed).content == b"ignored"
    sub.refresh_from_db()
    payment.refresh_from_db()
    assert (sub.payment_status, payment.state) == (PS.PAID, Payment.State.PAID)
    assert sub.status == m.Submission.Status.SUBMITTED
    assert payment_topics(sub) == ["payment.awaiting", "payment.paid"]


@pytest.mark.parametrize("fault", ["wrong_secret", "tampered", "old", "unsigned"])
def test_a_forged_event_gets_400_and_changes_nothing(client, dog_submission, stripe_on, fault):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete(payment.reference)
    body = stripe_on.event("checkout.session.completed", payment.reference)
    if fault == "wrong_secret":
        response = signed_post(client, body, secret="whsec_forged")
    elif fault == "tampered":
        import stripe

        header = stripe.WebhookSignature.generate_signature_header(body, "whsec_test_payments")
        response = client.post(
            "/payments/stripe/webhook/",
            data=body.replace('"amount_total": 3000', '"amount_total": 1'),
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
    elif fault == "old":
        response = signed_post(client, body, timestamp=int(time.time()) - 600)
    else:
        response = client.post(
            "/payments/stripe/webhook/", data=body, content_type="application/json"
        )
    assert response.status_code == 400
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING
    assert ProviderEvent.objects.count() == 0


@pytest.mark.parametrize("fault", ["unknown_session", "unknown_type"])
def test_an_unknown_event_gets_400_and_changes_nothing(client, dog_submission, stripe_on, fault):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete(payment.reference)
    event = json.loads(stripe_on.event("checkout.session.completed", payment.reference))
    if fault == "unknown_session":
        event["data"]["object"]["id"] = "cs_test_not_ours"
        event["data"]["object"]["metadata"] = {}
    else:
        event["type"] = "customer.created"
    response = signed_post(client, json.dumps(event))
    assert response.status_code == 400
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING
    assert ProviderEvent.objects.count() == 0


def test_reconciliation_heals_lost_webhooks(client, dog_submission, stripe_on, settings):
    from payments.tasks import payments_reconcile

    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete(payment.reference)  # paid at Stripe; its webhook never arrives
    assert payments_reconcile.delay().get() == 0  # not waiting long enough yet
    Payment.objects.filter(pk=payment.pk).update(
        updated_at=timezone.now() - timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER_MINUTES + 1)
    )
    assert payments_reconcile.delay().get() == 1
    sub.refresh_from_db()
    assert sub.payment_status == PS.PAID
    assert sub.status == m.Submission.Status.SUBMITTED
    assert payments_reconcile.delay().get() == 0  # settled: not asked again


def test_reconciliation_finds_a_konbini_slip_and_its_expiry(client, dog_submission, stripe_on):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete_konbini(payment.reference)
    old = timezone.now() - timedelta(hours=2)
    Payment.objects.filter(pk=payment.pk).update(updated_at=old)
    assert ps.payments_reconcile() == 1
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING_KONBINI
    stripe_on.konbini_expired(payment.reference)
    Payment.objects.filter(pk=payment.pk).update(updated_at=old, checked_at=None)
    assert ps.payments_reconcile() == 1
    sub.refresh_from_db()
    assert sub.payment_status == PS.EXPIRED


def test_partial_then_full_refund_through_stripe(client, dog_submission, stripe_on):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete(payment.reference)
    signed_post(client, stripe_on.event("checkout.session.completed", payment.reference))
    payment.refresh_from_db()
    refund = ps.payment_refund(sub.pk, amount=1000, reason="二重に申請されたため", actor=None)
    [request] = [r for r in stripe_on.requests if r.path == "/v1/refunds"]
    assert request.params["payment_intent"] == payment.payment_reference
    assert request.params["amount"] == "1000"
    assert request.headers["idempotency-key"] == f"refund-{sub.pk}-1"
    assert refund.reference.startswith("re_test_")
    sub.refresh_from_db()
    assert (sub.payment_status, sub.refunded_amount) == (PS.PARTIALLY_REFUNDED, 1000)
    with pytest.raises(ps.PaymentRefused):
        ps.payment_refund(sub.pk, amount=2001, reason="too much", actor=None)
    assert len([r for r in stripe_on.requests if r.path == "/v1/refunds"]) == 1
    ps.payment_refund(sub.pk, amount=2000, reason="取下げ", actor=None)
    sub.refresh_from_db()
    assert (sub.payment_status, sub.refunded_amount) == (PS.REFUNDED, 3000)
    assert Refund.objects.count() == 2
    assert sum(r["amount"] for r in stripe_on.refunds.values()) == 3000


def test_a_connected_account_is_used_under_the_platform_key(
    client, dog_submission, stripe_on, settings
):
    settings.STRIPE_SECRET_KEYS = {}
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    settings.STRIPE_ACCOUNTS = {"SAMPLE_CITY": "acct_city"}
    stripe_on.expect.api_key = "sk_test_platform"
    stripe_on.expect.connected_account = "acct_city"
    start(client, dog_submission, stripe_on)
    assert stripe_on.refusals == []


def test_back_from_checkout_with_a_konbini_slip_the_page_shows_it(
    client, dog_submission, stripe_on
):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete_konbini(payment.reference)
    page = client.get(local(stripe_on.sessions[payment.reference]["success_url"]))
    text = page.content.decode()
    assert "コンビニでのお支払い" in text
    assert "12345" in text and "67890" in text and "/vouchers/" in text
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING_KONBINI
    # The status page shows the slip too, and no second Pay button.
    code = fs.status_code_for(sub.receipt.number)
    status = client.post("/status/", {"number": sub.receipt.number, "code": code})
    assert "コンビニでの支払い待ち" in status.content.decode()
    assert "12345" in status.content.decode()
    assert 'class="button button--primary" href="/payments/' not in status.content.decode()


def test_staff_recording_a_counter_payment_voids_an_open_konbini_slip(
    client, dog_submission, stripe_on
):
    from django.core.management import call_command
    from django.test import TestCase

    sub = dog_submission
    payment = start(client, sub, stripe_on)
    intent = stripe_on.complete_konbini(payment.reference)
    signed_post(client, stripe_on.event("checkout.session.completed", payment.reference))
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("payment_record", sub.number, "3000")
    assert stripe_on.intents[intent["id"]]["status"] == "canceled"
    sub.refresh_from_db()
    assert sub.payment_status == PS.PAID
    # Stripe's report that the slip expired changes nothing.
    failed = stripe_on.event("checkout.session.async_payment_failed", payment.reference)
    assert signed_post(client, failed).content == b"ignored"
    sub.refresh_from_db()
    assert sub.payment_status == PS.PAID


def test_an_offline_attempt_gives_way_to_checkout_once_stripe_is_set_up(
    client, dog_submission, settings, stripe_peer
):
    sub = dog_submission
    url = fs.payment_details(sub)["pay_url"]
    assert client.post(url).status_code == 200  # offline: the instructions
    settings.STRIPE_API_BASE = stripe_peer.url
    settings.STRIPE_SECRET_KEYS = {"SAMPLE_CITY": "sk_test_city"}
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    response = client.post(url)
    assert response.status_code == 302
    first, second = Payment.objects.filter(submission=sub).order_by("attempt")
    assert (first.provider, first.state) == ("offline", Payment.State.CANCELLED)
    assert (second.provider, second.state) == ("stripe", Payment.State.OPEN)


def test_a_fee_set_after_review_is_charged_by_checkout_at_the_new_amount(
    client, after_review_submission, settings, stripe_peer
):
    settings.STRIPE_API_BASE = stripe_peer.url
    settings.STRIPE_SECRET_KEYS = {"OSAKA_PREF": "sk_test_pref"}
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_peer.expect.api_key = "sk_test_pref"
    sub = after_review_submission
    ps.payment_amount_set(sub.pk, amount=1200, actor=None)
    sub.refresh_from_db()
    url = fs.payment_details(sub)["pay_url"]
    stripe_peer.expect.amount = 1200
    first = client.post(url)
    assert first.status_code == 302
    [request] = stripe_peer.checkout_requests()
    # No fee item adds up to the amount staff set: one line for it, named after the procedure.
    assert request.params["line_items"][0]["price_data"]["unit_amount"] == "1200"
    assert request.params["line_items"][0]["price_data"]["product_data"]["name"]
    # Staff change the amount before it is paid: the old checkout is stopped.
    ps.payment_amount_set(sub.pk, amount=900, actor=None)
    stripe_peer.expect.amount = 900
    second = client.post(url)
    assert second.status_code == 302 and second["Location"] != first["Location"]
    old = Payment.objects.get(submission=sub, attempt=1)
    assert stripe_peer.sessions[old.reference]["status"] == "expired"
    assert stripe_peer.refusals == []


def test_a_withdrawn_submission_stops_its_open_checkout(
    client, after_review_submission, settings, stripe_peer
):
    from django.test import TestCase

    from forms_engine.outbox import outbox_dispatch, outbox_emit

    settings.STRIPE_API_BASE = stripe_peer.url
    settings.STRIPE_SECRET_KEYS = {"OSAKA_PREF": "sk_test_pref"}
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    sub = after_review_submission
    ps.payment_amount_set(sub.pk, amount=500, actor=None)
    sub.refresh_from_db()
    client.post(fs.payment_details(sub)["pay_url"])
    payment = Payment.objects.get(submission=sub)
    # What the review workflow (contract 4) writes when the resident withdraws.
    outbox_emit("submission.withdrawn", sub)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert outbox_dispatch("payments.close") == 1
    payment.refresh_from_db()
    sub.refresh_from_db()
    assert payment.state == Payment.State.CANCELLED
    assert sub.payment_status == PS.CANCELLED
    assert stripe_peer.sessions[payment.reference]["status"] == "expired"
