"""The offline provider: the resident pays at the counter or by bank transfer, and a
member of staff records the payment (and any refund handed back). Nothing is sent
anywhere; the embedded default, so `make run` shows the whole flow without keys."""

from __future__ import annotations

import uuid

from payments.accounts import Account

from . import CheckoutRequest, CheckoutStarted, CheckoutState


class OfflineProvider:
    key = "offline"
    redirects = False

    def __init__(self, account: Account) -> None:
        self.account = account

    def checkout_create(self, request: CheckoutRequest) -> CheckoutStarted:
        return CheckoutStarted(reference=None, redirect_url=None)

    def checkout_state(self, reference: str) -> CheckoutState | None:
        # Only staff know: an offline payment is settled when they record it.
        return None

    def checkout_cancel(self, reference: str) -> None:
        return None

    def checkout_void(self, reference: str) -> None:
        return None

    def refund_create(
        self, payment_reference: str, amount: int, reason: str, idempotency_key: str
    ) -> str:
        # The money is handed back at the counter or transferred by staff: a record only.
        return f"offline-{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:16]}"
