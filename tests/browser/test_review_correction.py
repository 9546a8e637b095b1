"""The resident's correction (差戻し) and withdrawal (取下げ) on a phone (390x844) in headless
Chromium under the site's real Content-Security-Policy, with axe-core on every state of
the pages, in Japanese and English."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from forms_engine import models as m
from forms_engine import services
from tests.flow.conftest import file_completely

from .conftest import assert_no_axe_violations


@pytest.fixture
def filed(transactional_db, settings):
    """A records-disclosure request: (submission, status code)."""
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(settings.PROCEDURES_DIR).errors == []
    draft, done = file_completely(
        Client(), reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )
    code = re.search(r'class="status-code">([A-Z0-9]+)<', done.content.decode())[1]
    return draft.receipt.submissions.get(), code


def _open_from_mail_link(page, base: str, submission, code: str) -> None:
    page.goto(f"{base}/status/{submission.pk}/")
    assert_no_axe_violations(page, "status look-up from a mail link")
    page.fill("#number", submission.receipt.number)
    page.fill("#code", code)
    with page.expect_navigation():
        page.click('main form button[type="submit"]')
    assert page.url.endswith(f"/status/{submission.pk}/")
    # Nothing personal in the address bar: only the submission's id.
    assert submission.receipt.number not in page.url and code not in page.url


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_a_resident_corrects_the_named_fields_on_a_phone(
    filed, live_server, new_phone_page, locale
):
    submission, code = filed
    reviewer = get_user_model().objects.create_user("reviewer-b", password="x" * 16)
    services.submission_review_start(submission.pk, actor=reviewer)
    services.submission_return(
        submission.pk, ["phone", "documents"], "電話番号と文書名をご確認ください。", actor=reviewer
    )
    page = new_phone_page(bypass_csp=False, locale=locale)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _open_from_mail_link(page, live_server.url, submission, code)

    ja = locale == "ja-JP"
    if not ja:
        with page.expect_navigation():
            page.click('button[name="language"][value="en"]')
        expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#submission-status")).to_have_text(
        "差し戻し（修正が必要）" if ja else "Returned for correction"
    )
    expect(page.locator(".correction")).to_contain_text("電話番号と文書名をご確認ください。")
    form = page.locator("#correction-form")
    expect(form.locator("input, textarea, select")).to_have_count(
        form.locator('[name="csrfmiddlewaretoken"]').count() + 2
    )
    expect(page.locator("#f-phone")).to_have_value("090-1234-5678")
    assert_no_axe_violations(page, "correction form")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    page.fill("#f-phone", "12")
    page.fill("#f-documents", "短い")
    with page.expect_navigation():
        page.click('#correction-form .actions button[value="resubmit"]')
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#f-phone")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page, "correction form with errors")
    assert m.Submission.objects.get(pk=submission.pk).status == "returned"

    page.fill("#f-phone", "06-6941-0351")
    page.fill("#f-documents", "令和6年度 議事録一式")
    with page.expect_navigation():
        page.click('#correction-form .actions button[value="resubmit"]')
    expect(page.locator("#submission-status")).to_have_text(
        "再提出（修正済み）" if ja else "Corrected and resubmitted"
    )
    expect(page.locator("#correction-form")).to_have_count(0)
    assert_no_axe_violations(page, "after the correction")
    assert m.Submission.objects.get(pk=submission.pk).answers["phone"] == "06-6941-0351"
    assert errors == []


def test_a_resident_withdraws_with_a_confirmation_on_a_phone(filed, live_server, new_phone_page):
    submission, code = filed
    page = new_phone_page(bypass_csp=False)
    _open_from_mail_link(page, live_server.url, submission, code)
    with page.expect_navigation():
        page.click('a[href$="/withdraw/"]')
    expect(page.locator("h1")).to_have_text("申請を取り下げる")
    assert_no_axe_violations(page, "withdrawal confirmation")
    assert m.Submission.objects.get(pk=submission.pk).status == "submitted"
    with page.expect_navigation():
        page.click("text=はい、取り下げます")
    expect(page.locator("#submission-status")).to_have_text("取下げ")
    assert_no_axe_violations(page, "withdrawn")
    assert m.Submission.objects.get(pk=submission.pk).status == "withdrawn"
