"""A submission's payment state: the one place `Submission.payment_status`, `paid_amount`,
`paid_at`, `refunded_amount` and `payment_due_amount` change.

Each change writes a `payment.<state>` outbox event in the same transaction (ids and
amounts only; `actor` is the staff user's id when a person made it). How the money moved
(checkout sessions, provider events, refunds) is the payments app's business: it calls
these functions, the core never imports it.

A payment never leaves a final state (paid, partially refunded, refunded) for an earlier
one: a late or repeated provider event that says "expired" or "awaiting" after "paid"
changes nothing and each function says so by returning False. Expired and cancelled are
not final: the resident may start paying again.

When a fee due before review is paid, the submission leaves "awaiting payment" for
"submitted" and is announced as ready to hand on (`submission.ready`, contract 2).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine.outbox import outbox_emit

from .submission_readiness import submission_handoff_announce

PS = m.Submission.PaymentStatus

FINAL = frozenset({PS.PAID, PS.PARTIALLY_REFUNDED, PS.REFUNDED})
OPEN = frozenset({PS.AWAITING, PS.AWAITING_KONBINI})
# States from which a new payment may be asked for (again).
STARTABLE = frozenset({PS.NONE, PS.AWAITING, PS.AWAITING_KONBINI, PS.EXPIRED, PS.CANCELLED})

TOPIC_PREFIX = "payment."


class PaymentStateError(ValueError):
    """A change the payment's state does not allow (e.g. a refund larger than was paid)."""


def _emit(topic: str, submission: m.Submission, **payload: Any) -> None:
    outbox_emit(topic, submission, **payload)


def _locked(submission_id: uuid.UUID | str) -> m.Submission:
    return m.Submission.objects.select_for_update().get(pk=submission_id)


def _save(sub: m.Submission, *fields: str) -> None:
    sub.payment_status_changed_at = timezone.now()
    sub.save(update_fields=[*fields, "payment_status_changed_at"])


def _payload(sub: m.Submission, actor: int | None, info: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = dict(info)
    if actor is not None:
        payload["actor"] = actor
    return payload


def payment_is_final(status: str) -> bool:
    return status in FINAL


def payment_mark_awaiting(
    submission_id: uuid.UUID | str,
    *,
    amount: int | None = None,
    actor: int | None = None,
    **info: Any,
) -> bool:
    """The resident is asked to pay (at completion, or again after an expired or cancelled
    attempt). `amount` replaces the amount due when given."""
    with transaction.atomic():
        sub = _locked(submission_id)
        if sub.payment_status not in STARTABLE:
            return False
        due = sub.payment_due_amount if amount is None else amount
        if due <= 0:
            raise PaymentStateError("nothing_due")
        if sub.payment_status == PS.AWAITING and sub.payment_due_amount == due:
            return False
        sub.payment_status, sub.payment_due_amount = PS.AWAITING, due
        _save(sub, "payment_status", "payment_due_amount")
        _emit("payment.awaiting", sub, **_payload(sub, actor, {"amount": due, **info}))
    return True


def payment_mark_awaiting_konbini(submission_id: uuid.UUID | str, **info: Any) -> bool:
    """The resident chose to pay at a convenience store and has the slip: the money comes
    later (or never, and the slip expires)."""
    with transaction.atomic():
        sub = _locked(submission_id)
        if sub.payment_status not in (PS.AWAITING, PS.EXPIRED, PS.CANCELLED, PS.NONE):
            return False
        sub.payment_status = PS.AWAITING_KONBINI
        _save(sub, "payment_status")
        _emit(
            "payment.awaiting_konbini",
            sub,
            **_payload(sub, None, {"amount": sub.payment_due_amount, **info}),
        )
    return True


def payment_mark_paid(
    submission_id: uuid.UUID | str,
    *,
    amount: int,
    paid_at: datetime | None = None,
    actor: int | None = None,
    **info: Any,
) -> bool:
    """The money arrived. A submission waiting for its fee before review is submitted now
    and announced as ready to hand on. Once paid, a second report changes nothing."""
    if amount <= 0:
        raise PaymentStateError("amount_invalid")
    with transaction.atomic():
        sub = _locked(submission_id)
        if sub.payment_status in FINAL:
            return False
        sub.payment_status = PS.PAID
        sub.paid_amount = amount
        sub.paid_at = paid_at or timezone.now()
        fields = ["payment_status", "paid_amount", "paid_at"]
        if sub.status == m.Submission.Status.AWAITING_PAYMENT:
            sub.status = m.Submission.Status.SUBMITTED
            fields.append("status")
        _save(sub, *fields)
        _emit("payment.paid", sub, **_payload(sub, actor, {"amount": amount, **info}))
        submission_handoff_announce(sub.pk)
    return True


def _mark_closed(
    submission_id: uuid.UUID | str, state: str, actor: int | None, info: dict[str, Any]
) -> bool:
    with transaction.atomic():
        sub = _locked(submission_id)
        if sub.payment_status not in OPEN:
            return False
        sub.payment_status = state
        _save(sub, "payment_status")
        _emit(f"payment.{state}", sub, **_payload(sub, actor, info))
    return True


def payment_mark_expired(
    submission_id: uuid.UUID | str, *, actor: int | None = None, **info: Any
) -> bool:
    """The payment asked for was not made in time (a checkout or a konbini slip expired)."""
    return _mark_closed(submission_id, PS.EXPIRED, actor, info)


def payment_mark_cancelled(
    submission_id: uuid.UUID | str, *, actor: int | None = None, **info: Any
) -> bool:
    """The resident (or staff) gave up this payment attempt; it may be started again."""
    return _mark_closed(submission_id, PS.CANCELLED, actor, info)


def payment_mark_refunded(
    submission_id: uuid.UUID | str,
    *,
    amount: int,
    reason: str = "",
    actor: int | None = None,
    **info: Any,
) -> bool:
    """Part or all of what was paid went back: partially refunded until the refunds add up
    to what was paid, then refunded."""
    with transaction.atomic():
        sub = _locked(submission_id)
        if sub.payment_status not in (PS.PAID, PS.PARTIALLY_REFUNDED):
            raise PaymentStateError("not_paid")
        if amount <= 0 or sub.refunded_amount + amount > sub.paid_amount:
            raise PaymentStateError("amount_invalid")
        sub.refunded_amount += amount
        sub.payment_status = (
            PS.REFUNDED if sub.refunded_amount >= sub.paid_amount else PS.PARTIALLY_REFUNDED
        )
        _save(sub, "payment_status", "refunded_amount")
        _emit(
            f"payment.{sub.payment_status}",
            sub,
            **_payload(
                sub,
                actor,
                {
                    "amount": amount,
                    "refunded_total": sub.refunded_amount,
                    # The reason is staff's free text and may name a person: it stays on
                    # the payments' own refund record; the append-only outbox gets only
                    # whether one was given and its length.
                    "reason_given": bool(reason),
                    "reason_length": len(reason),
                    **info,
                },
            ),
        )
    return True


def payment_due_set(
    submission_id: uuid.UUID | str, *, amount: int, actor: int | None = None
) -> bool:
    """Staff set (or confirm) the fee due after review; the resident is asked to pay it
    (the payments app mails the pay link on `payment.amount_set`)."""
    if amount <= 0:
        raise PaymentStateError("amount_invalid")
    with transaction.atomic():
        sub = _locked(submission_id)
        if sub.payment_status not in STARTABLE:
            raise PaymentStateError("already_paid")
        if sub.payment_status == PS.AWAITING_KONBINI:
            # A slip was issued for the old amount: it may still be paid.
            raise PaymentStateError("konbini_pending")
        sub.payment_due_amount = amount
        sub.payment_status = PS.AWAITING
        _save(sub, "payment_status", "payment_due_amount")
        _emit("payment.amount_set", sub, **_payload(sub, actor, {"amount": amount}))
    return True
