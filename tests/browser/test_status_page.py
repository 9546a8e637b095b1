"""A resident checks the status of a filing on a phone (390x844) in headless Chromium, under
the site's real Content-Security-Policy, with axe-core on every state of the page, in
Japanese and then in English."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from forms_engine import services
from tests.flow.conftest import file_completely

from .conftest import assert_no_axe_violations


@pytest.fixture
def filed(transactional_db, settings):
    """A dog registration filed through the test client: (receipt number, status code)."""
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(settings.PROCEDURES_DIR).errors == []
    draft, done = file_completely(
        Client(), reverse("procedure_start", args=["sample-city", "dog-registration"])
    )
    code = re.search(r'class="status-code">([A-Z0-9]+)<', done.content.decode())[1]
    return draft.receipt.number, code


def _check(page, number: str, code: str) -> None:
    page.fill("#number", number)
    page.fill("#code", code)
    with page.expect_navigation():
        page.click('main form button[type="submit"]')


def test_a_resident_checks_the_status_on_a_phone_in_japanese_and_english(
    filed, live_server, new_phone_page
):
    number, code = filed
    page = new_phone_page(bypass_csp=False)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # From the home page, as a resident finds it.
    page.goto(live_server.url + "/")
    with page.expect_navigation():
        page.click("text=申請状況の確認")
    expect(page.locator("h1")).to_have_text("申請状況の確認")
    assert_no_axe_violations(page, "status form")

    # A wrong code reveals nothing and says so, keeping the number typed.
    _check(page, number, "AAAAAAAA")
    expect(page.locator('[role="alert"]')).to_contain_text("一致する申請が見つかりません")
    expect(page.locator(".submissions")).to_have_count(0)
    expect(page.locator("#number")).to_have_value(number)
    assert_no_axe_violations(page, "status form with an error")

    # The number as it is often typed again: lower case, without hyphens.
    _check(page, number.lower().replace("-", ""), code)
    result = page.locator(".submissions")
    expect(result).to_contain_text("犬の登録申請")
    expect(result).to_contain_text("状況：支払い待ち")
    expect(page.locator("main")).to_contain_text(number)
    assert_no_axe_violations(page, "status result")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    with page.expect_navigation():
        page.click('button[name="language"][value="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Check the status of an application")
    _check(page, number, code)
    result = page.locator(".submissions")
    expect(result).to_contain_text("Dog registration")
    expect(result).to_contain_text("Status: Awaiting payment")
    assert_no_axe_violations(page, "status result in English")

    assert errors == []  # no script error and no CSP refusal
