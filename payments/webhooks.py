"""Stripe's webhook events: verified on the raw body, each processed once.

The event id is stored in the transaction that applies it, so a second delivery finds it
and changes nothing. What an event says is applied through payments.services.payment_apply,
which never moves an attempt or a submission back from a final state, so events arriving
out of order leave the books right. An event that is forged, of a type we do not take, or
about a checkout we never opened is refused (400) and changes nothing.

An event counts only for the account whose endpoint it came to: the secret that verified
it must be the payment's account's (its own `STRIPE_WEBHOOK_SECRET_<NAME>`, or the
platform's for the platform and its connected accounts), a Connect event must name the
payment's connected account, and the session must be for the attempt's amount in yen.
Anything else is refused (400, EventMismatch), logged with ids only, and changes nothing:
one organization's signing secret never pays another organization's fee.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from .accounts import account_named, webhook_signer
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


class EventMismatch(EventRefused):
    """A verified event that does not belong to the payment it names (another account's
    secret or connected account, another amount, currency or attempt)."""


def _mismatch(event: dict[str, Any], obj: dict[str, Any], payment: Payment, signer: str) -> str:
    """Why the event may not be applied to `payment` ("" when it may)."""
    account = account_named(payment.provider, payment.account)
    if signer != webhook_signer(account):
        return "signed_by_another_account"
    if str(event.get("account") or "") != account.connected_account:
        return "another_connected_account"
    amount = obj.get("amount_total")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount != payment.amount:
        return "amount"
    if str(obj.get("currency") or "").lower() != payment.currency:
        return "currency"
    payment_id = (obj.get("metadata") or {}).get("payment_id")
    if payment_id is not None and str(payment_id) != str(payment.pk):
        return "payment_id"
    return ""


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
    currency = str(obj.get("currency") or "")
    if event_type == "checkout.session.async_payment_succeeded":
        return CheckoutState("paid", int(obj.get("amount_total") or 0), intent, currency=currency)
    if event_type in ("checkout.session.async_payment_failed", "checkout.session.expired"):
        return CheckoutState("expired", payment_reference=intent)
    # checkout.session.completed
    if obj.get("payment_status") == "paid":
        return CheckoutState("paid", int(obj.get("amount_total") or 0), intent, currency=currency)
    # Complete, unpaid: a konbini slip. Its details are on the PaymentIntent: ask for them
    # (the answer may also be "paid" or "expired" already, and is applied as such).
    try:
        state = _provider(payment).checkout_state(str(obj.get("id")))
    except ProviderError:
        state = None
    return state or CheckoutState("awaiting_konbini", payment_reference=intent)


def stripe_event_handle(event: dict[str, Any], signer: str) -> str:
    """Process one event verified by the webhook secret of `signer` (accounts.PLATFORM or
    an account NAME); returns what was done (for the response and logs)."""
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    obj = ((event.get("data") or {}).get("object")) or {}
    if not event_id or event_type not in HANDLED or obj.get("object") != "checkout.session":
        raise EventRefused("unknown event")
    payment = _payment_for(obj)
    if payment is None or payment.provider != "stripe":
        raise EventRefused("unknown checkout")
    problem = _mismatch(event, obj, payment, signer)
    if problem:
        # Ids and a reason code only: no personal data.
        log.warning("stripe event %s refused for payment %s: %s", event_id, payment.pk, problem)
        raise EventMismatch(problem)
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
