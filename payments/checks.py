"""System checks of the payment settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .providers import PROVIDERS


@register()
def check_payments_provider(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    provider = settings.PAYMENTS_PROVIDER
    if provider not in PROVIDERS:
        return [
            Error(
                f"PAYMENTS_PROVIDER {provider!r} is not a payment provider",
                hint="one of: " + ", ".join(sorted(PROVIDERS)),
                id="payments.E001",
            )
        ]
    if provider == "stripe" and not settings.STRIPE_SECRET_KEY:
        return [
            Error(
                "PAYMENTS_PROVIDER is stripe but STRIPE_SECRET_KEY is empty",
                hint="set the platform key, or organizations' STRIPE_SECRET_KEY_<NAME>",
                id="payments.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_stripe_webhook_secret(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    uses_stripe = bool(
        settings.STRIPE_SECRET_KEYS
        or settings.STRIPE_ACCOUNTS
        or settings.PAYMENTS_PROVIDER == "stripe"
    )
    secrets = settings.STRIPE_WEBHOOK_SECRET or settings.STRIPE_WEBHOOK_SECRETS
    if uses_stripe and not secrets:
        return [
            Warning(
                "Stripe is configured but no webhook signing secret is set: every webhook "
                "is refused, payments settle only on the return page and by reconciliation",
                hint="set STRIPE_WEBHOOK_SECRET (README, Payments)",
                id="payments.W003",
            )
        ]
    return []
