"""Issue 10, item 6: axe-core (WCAG 2.2 A and AA rule tags) reports nothing on every
resident page at 390x844 and at 1280x800, in Japanese and English: the start page, every
page of a procedure using every field type, a page full of errors, the confirmation,
the completion, the status look-up and a filing's status page, and my page. And with text
at 200% (root font size doubled in a 640x800 window) no page scrolls sideways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from tests.factories import page_post
from tests.flow.conftest import page_spec

from .conftest import assert_no_axe_violations

TREE = Path(__file__).resolve().parent.parent / "fixtures" / "procedures"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800)}


def _tweak(page, data):
    if page.id == "basics":
        data.update({"f-title_text": "Annual report", "f-copies": "2"})
    return data


def _resident_urls(client: Client) -> list[str]:
    start = reverse("procedure_start", args=["test-town", "every-field"])
    urls = [start]
    url = client.post(start)["Location"]
    while not url.endswith("/confirm/"):
        urls.append(url)
        _d, _p, page = page_spec(url)
        response = client.post(url, _tweak(page, page_post(page)))
        assert response.status_code == 302, response.content.decode()[:800]
        url = response["Location"]
    urls.append(url)
    with TestCase.captureOnCommitCallbacks(execute=True):
        done = client.post(url)
    assert done.status_code == 302
    urls.append(done["Location"])
    draft = m.Draft.objects.get(pk=url.split("/")[2])
    submission = draft.receipt.submissions.get()
    urls += [
        reverse("status"),
        reverse("status_submission", args=[submission.pk]),
        reverse("my_page"),
    ]
    return urls


def _sign_in(client: Client) -> None:
    client.post(reverse("login"), {"email": "hanako@example.jp"})
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert client.post(f"/login/{token}/").status_code == 302


def _no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
    )


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_every_resident_page_passes_axe(
    transactional_db, live_server, new_phone_page, settings, lang, size
):
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(TREE).errors == []
    client = Client()
    client.cookies["django_language"] = lang
    _sign_in(client)
    urls = _resident_urls(client)

    width, height = VIEWPORTS[size]
    options = {"viewport": {"width": width, "height": height}}
    if size == "desktop":
        options.update(is_mobile=False, has_touch=False, device_scale_factor=1)
    page = new_phone_page(bypass_csp=False, **options)
    page.context.add_cookies(
        [
            {"name": name, "value": morsel.value, "url": live_server.url}
            for name, morsel in client.cookies.items()
        ]
    )
    for url in urls:
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        assert page.evaluate("document.documentElement.lang") == lang, url
        assert_no_axe_violations(page, f"{url} at {width}x{height}")
        assert _no_sideways_scroll(page), url

    # A page full of errors, in a new filing (the first one is sent).
    page.goto(live_server.url + urls[0])
    with page.expect_navigation():
        page.click('main form button[type="submit"].button--primary')
    with page.expect_navigation():
        page.evaluate(
            "() => { document.querySelectorAll('input[type=radio],input[type=checkbox]')"
            ".forEach(i => i.checked = false); document.querySelector('.actions button').click(); }"
        )
    assert page.locator("#error-summary").count() == 1
    assert_no_axe_violations(page, f"page with errors at {width}x{height}")

    if size != "phone":
        return
    # Text at 200%: every page kind in a 640x800 window with the root font size doubled.
    page.set_viewport_size({"width": 640, "height": 800})
    for url in [*urls, "/no-such-page/"]:
        page.goto(live_server.url + url)
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        wide = page.evaluate(
            "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect()"
            ".right > document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + "
            "e.className + '#' + e.id).slice(0, 5)"
        )
        assert _no_sideways_scroll(page), f"{url} scrolls sideways at 200% text: {wide}"
