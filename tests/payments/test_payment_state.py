"""The core's payment state: only forward from a final state, an outbox event for each
change, and a fee before review hands the submission on only once paid."""

from __future__ import annotations

import pytest

from forms_engine import models as m
from forms_engine import services

PS = m.Submission.PaymentStatus


def topics(sub: m.Submission) -> list[str]:
    return list(sub.events.filter(topic__startswith="payment.").values_list("topic", flat=True))


def test_a_fee_before_review_completes_awaiting_its_total(dog_submission):
    sub = dog_submission
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    assert (sub.payment_status, sub.payment_due_amount) == (PS.AWAITING, 3000)
    assert topics(sub) == ["payment.awaiting"]
    assert sub.events.filter(topic="submission.ready").count() == 0


def test_paid_submits_the_submission_and_a_final_state_never_goes_back(dog_submission):
    sub = dog_submission
    assert services.payment_mark_paid(sub.pk, amount=3000, provider="offline")
    sub.refresh_from_db()
    assert sub.status == m.Submission.Status.SUBMITTED
    assert (sub.payment_status, sub.paid_amount) == (PS.PAID, 3000)
    assert sub.paid_at is not None
    # Late or repeated reports change nothing.
    assert not services.payment_mark_paid(sub.pk, amount=3000)
    assert not services.payment_mark_expired(sub.pk)
    assert not services.payment_mark_cancelled(sub.pk)
    assert not services.payment_mark_awaiting(sub.pk)
    assert not services.payment_mark_awaiting_konbini(sub.pk)
    sub.refresh_from_db()
    assert sub.payment_status == PS.PAID
    assert topics(sub) == ["payment.awaiting", "payment.paid"]
    event = sub.events.get(topic="payment.paid")
    assert event.payload == {"submission": str(sub.pk), "amount": 3000, "provider": "offline"}


def test_expired_and_cancelled_may_be_started_again(dog_submission):
    sub = dog_submission
    assert services.payment_mark_awaiting_konbini(sub.pk)
    assert services.payment_mark_expired(sub.pk)
    sub.refresh_from_db()
    assert sub.payment_status == PS.EXPIRED
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    assert services.payment_mark_awaiting(sub.pk)
    assert services.payment_mark_cancelled(sub.pk)
    assert not services.payment_mark_expired(sub.pk)  # not open any more
    sub.refresh_from_db()
    assert sub.payment_status == PS.CANCELLED


def test_refunds_partial_then_full_never_more_than_paid(dog_submission):
    sub = dog_submission
    with pytest.raises(services.PaymentStateError):
        services.payment_mark_refunded(sub.pk, amount=100)
    services.payment_mark_paid(sub.pk, amount=3000)
    services.payment_mark_refunded(sub.pk, amount=1000, reason="overcharged", actor=7)
    sub.refresh_from_db()
    assert (sub.payment_status, sub.refunded_amount) == (PS.PARTIALLY_REFUNDED, 1000)
    with pytest.raises(services.PaymentStateError):
        services.payment_mark_refunded(sub.pk, amount=2001)
    services.payment_mark_refunded(sub.pk, amount=2000)
    sub.refresh_from_db()
    assert (sub.payment_status, sub.refunded_amount) == (PS.REFUNDED, 3000)
    event = sub.events.get(topic="payment.partially_refunded")
    assert event.payload["actor"] == 7
    # Free text never enters the append-only outbox: only that a reason was given.
    assert (event.payload["reason_given"], event.payload["reason_length"]) == (True, 11)
    assert "overcharged" not in str(event.payload)
    assert not services.payment_mark_paid(sub.pk, amount=3000)


def test_after_review_fee_waits_for_staff_to_set_the_amount(after_review_submission):
    sub = after_review_submission
    assert sub.status == m.Submission.Status.SUBMITTED
    assert sub.payment_status == PS.NONE
    with pytest.raises(services.PaymentStateError):
        services.payment_due_set(sub.pk, amount=0)
    assert services.payment_due_set(sub.pk, amount=1200, actor=3)
    sub.refresh_from_db()
    assert (sub.payment_status, sub.payment_due_amount) == (PS.AWAITING, 1200)
    services.payment_mark_paid(sub.pk, amount=1200)
    sub.refresh_from_db()
    assert sub.status == m.Submission.Status.SUBMITTED
    with pytest.raises(services.PaymentStateError):
        services.payment_due_set(sub.pk, amount=500)
