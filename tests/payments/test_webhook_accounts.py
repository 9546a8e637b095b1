"""A webhook event counts only for the account whose endpoint's secret verified it, and only
for the attempt's own amount in yen (security review: an event signed with one
organization's secret paid another organization's fee, with any amount). Every refusal is
a 400 that changes nothing; what reconciliation reads from Stripe is checked the same way.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from forms_engine import models as m
from payments import services as ps
from payments.models import Payment, ProviderEvent

from .conftest import PLATFORM_WEBHOOK_SECRET, WEBHOOK_SECRET, signed_post
from .test_stripe import expect_dog, payment_topics, start

PS = m.Submission.PaymentStatus
PREF_SECRET = "whsec_osaka_pref_own_endpoint"


def paid_event(payment: Payment, event_id: str = "evt_1", **changes) -> dict:
    """What Stripe sends when the checkout of `payment` was paid in full."""
    obj = {
        "id": payment.reference,
        "object": "checkout.session",
        "payment_status": "paid",
        "status": "complete",
        "amount_total": payment.amount,
        "currency": "jpy",
        "payment_intent": "pi_1",
        "metadata": {"payment_id": str(payment.pk)},
    }
    obj.update(changes)
    return {
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": obj},
    }


def assert_nothing_changed(sub: m.Submission, payment: Payment) -> None:
    sub.refresh_from_db()
    payment.refresh_from_db()
    assert payment.state == Payment.State.OPEN
    assert (sub.payment_status, sub.paid_amount) == (PS.AWAITING, 0)
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    assert payment_topics(sub) == ["payment.awaiting"]
    assert not sub.events.filter(topic="submission.ready").exists()
    assert ProviderEvent.objects.count() == 0


@pytest.fixture
def two_endpoints(settings, stripe_on):
    """Sample City and Osaka Prefecture each have their own Stripe account and endpoint."""
    settings.STRIPE_WEBHOOK_SECRETS = {"SAMPLE_CITY": WEBHOOK_SECRET, "OSAKA_PREF": PREF_SECRET}
    return stripe_on


def test_an_event_signed_by_another_organizations_secret_pays_nothing(
    client, dog_submission, two_endpoints, caplog
):
    sub = dog_submission  # Sample City's, 3,000 yen, paid through Sample City's own account
    expect_dog(two_endpoints, sub)
    payment = start(client, sub, two_endpoints)
    # Whoever holds Osaka Prefecture's signing secret (its own Stripe dashboard) forges:
    body = json.dumps(paid_event(payment, "evt_forged_1", amount_total=1, metadata={}))
    with caplog.at_level(logging.WARNING, logger="payments.webhooks"):
        response = signed_post(client, body, secret=PREF_SECRET)
    assert (response.status_code, response.content) == (400, b"refused")
    assert_nothing_changed(sub, payment)
    [record] = [r for r in caplog.records if r.name == "payments.webhooks"]
    assert "signed_by_another_account" in record.getMessage()
    assert sub.number not in record.getMessage()
    # Even with the right amount, the other organization's secret pays nothing.
    body = json.dumps(paid_event(payment, "evt_forged_2"))
    assert signed_post(client, body, secret=PREF_SECRET).status_code == 400
    assert_nothing_changed(sub, payment)
    # The city's own endpoint's event is applied.
    assert signed_post(client, body, secret=WEBHOOK_SECRET).content == b"applied"
    sub.refresh_from_db()
    assert (sub.payment_status, sub.paid_amount) == (PS.PAID, 3000)


def test_the_platform_secret_does_not_sign_for_an_own_account(client, dog_submission, stripe_on):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    body = json.dumps(paid_event(payment))
    response = signed_post(client, body, secret=PLATFORM_WEBHOOK_SECRET)
    assert response.status_code == 400
    assert_nothing_changed(sub, payment)


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_total": 1},
        {"amount_total": 2999},
        {"amount_total": 30000},
        {"amount_total": None},
        {"amount_total": "3000"},
        {"currency": "usd"},
        {"currency": None},
        {"metadata": {"payment_id": "00000000-0000-0000-0000-000000000000"}},
    ],
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_a_session_of_another_amount_currency_or_attempt_pays_nothing(
    client, dog_submission, stripe_on, changes
):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    body = json.dumps(paid_event(payment, **changes))
    response = signed_post(client, body)  # the city's own secret: only the session is wrong
    assert response.status_code == 400
    assert_nothing_changed(sub, payment)


def test_an_async_payment_of_another_amount_pays_nothing(client, dog_submission, stripe_on):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    event = paid_event(payment, amount_total=100)
    event["type"] = "checkout.session.async_payment_succeeded"
    assert signed_post(client, json.dumps(event)).status_code == 400
    assert_nothing_changed(sub, payment)


@pytest.fixture
def connected(settings, stripe_on):
    """Sample City takes payments through its connected account under the platform."""
    settings.STRIPE_SECRET_KEYS = {}
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    settings.STRIPE_ACCOUNTS = {"SAMPLE_CITY": "acct_city", "OSAKA_PREF": "acct_pref"}
    settings.STRIPE_WEBHOOK_SECRETS = {"OSAKA_PREF": PREF_SECRET}
    stripe_on.expect.api_key = "sk_test_platform"
    stripe_on.expect.connected_account = "acct_city"
    return stripe_on


@pytest.mark.parametrize("account", ["acct_pref", "acct_other", None])
def test_a_connect_event_of_another_connected_account_pays_nothing(
    client, dog_submission, connected, account
):
    sub = dog_submission
    payment = start(client, sub, connected)
    event = paid_event(payment)
    if account is not None:
        event["account"] = account
    response = signed_post(client, json.dumps(event), secret=PLATFORM_WEBHOOK_SECRET)
    assert response.status_code == 400
    assert_nothing_changed(sub, payment)


def test_a_connect_event_of_the_payments_connected_account_is_applied(
    client, dog_submission, connected
):
    sub = dog_submission
    payment = start(client, sub, connected)
    event = paid_event(payment)
    event["account"] = "acct_city"
    # Not by an organization's own endpoint's secret, though: the platform's signs for it.
    assert signed_post(client, json.dumps(event), secret=PREF_SECRET).status_code == 400
    response = signed_post(client, json.dumps(event), secret=PLATFORM_WEBHOOK_SECRET)
    assert (response.status_code, response.content) == (200, b"applied")
    sub.refresh_from_db()
    assert (sub.payment_status, sub.paid_amount) == (PS.PAID, 3000)


@pytest.mark.parametrize("change", [{"amount_total": 1}, {"currency": "usd"}])
def test_reconciliation_does_not_count_another_amount_or_currency_as_paid(
    client, dog_submission, stripe_on, settings, change
):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete(payment.reference)
    stripe_on.sessions[payment.reference].update(change)
    Payment.objects.filter(pk=payment.pk).update(
        updated_at=timezone.now() - timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER_MINUTES + 1)
    )
    assert ps.payments_reconcile() == 0
    assert_nothing_changed(sub, payment)


@pytest.mark.parametrize("change", [{"amount_received": 1}, {"currency": "usd"}])
def test_a_konbini_payment_of_another_amount_or_currency_is_not_counted(
    client, dog_submission, stripe_on, change
):
    sub = dog_submission
    payment = start(client, sub, stripe_on)
    stripe_on.complete_konbini(payment.reference)
    stripe_on.konbini_paid(payment.reference)
    intent = stripe_on.intents[stripe_on.sessions[payment.reference]["payment_intent"]]
    stripe_on.sessions[payment.reference]["payment_status"] = "unpaid"  # the intent says
    intent.update(change)
    assert ps.payment_sync(payment, source="return") is False
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING
    payment.refresh_from_db()
    assert payment.state == Payment.State.OPEN
