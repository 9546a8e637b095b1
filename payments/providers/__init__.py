"""Payment providers: a registry of key -> class (`PROVIDERS`), and what every provider
does (`Provider`). `offline` is the embedded default; `stripe` takes cards and konbini
through Stripe Checkout (the only module that imports `stripe`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.utils.module_loading import import_string

from payments.accounts import Account

PROVIDERS: dict[str, str] = {
    "offline": "payments.providers.offline.OfflineProvider",
    "stripe": "payments.providers.stripe_provider.StripeProvider",
}


class ProviderError(Exception):
    """The provider refused or could not be reached; nothing was recorded."""


@dataclass(frozen=True)
class LineItem:
    name: str
    unit_amount: int
    quantity: int


@dataclass(frozen=True)
class CheckoutRequest:
    amount: int
    currency: str
    line_items: list[LineItem]
    methods: list[str]
    metadata: dict[str, str]
    success_url: str
    cancel_url: str
    expires_at: datetime
    idempotency_key: str
    locale: str


@dataclass(frozen=True)
class CheckoutStarted:
    reference: str | None
    redirect_url: str | None
    payment_reference: str = ""


@dataclass(frozen=True)
class CheckoutState:
    """What the provider says of a checkout now. `state` is one of Payment.State's values;
    `konbini` holds the slip details while awaiting a konbini payment. When paid,
    `amount_paid` and `currency` are what the provider says was received (checked against
    the attempt before it counts as paid)."""

    state: str
    amount_paid: int = 0
    payment_reference: str = ""
    konbini: dict[str, Any] = field(default_factory=dict)
    currency: str = ""


class Provider(Protocol):
    key: str
    # Whether the resident is sent to the provider's page to pay.
    redirects: bool

    def checkout_create(self, request: CheckoutRequest) -> CheckoutStarted: ...

    def checkout_state(self, reference: str) -> CheckoutState | None: ...

    def checkout_cancel(self, reference: str) -> None: ...

    def checkout_void(self, reference: str) -> None:
        """Make the attempt unpayable, whatever its stage (an open checkout, an issued
        konbini slip): staff recorded the fee another way."""
        ...

    def refund_create(
        self, payment_reference: str, amount: int, reason: str, idempotency_key: str
    ) -> str: ...


def provider_get(account: Account) -> Provider:
    try:
        path = PROVIDERS[account.provider]
    except KeyError as exc:
        raise ProviderError(f"unknown provider {account.provider!r}") from exc
    cls = import_string(path)
    provider: Provider = cls(account)
    return provider
