"""Stripe's webhook events: verified on the raw body, each processed once.

The event id is stored in the transaction that applies it, so a second delivery finds it
and changes nothing. What an event says is applied through payments.services.payment_apply,
which never moves an attempt or a submission back from a final state, so events arriving
out of order leave the books right. An event that is forged, of a type we do not take, or
about a checkout we never opened is refused (400) and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from .models import Payment, ProviderEvent
from .providers import CheckoutState, ProviderError
from .services import _provider, payment_apply

log = logging.getLogger(__name__)

HANDLED = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)


class EventRefused(Exception):
    pass


def _payment_for(obj: dict[str, Any]) -> Payment | None:
    reference = obj.get("id")
    payment = Payment.objects.filter(reference=reference).first() if reference else None
    if payment is None:
        payment_id = (obj.get("metadata") or {}).get("payment_id")
        if payment_id:
            try:
                payment = Payment.objects.filter(pk=payment_id, reference=None).first()
            except Exception:  # not a uuid
                return None
    return payment


def _state(event_type: str, obj: dict[str, Any], payment: Payment) -> CheckoutState:
    intent = obj.get("payment_intent") or ""
    if isinstance(intent, dict):
        intent = intent.get("id", "")
    if event_type == "checkout.session.async_payment_succeeded":
        return CheckoutState("paid", int(obj.get("amount_total") or 0), intent)
    if event_type in ("checkout.session.async_payment_failed", "checkout.session.expired"):
        return CheckoutState("expired", payment_reference=intent)
    # checkout.session.completed
    if obj.get("payment_status") == "paid":
        return CheckoutState("paid", int(obj.get("amount_total") or 0), intent)
    # Complete, unpaid: a konbini slip. Its details are on the PaymentIntent: ask for them
    # (the answer may also be "paid" or "expired" already, and is applied as such).
    try:
        state = _provider(payment).checkout_state(str(obj.get("id")))
    except ProviderError:
        state = None
    return state or CheckoutState("awaiting_konbini", payment_reference=intent)


def stripe_event_handle(event: dict[str, Any]) -> str:
    """Process one verified event; returns what was done (for the response and logs)."""
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    obj = ((event.get("data") or {}).get("object")) or {}
    if not event_id or event_type not in HANDLED or obj.get("object") != "checkout.session":
        raise EventRefused("unknown event")
    payment = _payment_for(obj)
    if payment is None or payment.provider != "stripe":
        raise EventRefused("unknown checkout")
    if payment.reference is None:
        # Its checkout was opened but the answer never stored (a timeout): the event names it.
        Payment.objects.filter(pk=payment.pk, reference=None).update(reference=obj.get("id"))
        payment.reference = str(obj.get("id"))
    if ProviderEvent.objects.filter(provider="stripe", event_id=event_id).exists():
        return "duplicate"
    state = _state(event_type, obj, payment)
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(
                provider="stripe",
                event_id=event_id,
                type=event_type,
                payment=payment,
                outcome="pending",
            )
            changed = payment_apply(payment.pk, state, "webhook")
            ProviderEvent.objects.filter(provider="stripe", event_id=event_id).update(
                outcome="applied" if changed else "ignored"
            )
    except IntegrityError:
        # The same event delivered twice at once: the other delivery processed it.
        return "duplicate"
    return "applied" if changed else "ignored"
