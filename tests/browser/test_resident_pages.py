"""Issue 10, items 5 and 6 in the browser: Enter presses Next (not the header's language
button) in Japanese and English; without JavaScript a failed Next puts focus on the error
summary; every error page passes axe at 390x844 and 1280x800 and does not scroll
sideways with text at 200%."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from forms_engine import services

from .conftest import assert_no_axe_violations

VIEWPORTS = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]


@pytest.fixture
def procedures(transactional_db, settings):
    settings.RATE_LIMIT_ENABLED = False
    report = services.procedures_load(settings.PROCEDURES_DIR)
    assert report.errors == []


def _start_url(base, lang):
    return (
        f"{base}{reverse('procedure_start', args=['sample-city', 'dog-registration'])}?lang={lang}"
    )


def _start(page, base, lang):
    page.goto(_start_url(base, lang))
    with page.expect_navigation():
        page.click('form button[type="submit"].button--primary')
    assert page.locator('[name="f-name-family"]').count() == 1


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_enter_in_a_text_field_presses_next(procedures, live_server, new_phone_page, lang):
    page = new_phone_page(bypass_csp=False)
    _start(page, live_server.url, lang)
    first = page.url
    page.fill('[name="f-name-family"]', "山田")
    with page.expect_navigation():
        page.press('[name="f-name-family"]', "Enter")
    # Next was pressed: the page is validated (errors shown) in the same language; the
    # language switch would have flipped the language and shown no errors.
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator("#error-summary").count() == 1
    assert page.url.split("?")[0].split("#")[0] == first.split("?")[0]
    assert page.locator('[name="f-name-family"]').input_value() == "山田"


def test_without_javascript_focus_moves_to_the_error_summary(
    procedures, live_server, new_phone_page
):
    page = new_phone_page(bypass_csp=False, java_script_enabled=False)
    _start(page, live_server.url, "ja")
    with page.expect_navigation():
        page.click('.actions button[name="_action"][value="next"]')
    assert page.evaluate(
        "document.activeElement && document.activeElement.id"
    ) == "error-summary" or (page.locator("#error-summary[autofocus]").count() == 1)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "desktop"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_error_pages_pass_axe_and_do_not_scroll_sideways(
    procedures, live_server, new_phone_page, viewport, lang
):
    owner = new_phone_page(bypass_csp=False)
    _start(owner, live_server.url, lang)
    draft_url = owner.url
    page = new_phone_page(viewport=viewport)
    urls = [f"{live_server.url}/no-such-page/?lang={lang}", draft_url]
    for url in urls:
        response = page.goto(url)
        assert response.status == 404
        assert page.evaluate("document.documentElement.lang") == lang
        assert_no_axe_violations(page, f"404 {url}")
        assert page.evaluate(
            "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
        )
    # The CSRF page: a form sent with its cookies gone.
    page.goto(_start_url(live_server.url, lang))
    page.context.clear_cookies()
    with page.expect_navigation():
        page.click('form button[type="submit"].button--primary')
    assert page.evaluate("document.documentElement.lang") in ("ja", "en")
    assert page.locator("#contact-title").count() == 1
    assert_no_axe_violations(page, "CSRF failure page")
    # 200% text: the root font size doubled, still no sideways scroll.
    for url in urls:
        page.goto(url)
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        assert page.evaluate(
            "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
        ), url


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_postal_look_up_clears_the_address_errors(
    procedures, live_server, new_phone_page, javascript
):
    page = new_phone_page(bypass_csp=False, java_script_enabled=javascript)
    _start(page, live_server.url, "ja")
    with page.expect_navigation():  # Next with nothing typed: the address is in error
        page.click('.actions button[name="_action"][value="next"]')
    assert page.locator('[id^="f-address"][id$="-error"]').count() >= 1
    page.fill('[name="f-postal_code"]', "5400008")
    if javascript:
        page.click('button[value="postal:f-postal_code"]')
        expect(page.locator('[name="f-address-town"]')).to_have_value("大手前")
    else:
        with page.expect_navigation():
            page.click('button[value="postal:f-postal_code"]')
    assert page.locator('[id^="f-address"][id$="-error"]').count() == 0
    assert page.locator('[name="f-address-town"][aria-invalid]').count() == 0
    status = page.locator("#f-postal_code-status")
    assert "番地" in status.inner_text()
    page.fill('[name="f-address-town"]', "大手前2丁目1-22")
    if javascript:
        # Typing the block number answers the status' request: it no longer asks.
        expect(status).to_have_text("")


def _drop_autosave(route):
    request = route.request
    if request.method == "POST" and "autosave" in (request.post_data or ""):
        route.abort()
    else:
        route.continue_()


def test_reload_right_after_typing_shows_what_was_typed(procedures, live_server, new_phone_page):
    page = new_phone_page(bypass_csp=False)
    _start(page, live_server.url, "ja")
    url = page.url
    # The keep-what-was-typed beacon is late: it has not reached the server when the
    # reloaded page is made (here it never does).
    page.route("**/*", _drop_autosave)
    page.fill('[name="f-name-family"]', "山田")
    page.reload()
    assert page.url == url
    expect(page.locator('[name="f-name-family"]')).to_have_value("山田")
    # The restored value is sent again on leaving: with the beacon arriving this time,
    # a fresh tab (no sessionStorage) sees it from the server.
    page.unroute("**/*")
    page.goto(live_server.url + "/")
    other = page.context.new_page()
    other.goto(url)
    expect(other.locator('[name="f-name-family"]')).to_have_value("山田")


def test_a_newer_save_is_not_overwritten_by_what_this_tab_kept(
    procedures, live_server, new_phone_page
):
    page = new_phone_page(bypass_csp=False)
    _start(page, live_server.url, "ja")
    url = page.url
    page.fill('[name="f-name-family"]', "山田")  # kept in this tab
    # Another tab saves the page since: its version is newer.
    other = page.context.new_page()
    other.goto(url)
    other.fill('[name="f-name-family"]', "佐藤")
    with other.expect_navigation():
        other.click('.actions button[name="_action"][value="save"]')
    page.route("**/*", _drop_autosave)  # this tab's beacon never arrives
    page.goto(url)
    expect(page.locator('[name="f-name-family"]')).to_have_value("佐藤")


@pytest.mark.parametrize("size", ["390x844", "1280x800"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_400_403_429_500_503_pages_pass_axe(db, live_server, new_phone_page, settings, lang, size):
    settings.ROOT_URLCONF = "tests.browser.error_urls"
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    width, height = map(int, size.split("x"))
    page = new_phone_page(viewport={"width": width, "height": height})
    for status in (400, 403, 429, 500, 503):
        response = page.goto(f"{live_server.url}/_fail/{status}/?lang={lang}")
        assert response.status == status
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.locator("#contact-title").count() == 1, status
        assert page.locator('main a[href="/"]').count() >= 1, status
        assert_no_axe_violations(page, f"{status} page at {size}")
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        assert page.evaluate(
            "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
        ), status
