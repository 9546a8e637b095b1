"""A resident files the dog registration on a phone (390x844) in headless Chromium, under
the site's real Content-Security-Policy, with axe-core checking every page of the flow.

Once with JavaScript (postal autofill by fetch, conditional fields shown instantly, the
upload sent with a progress bar) in Japanese and in English, and once without JavaScript
(every action is a server round trip)."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from forms_engine import models as m
from forms_engine import services
from tests.factories import png_bytes

from .conftest import assert_no_axe_violations as _axe

TEXTS = {
    "ja": {"title": "犬の登録申請", "confirm": "確認", "received": "受け付けました"},
    "en": {"title": "Dog registration", "confirm": "Check your answers", "received": "received"},
}


@pytest.fixture
def procedures(transactional_db, settings):
    settings.RATE_LIMIT_ENABLED = False
    report = services.procedures_load(settings.PROCEDURES_DIR)
    assert report.errors == []


def _next(page):
    with page.expect_navigation():
        page.click('.actions button[name="_action"][value="next"]')


def _fill_owner(page, *, javascript: bool):
    page.fill('[name="f-name-family"]', "山田")
    page.fill('[name="f-name-given"]', "太郎")
    page.fill('[name="f-name-kana_family"]', "やまだ")  # hiragana: turned into katakana
    page.fill('[name="f-name-kana_given"]', "たろう")
    page.fill('[name="f-birth_date-year"]', "1985")
    page.fill('[name="f-birth_date-month"]', "4")
    page.fill('[name="f-birth_date-day"]', "1")
    page.fill('[name="f-postal_code"]', "５４０－０００８")  # full-width, as phones type it
    url_before = page.url
    if javascript:
        page.click('button[value="postal:f-postal_code"]')
        expect(page.locator('[name="f-address-city"]')).to_have_value("大阪市中央区")
        assert page.url == url_before  # filled in place, no round trip
    else:
        with page.expect_navigation():
            page.click('button[value="postal:f-postal_code"]')
    expect(page.locator('[name="f-address-prefecture"]')).to_have_value("大阪府")
    expect(page.locator('[name="f-address-city"]')).to_have_value("大阪市中央区")
    expect(page.locator('[name="f-address-town"]')).to_have_value(re.compile("^大手前"))
    page.fill('[name="f-address-town"]', "大手前2丁目1-22")
    page.fill('[name="f-phone"]', "０９０１２３４５６７８")
    page.fill('[name="f-email"]', "taro@example.jp")


def _fill_dog(page, *, javascript: bool):
    page.fill('[name="f-dog_name"]', "ポチ")
    other = page.locator('[name="f-breed_other"]')
    if javascript:
        page.select_option('[name="f-breed"]', "shiba")
        expect(other).to_be_hidden()
        page.select_option('[name="f-breed"]', "other")
        expect(other).to_be_visible()  # instantly, without a round trip
    else:
        page.select_option('[name="f-breed"]', "other")
        expect(other).to_be_visible()  # without JavaScript it is always shown
    other.fill("甲斐犬")
    page.fill('[name="f-dog_birth_date-year"]', "2024")
    page.fill('[name="f-dog_birth_date-month"]', "1")
    page.fill('[name="f-dog_birth_date-day"]', "15")
    page.check('[name="f-sex"][value="female"]')
    page.check('[name="f-vaccinated"][value="yes"]')
    page.set_input_files(
        '[name="f-vaccination_certificate"]',
        files=[{"name": "certificate.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}],
    )


def file_dog_registration(page, live_server, lang: str, javascript: bool):
    texts = TEXTS[lang]

    def assert_no_axe_violations(page, label):
        # axe is JavaScript: it runs in the JavaScript variants, on the same markup.
        if javascript:
            _axe(page, label)

    page.goto(live_server.url + "/")
    if lang == "en":
        with page.expect_navigation():
            page.click('button[name="language"][value="en"]')
    assert_no_axe_violations(page, "home")
    with page.expect_navigation():
        page.click(f"text={texts['title']}")
    expect(page.locator("h1")).to_have_text(texts["title"])
    assert_no_axe_violations(page, "start page")
    with page.expect_navigation():
        page.click('form button[type="submit"].button--primary')

    _fill_owner(page, javascript=javascript)
    assert_no_axe_violations(page, "owner page")
    _next(page)

    _fill_dog(page, javascript=javascript)
    assert_no_axe_violations(page, "dog page")
    _next(page)

    expect(page.locator("h1")).not_to_have_text(re.compile("犬の情報|About the dog"))
    page.check('[name="f-declaration"]')
    assert_no_axe_violations(page, "declaration page")
    _next(page)

    assert "/confirm/" in page.url
    body = page.locator("main").inner_text()
    assert "ヤマダ" in body and "甲斐犬" in body and "certificate.png" in body
    assert "3,000" in body
    assert_no_axe_violations(page, "confirmation page")
    with page.expect_navigation():
        page.click('form[data-submit-once] button[type="submit"]')

    assert "/done/" in page.url
    number = page.locator("#receipt-number").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", number)
    assert_no_axe_violations(page, "completion page")

    sub = m.Submission.objects.get(number=number)
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    assert sub.answers["name"]["kana_family"] == "ヤマダ"
    assert sub.answers["postal_code"] == "5400008"
    assert sub.answers["phone"].replace("-", "") == "09012345678"
    assert sub.answers["breed_other"] == "甲斐犬"
    assert len(sub.answers["vaccination_certificate"]) == 1
    assert sub.attachments.count() == 1
    return sub


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_resident_files_the_dog_registration_on_a_phone_with_javascript(
    procedures, live_server, new_phone_page, lang
):
    page = new_phone_page(bypass_csp=False)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    file_dog_registration(page, live_server, lang, javascript=True)
    assert errors == []  # no script error and no CSP refusal on any page


def test_a_resident_files_the_dog_registration_without_javascript(
    procedures, live_server, new_phone_page
):
    page = new_phone_page(bypass_csp=False, java_script_enabled=False)
    file_dog_registration(page, live_server, "ja", javascript=False)


def test_the_browser_back_button_keeps_what_was_typed(procedures, live_server, new_phone_page):
    page = new_phone_page(bypass_csp=False)
    page.goto(live_server.url + "/p/sample-city/dog-registration/")
    with page.expect_navigation():
        page.click('form button[type="submit"].button--primary')
    _fill_owner(page, javascript=True)
    _next(page)
    draft_id = re.search(r"/f/([0-9a-f-]{36})/", page.url)[1]
    page.fill('[name="f-dog_name"]', "クロ")
    page.go_back()  # the browser's Back, not the page's button
    page.wait_for_load_state()
    # The keep-on-leave beacon is sent as the page is left; go on once the server has it.
    kept = False
    for _ in range(300):  # a bound against a hang, not a time the beacon must meet
        pending = m.Draft.objects.values_list("pending", flat=True).get(pk=draft_id)
        kept = "クロ" in json.dumps(pending, ensure_ascii=False)
        if kept:
            break
        time.sleep(0.05)
    assert kept, "the page left by Back never reached the server"
    _next(page)
    expect(page.locator('[name="f-dog_name"]')).to_have_value("クロ")


def test_pages_fit_a_small_phone_without_sideways_scrolling(
    procedures, live_server, new_phone_page
):
    page = new_phone_page(bypass_csp=False, viewport={"width": 320, "height": 640})
    page.goto(live_server.url + "/p/sample-city/dog-registration/")
    with page.expect_navigation():
        page.click('form button[type="submit"].button--primary')
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320
