"""axe-core on every page of a procedure that uses every field type, at phone widths,
with errors shown, in Japanese and English. The test client fills the pages; the
browser opens them in the same session."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from forms_engine import services
from tests.factories import page_post
from tests.flow.conftest import page_spec

from .conftest import assert_no_axe_violations

TREE = Path(__file__).resolve().parent.parent / "fixtures" / "procedures"


def _tweak(page, data):
    if page.id == "basics":
        data.update({"f-title_text": "Annual report", "f-copies": "2"})
    return data


def _walk(client: Client) -> list[str]:
    urls = []
    url = client.post(reverse("procedure_start", args=["test-town", "every-field"]))["Location"]
    while not url.endswith("/confirm/"):
        urls.append(url)
        _d, _p, page = page_spec(url)
        response = client.post(url, _tweak(page, page_post(page)))
        assert response.status_code == 302
        url = response["Location"]
    return [*urls, url]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_field_type_passes_axe_on_a_phone(
    transactional_db, live_server, new_phone_page, lang, settings
):
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(TREE).errors == []
    client = Client()
    client.post(reverse("set_language"), {"language": lang, "next": "/"})
    urls = _walk(client)

    page = new_phone_page(bypass_csp=False, viewport={"width": 320, "height": 640})
    page.context.add_cookies(
        [
            {"name": name, "value": morsel.value, "url": live_server.url}
            for name, morsel in client.cookies.items()
        ]
    )
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    for url in urls:
        page.goto(live_server.url + url)
        assert page.evaluate("document.documentElement.lang") == lang
        assert_no_axe_violations(page, url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, url

    # A page full of errors is accessible too (error summary, aria-invalid, messages).
    page.goto(live_server.url + urls[1])
    with page.expect_navigation():
        page.evaluate(
            "() => { document.querySelectorAll('input[type=radio],input[type=checkbox]')"
            ".forEach(i => i.checked = false); document.querySelector('.actions button').click(); }"
        )
    assert page.locator("#error-summary").count() == 1
    assert_no_axe_violations(page, "page with errors")

    # The completion page too: the receipt number stays on one line at 320px.
    done = client.post(urls[-1])["Location"]
    page.context.add_cookies(
        [
            {"name": name, "value": morsel.value, "url": live_server.url}
            for name, morsel in client.cookies.items()
        ]
    )
    page.goto(live_server.url + done)
    assert_no_axe_violations(page, "completion page")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    box = page.locator("#receipt-number").bounding_box()
    assert box and box["height"] < 60  # one line
    assert problems == []
