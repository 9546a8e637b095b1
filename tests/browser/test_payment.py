"""A resident files the dog registration on a phone (390x844), pays 3,000 yen through
Stripe Checkout (the local Stripe-like peer stands in for Stripe and its hosted page) and
comes back to the success page; axe-core checks our payment pages, under the site's real
Content-Security-Policy (the Pay form leads to the Checkout origin only)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from forms_engine import models as m
from payments.models import Payment
from tests.payments.conftest import CITY_KEY

from .conftest import assert_no_axe_violations
from .test_dog_registration import file_dog_registration, procedures  # noqa: F401


@pytest.fixture(scope="module")
def peer():
    from tests.payments.stripe_peer import StripePeer, serve

    peer = StripePeer()
    server = serve(peer)
    yield peer
    server.shutdown()


@pytest.fixture
def stripe_live(settings, live_server, peer):
    peer.reset()
    settings.SITE_URL = live_server.url
    settings.STRIPE_API_BASE = peer.url
    settings.STRIPE_CHECKOUT_ORIGIN = peer.url
    settings.STRIPE_SECRET_KEYS = {"SAMPLE_CITY": CITY_KEY}
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    peer.expect.api_key = CITY_KEY
    peer.expect.amount = 3000
    peer.expect.methods = ["card", "konbini"]
    return peer


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_dog_registration_is_paid_through_checkout_and_comes_back(
    procedures,  # noqa: F811
    live_server,
    new_phone_page,
    stripe_live,
    lang,
):
    page = new_phone_page(bypass_csp=False)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sub = file_dog_registration(page, live_server, lang, javascript=True)

    # The done page offers the pay link; the pay page shows the fee.
    with page.expect_navigation():
        page.click(f"#payment-{sub.number} a.button")
    assert "/payments/pay/" in page.url
    expect(page.locator("h1")).to_have_text("手数料のお支払い" if lang == "ja" else "Pay the fee")
    assert "3,000" in page.locator("main").inner_text()
    assert_no_axe_violations(page, "pay page")

    # Pay: to the Checkout page of the peer (card data is typed there, never here).
    with page.expect_navigation():
        page.click("#pay-button")
    assert page.url.startswith(stripe_live.url + "/checkout/cs_test_")
    [request] = stripe_live.checkout_requests()
    assert request.params["locale"] == lang
    assert stripe_live.refusals == []
    sub.refresh_from_db()
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT

    with page.expect_navigation():
        page.click("#peer-pay")
    assert page.url.startswith(live_server.url + "/payments/pay/")
    assert "/return/" in page.url
    expect(page.locator("h1")).to_have_text(
        "お支払いを受け付けました" if lang == "ja" else "Payment received"
    )
    assert_no_axe_violations(page, "success page")
    sub.refresh_from_db()
    assert sub.status == m.Submission.Status.SUBMITTED
    assert (sub.payment_status, sub.paid_amount) == ("paid", 3000)
    assert Payment.objects.get(submission=sub).state == Payment.State.PAID
    assert errors == []


def test_leaving_checkout_comes_back_to_a_page_that_lets_the_resident_pay_again(
    procedures,  # noqa: F811
    live_server,
    new_phone_page,
    stripe_live,
):
    page = new_phone_page(bypass_csp=False)
    sub = file_dog_registration(page, live_server, "ja", javascript=True)
    with page.expect_navigation():
        page.click(f"#payment-{sub.number} a.button")
    with page.expect_navigation():
        page.click("#pay-button")
    with page.expect_navigation():
        page.click("#peer-cancel")
    expect(page.locator("h1")).to_have_text("お支払いは完了していません")
    assert_no_axe_violations(page, "cancel page")
    sub.refresh_from_db()
    assert sub.payment_status == "cancelled"
    with page.expect_navigation():
        page.click("#pay-button")
    assert page.url.startswith(stripe_live.url + "/checkout/")
    assert Payment.objects.filter(submission=sub).count() == 2


def test_offline_the_status_page_leads_to_the_counter_instructions(
    procedures,  # noqa: F811
    live_server,
    new_phone_page,
    settings,
):
    from forms_engine import services

    settings.SITE_URL = live_server.url
    page = new_phone_page(bypass_csp=False)
    sub = file_dog_registration(page, live_server, "ja", javascript=True)
    page.goto(live_server.url + "/status/")
    page.fill("#number", sub.receipt.number)
    page.fill("#code", services.status_code_for(sub.receipt.number))
    with page.expect_navigation():
        page.click('main form button[type="submit"]')
    expect(page.locator(f"#payment-{sub.number} .payment__status")).to_have_text("支払い待ち")
    assert_no_axe_violations(page, "status page with a payment")
    with page.expect_navigation():
        page.click(f"#payment-{sub.number} a.button")
    with page.expect_navigation():
        page.click("#pay-button")
    expect(page.locator("#offline-instructions")).to_be_visible()
    assert_no_axe_violations(page, "offline instructions")
    sub.refresh_from_db()
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
