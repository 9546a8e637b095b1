"""Smoke tests for the browser harness: Chromium starts, the live server answers, axe runs."""

import pytest

from .conftest import assert_no_axe_violations

pytestmark = pytest.mark.browser


def test_admin_login_page_on_a_phone(live_server, phone_page, axe):
    response = phone_page.goto(live_server.url + "/admin/login/")
    assert response is not None and response.status == 200
    # ja-JP browser: the admin answers in Japanese (LocaleMiddleware), English as a fallback.
    title = phone_page.title()
    assert "ログイン" in title or "Log in" in title, title
    # The page's own stylesheet arrived through the live server's static handler.
    css = phone_page.request.get(live_server.url + "/static/admin/css/base.css")
    assert css.status == 200
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")

    # Django's admin page is not ours to fix: only check that axe ran and gave a result.
    result = axe.run(phone_page)
    assert result["testEngine"]["name"] == "axe-core"
    assert isinstance(result["violations"], list)
    assert result["passes"], "axe ran no passing rule at all: did it run?"


def test_axe_helper_reports_violations(phone_page):
    phone_page.set_content(
        '<html lang="ja"><head><title>t</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        "</main></body></html>"
    )
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_no_axe_violations(phone_page, "a page with an image without alt")
    message = str(failure.value)
    assert "image-alt" in message
    assert "critical" in message
    assert '["img"]' in message


def test_axe_helper_passes_a_clean_page(phone_page, axe):
    phone_page.set_content(
        '<html lang="ja"><head><title>申請</title></head><body>'
        "<main><h1>電子申請</h1><p>本文</p></main></body></html>"
    )
    result = axe.assert_no_violations(phone_page, "a clean page")
    assert result["violations"] == []


def test_axe_runs_under_the_real_csp(live_server, new_phone_page, axe):
    page = new_phone_page(bypass_csp=False)
    page.goto(live_server.url + "/admin/login/")
    result = axe.run(page)
    assert result["testEngine"]["name"] == "axe-core"
