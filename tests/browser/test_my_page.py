"""My page on a phone (390x844) and a desktop (1280x800) in headless Chromium, under the
real Content-Security-Policy, with axe-core (WCAG 2.2 A/AA) on each of its pages, with and
without JavaScript, in Japanese and English: the list of filings leads to the status page
and its receipt PDF, the profile form shows errors linked and marked, the delete page asks."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from forms_engine import models as m
from forms_engine import services
from tests.flow.test_my_page import RECORDS, file, sign_in

from .conftest import assert_no_axe_violations

EMAIL = "hanako@example.jp"
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False}


@pytest.fixture
def resident_filed(transactional_db, settings):
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(settings.PROCEDURES_DIR).errors == []
    c = Client()
    sign_in(c, EMAIL)
    return file(c, RECORDS, save_to_profile=True)


def browser_sign_in(page, base: str) -> None:
    page.goto(base + "/my/")
    page.fill('input[name="email"]', EMAIL)
    with page.expect_navigation():
        page.click('main form button[type="submit"]')
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    page.goto(f"{base}/login/{token}/")
    with page.expect_navigation():
        page.click('main form button[type="submit"]')


@pytest.mark.parametrize(
    ("device", "javascript"), [("phone", True), ("desktop", True), ("phone", False)]
)
def test_my_page_and_its_pages_have_no_axe_violations(
    resident_filed, live_server, new_phone_page, device, javascript
):
    sub = resident_filed
    overrides = {"bypass_csp": False, "java_script_enabled": javascript}
    if device == "desktop":
        overrides.update(DESKTOP)
    page = new_phone_page(**overrides)
    base = live_server.url
    browser_sign_in(page, base)
    expect(page).to_have_url(base + "/my/")
    expect(page.locator("h1")).to_have_text("マイページ")
    expect(page.locator("#my-filings")).to_contain_text(sub.number)
    assert_no_axe_violations(page, f"my page ({device}, js={javascript})")
    assert (
        page.evaluate("() => document.documentElement.scrollWidth") <= page.viewport_size["width"]
    )

    # The filing's status page, and its receipt PDF.
    with page.expect_navigation():
        page.click(f'#my-filings a[href="/status/{sub.pk}/"]')
    expect(page.locator("#submission-status")).to_be_visible()
    link = page.locator("#receipt-document a")
    expect(link).to_have_text("申請控え（PDF）をダウンロード")
    assert_no_axe_violations(page, "status page with the receipt PDF")
    response = page.request.get(base + link.get_attribute("href"))
    assert response.status == 200 and response.body().startswith(b"%PDF-")

    # The profile form: an error is summarised, linked and marked.
    page.goto(base + "/my/profile/")
    assert_no_axe_violations(page, "profile form")
    page.fill('input[name="f-phone"]', "12")
    with page.expect_navigation():
        page.click('main form button[type="submit"].button--primary')
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator('input[name="f-phone"]')).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page, "profile form with an error")

    page.goto(base + "/my/profile/delete/")
    assert_no_axe_violations(page, "profile delete confirmation")
    assert m.Resident.objects.get(email=EMAIL).profile  # asked only


def test_my_page_in_english_and_sign_out_everywhere(resident_filed, live_server, new_phone_page):
    page = new_phone_page(bypass_csp=False)
    other = new_phone_page(bypass_csp=False)
    base = live_server.url
    browser_sign_in(page, base)
    browser_sign_in(other, base)
    with page.expect_navigation():
        page.click('button[name="language"][value="en"]')
    expect(page.locator("h1")).to_have_text("My page")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_no_axe_violations(page, "my page in English")

    with page.expect_navigation():
        page.click("text=Sign out everywhere >> nth=-1")
    expect(page.locator("h1")).to_have_text("Signed out everywhere")
    assert_no_axe_violations(page, "signed out everywhere")
    other.goto(base + "/my/")
    expect(other.locator('input[name="email"]')).to_be_visible()  # asked to sign in again
