"""Fixtures for the payment tests: a filed dog registration (3,000 yen before review) and a
filed records disclosure (a fee after review)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from forms_engine import models as m
from tests.flow.conftest import file_completely, loaded  # noqa: F401 - fixture re-export


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


@pytest.fixture
def dog_submission(client, loaded) -> m.Submission:  # noqa: F811
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["sample-city", "dog-registration"])
    )
    return draft.receipt.submissions.get()


@pytest.fixture
def after_review_submission(client, loaded) -> m.Submission:  # noqa: F811
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )
    return draft.receipt.submissions.get()


# The local Stripe-like peer (stripe_peer.py) and the settings that point the real
# `stripe` library at it.

WEBHOOK_SECRET = "whsec_test_payments"
PLATFORM_WEBHOOK_SECRET = "whsec_test_platform"
CITY_KEY = "sk_test_sample_city"


@pytest.fixture(scope="session")
def _stripe_peer_server():
    from .stripe_peer import StripePeer, serve

    peer = StripePeer()
    server = serve(peer)
    yield peer
    server.shutdown()


@pytest.fixture
def stripe_peer(_stripe_peer_server):
    _stripe_peer_server.reset()
    return _stripe_peer_server


@pytest.fixture
def stripe_on(settings, stripe_peer):
    """Sample City pays through Stripe (its own key); the other organizations offline."""
    settings.STRIPE_API_BASE = stripe_peer.url
    settings.STRIPE_SECRET_KEYS = {"SAMPLE_CITY": CITY_KEY}
    # Sample City's own account has its own endpoint and secret; the platform's secret
    # signs only events about the platform's (and its connected accounts') payments.
    settings.STRIPE_WEBHOOK_SECRET = PLATFORM_WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_SECRETS = {"SAMPLE_CITY": WEBHOOK_SECRET}
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_peer.expect.api_key = CITY_KEY
    return stripe_peer


def signed_post(client, body: str, secret: str = WEBHOOK_SECRET, timestamp=None):
    import stripe

    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return client.post(
        "/payments/stripe/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
