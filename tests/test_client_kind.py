"""The kind of device a filing was completed on, read from real User-Agent headers."""

from __future__ import annotations

import pytest

from forms_engine.client_kind import DESKTOP, PHONE, TABLET, UNKNOWN, client_kind

PHONES = [
    # iPhone Safari, Chrome on iOS, Android Chrome, Samsung Internet, Firefox for Android
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
    # LINE's in-app browser on iPhone (a common way residents open a city's link)
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.12.0",
    # Windows Phone (its header also says Android and Mobile) and an old feature phone
    "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
    "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54",
]
TABLETS = [
    "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1",
    # Android tablets' browsers leave "Mobile" out
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Android 14; Tablet; rv:127.0) Gecko/127.0 Firefox/127.0",
    "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/126.3.1 like Chrome/126.0.6478.62 Safari/537.36",
]
DESKTOPS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    # "Tablet PC" is Windows' label for a desktop with a pen, not a tablet
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; Tablet PC 2.0)",
]
UNKNOWNS = [
    None,
    "",
    "   ",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
    "SomethingElse/1.0",
]


@pytest.mark.parametrize("ua", PHONES)
def test_phones_are_phones(ua):
    assert client_kind(ua) == PHONE


@pytest.mark.parametrize("ua", TABLETS)
def test_tablets_are_tablets(ua):
    assert client_kind(ua) == TABLET


@pytest.mark.parametrize("ua", DESKTOPS)
def test_computers_are_desktops(ua):
    assert client_kind(ua) == DESKTOP


@pytest.mark.parametrize("ua", UNKNOWNS)
def test_robots_programs_and_nothing_are_unknown(ua):
    assert client_kind(ua) == UNKNOWN


def test_an_ipad_asking_for_desktop_pages_counts_as_a_desktop():
    # iPadOS 13+ sends the Mac's header: the documented limit of a header-only rule.
    mac_like = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
    assert client_kind(mac_like) == DESKTOP


def test_a_huge_header_is_read_only_so_far():
    # Markers past the first 512 characters are not looked for (bounded work per request).
    assert client_kind("x" * 600 + " iPhone") == UNKNOWN
    assert client_kind("iPhone " + "x" * 10_000) == PHONE
