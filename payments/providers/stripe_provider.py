"""Stripe: Checkout Sessions for card and konbini payments in yen, refunds, and the
webhook signature check. The one module that imports `stripe`.

Card data never reaches this service: the resident is sent to Stripe's hosted Checkout
page and comes back to our success or cancel page. JPY is a zero-decimal currency: an
amount of 3000 is 3,000 yen, sent as is.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.conf import settings

from payments.accounts import Account

from . import CheckoutRequest, CheckoutStarted, CheckoutState, ProviderError


def _client(account: Account) -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        account.secret_key,
        stripe_account=account.connected_account or None,
        base_addresses={"api": base} if base else None,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def _id(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(getattr(value, "id", "") or "")


def _konbini_details(intent: Any) -> dict[str, Any]:
    next_action = getattr(intent, "next_action", None)
    details = getattr(next_action, "konbini_display_details", None) if next_action else None
    if details is None:
        return {}
    data = details.to_dict()
    stores = {
        chain: {
            "confirmation_number": (store or {}).get("confirmation_number") or "",
            "payment_code": (store or {}).get("payment_code") or "",
        }
        for chain, store in (data.get("stores") or {}).items()
    }
    return {
        "voucher_url": data.get("hosted_voucher_url") or "",
        "expires_at": data.get("expires_at"),
        "stores": stores,
    }


class StripeProvider:
    key = "stripe"
    redirects = True

    def __init__(self, account: Account) -> None:
        if not account.secret_key:
            raise ProviderError("no Stripe key for this account")
        self.account = account
        self.client = _client(account)

    def checkout_create(self, request: CheckoutRequest) -> CheckoutStarted:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency,
                        "unit_amount": item.unit_amount,
                        "product_data": {"name": item.name},
                    },
                    "quantity": item.quantity,
                }
                for item in request.line_items
            ],
            "payment_method_types": request.methods,
            "metadata": request.metadata,
            "payment_intent_data": {"metadata": request.metadata},
            "client_reference_id": request.metadata.get("payment_id", ""),
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(request.expires_at.timestamp()),
            "locale": request.locale,
        }
        if "konbini" in request.methods:
            params["payment_method_options"] = {
                "konbini": {"expires_after_days": settings.PAYMENT_KONBINI_DAYS}
            }
        try:
            session = self.client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"checkout refused: {type(exc).__name__}") from exc
        return CheckoutStarted(
            reference=session.id,
            redirect_url=session.url,
            payment_reference=_id(getattr(session, "payment_intent", None)),
        )

    def checkout_state(self, reference: str) -> CheckoutState | None:
        try:
            session = self.client.v1.checkout.sessions.retrieve(reference)
        except stripe.StripeError as exc:
            raise ProviderError(f"checkout not read: {type(exc).__name__}") from exc
        intent_id = _id(getattr(session, "payment_intent", None))
        if session.status == "expired":
            return CheckoutState("expired", payment_reference=intent_id)
        if session.status == "open":
            return CheckoutState("open", payment_reference=intent_id)
        if session.payment_status == "paid":
            return CheckoutState(
                "paid",
                amount_paid=session.amount_total or 0,
                payment_reference=intent_id,
                currency=str(session.currency or ""),
            )
        if not intent_id:
            return CheckoutState("open")
        # Complete but unpaid: a konbini slip was issued. The PaymentIntent says whether it
        # was paid since, expired, or still waits (with the slip details).
        try:
            intent = self.client.v1.payment_intents.retrieve(intent_id)
        except stripe.StripeError as exc:
            raise ProviderError(f"payment not read: {type(exc).__name__}") from exc
        if intent.status == "succeeded":
            return CheckoutState(
                "paid",
                amount_paid=intent.amount_received or 0,
                payment_reference=intent_id,
                currency=str(intent.currency or ""),
            )
        if intent.status == "canceled":
            return CheckoutState("expired", payment_reference=intent_id)
        return CheckoutState(
            "awaiting_konbini", payment_reference=intent_id, konbini=_konbini_details(intent)
        )

    def checkout_cancel(self, reference: str) -> None:
        try:
            self.client.v1.checkout.sessions.expire(
                reference, options={"idempotency_key": f"expire-{reference}"}
            )
        except stripe.InvalidRequestError:
            # Already complete or expired: nothing left to stop.
            return
        except stripe.StripeError as exc:
            raise ProviderError(f"checkout not expired: {type(exc).__name__}") from exc

    def checkout_void(self, reference: str) -> None:
        self.checkout_cancel(reference)
        try:
            session = self.client.v1.checkout.sessions.retrieve(reference)
            intent_id = _id(getattr(session, "payment_intent", None))
            if not intent_id or session.payment_status == "paid":
                return
            intent = self.client.v1.payment_intents.retrieve(intent_id)
            if intent.status in ("requires_action", "requires_payment_method"):
                self.client.v1.payment_intents.cancel(
                    intent_id, options={"idempotency_key": f"void-{intent_id}"}
                )
        except stripe.StripeError as exc:
            raise ProviderError(f"payment not voided: {type(exc).__name__}") from exc

    def refund_create(
        self, payment_reference: str, amount: int, reason: str, idempotency_key: str
    ) -> str:
        try:
            refund = self.client.v1.refunds.create(
                {
                    "payment_intent": payment_reference,
                    "amount": amount,
                    "reason": "requested_by_customer",
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"refund refused: {type(exc).__name__}") from exc
        return str(refund.id)


def webhook_event(
    payload: bytes, signature: str, secrets: dict[str, str]
) -> tuple[dict[str, Any], str]:
    """The event of a webhook request whose signature one of `secrets` verifies (on the raw
    body, with the timestamp tolerance of the library), and the key of the secret that
    verified it (whose endpoint it came to); ProviderError otherwise."""
    for signer, secret in secrets.items():
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret)
        except stripe.SignatureVerificationError:
            continue
        except ValueError as exc:
            raise ProviderError("not an event") from exc
        data: dict[str, Any] = event.to_dict()
        return data, signer
    raise ProviderError("signature not verified")
