"""The waiting room on a phone (390x844) in headless Chromium: accessible (axe), working
without JavaScript (the Refresh header brings the resident in when admitted) and sooner
with it (static/js/waiting.js, under the site's real Content-Security-Policy)."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client
from playwright.sync_api import expect

from forms_engine.rush import counters, page
from tests.flow.test_waiting_room import START, _load_with_rush

from .conftest import assert_no_axe_violations


@pytest.fixture
def rush(transactional_db, settings, tmp_path):
    settings.RATE_LIMIT_ENABLED = False
    cache.clear()
    counters.local_counters_clear()
    page.shell_cache_clear()

    def on(rate: int) -> None:
        _load_with_rush(tmp_path, rate=rate)
        assert Client().get(START).status_code == 200  # the first arrival takes the burst

    yield on
    cache.clear()
    counters.local_counters_clear()


def test_the_waiting_page_is_accessible_in_japanese_and_english(rush, live_server, new_phone_page):
    rush(1)  # one a minute: this resident stays in the queue
    for language, heading in (("ja", "待合室"), ("en", "Waiting room")):
        tab = new_phone_page()
        if language == "en":
            tab.context.add_cookies(
                [{"name": "django_language", "value": "en", "url": live_server.url}]
            )
        response = tab.goto(live_server.url + START)
        assert response.headers["refresh"].endswith(f"url={START}")
        expect(tab.locator("h1")).to_have_text(heading)
        expect(tab.locator("#rush-position")).to_have_text("1" if language == "ja" else "2")
        assert_no_axe_violations(tab, f"waiting page ({language})")


def test_without_javascript_the_page_reloads_itself_into_the_filing(
    rush, live_server, new_phone_page
):
    rush(60)  # one a second: admitted at the first reload (after 5 s)
    tab = new_phone_page(java_script_enabled=False)
    tab.goto(live_server.url + START)
    expect(tab.locator("h1")).to_have_text("待合室")
    began = time.monotonic()
    expect(tab.locator("h1")).to_have_text("犬の登録申請", timeout=15_000)
    assert time.monotonic() - began >= 3  # it was the Refresh header, not a script
    # Admitted: the resident starts the filing as usual.
    with tab.expect_navigation():
        tab.click('main form button[type="submit"]')
    assert "/f/" in tab.url


def test_with_javascript_the_page_asks_sooner_under_the_real_csp(rush, live_server, new_phone_page):
    rush(60)
    tab = new_phone_page(bypass_csp=False)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    began = time.monotonic()
    tab.goto(live_server.url + START)
    expect(tab.locator("h1")).to_have_text("犬の登録申請", timeout=15_000)
    # The script polls every 2 s at this wait; the header alone would take 5 s.
    assert time.monotonic() - began < 4.8
    assert errors == []
