"""The system checks of the payment settings."""

from __future__ import annotations

from payments.checks import check_payments_provider, check_stripe_webhook_secret


def test_an_unknown_provider_or_stripe_without_a_key_stops_the_service(settings):
    assert check_payments_provider(None) == []
    settings.PAYMENTS_PROVIDER = "paypal"
    assert [m.id for m in check_payments_provider(None)] == ["payments.E001"]
    settings.PAYMENTS_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = ""
    assert [m.id for m in check_payments_provider(None)] == ["payments.E002"]
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert check_payments_provider(None) == []


def test_stripe_without_a_webhook_secret_is_warned_at_deploy(settings):
    settings.STRIPE_SECRET_KEYS = {"SAMPLE_CITY": "sk_test_x"}
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_WEBHOOK_SECRETS = {}
    assert [m.id for m in check_stripe_webhook_secret(None)] == ["payments.W003"]
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    assert check_stripe_webhook_secret(None) == []
