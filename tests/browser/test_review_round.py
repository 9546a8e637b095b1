"""The review round in headless Chromium at 390x844 under the real CSP, axe-core on each
page: a reviewer signs in with a password and a TOTP code, finds the filing by its
receipt number, starts the review and returns it for correction naming two fields; the
resident follows the mail's link and corrects only those; the reviewer sees the old and
new answers side by side and approves."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from forms_engine import models as m
from forms_engine import services
from inbox.models import StaffMembership
from tests.flow.conftest import file_completely
from tests.inbox.conftest import make_staff

from .conftest import assert_no_axe_violations

PASSWORD = "staff-pass-2026!"


@pytest.fixture
def filed(transactional_db, settings):
    settings.RATE_LIMIT_ENABLED = False
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    assert services.procedures_load(settings.PROCEDURES_DIR).errors == []
    draft, done = file_completely(
        Client(), reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )
    code = re.search(r'class="status-code">([A-Z0-9]+)<', done.content.decode())[1]
    return draft.receipt.submissions.get(), code


def test_a_reviewer_returns_a_filing_with_totp_and_the_resident_corrects_it(
    filed, live_server, new_phone_page
):
    submission, status_code = filed
    reviewer = make_staff("rev_ga", "osaka-pref", StaffMembership.Role.REVIEWER, "general-affairs")
    device = TOTPDevice.objects.create(user=reviewer, name="phone", confirmed=True)
    base = live_server.url
    staff = new_phone_page(bypass_csp=False)
    errors: list[str] = []
    staff.on("pageerror", lambda exc: errors.append(str(exc)))

    # Sign in: password, then the code from the authenticator app.
    staff.goto(base + "/staff/")
    expect(staff.locator("#username")).to_be_visible()
    staff.fill("#username", "rev_ga")
    staff.fill("#password", PASSWORD)
    with staff.expect_navigation():
        staff.click('main form button[type="submit"]')
    expect(staff.locator("#token")).to_be_visible()
    staff.fill("#token", f"{totp(device.bin_key, t0=device.t0, step=device.step):06d}")
    with staff.expect_navigation():
        staff.click('main form button[type="submit"]')

    # Find the filing by its receipt number.
    staff.fill("#q", submission.number)
    with staff.expect_navigation():
        staff.locator("#q").press("Enter")
    with staff.expect_navigation():
        staff.click(f"a:has-text('{submission.number}')")
    assert staff.url.endswith(f"/staff/submissions/{submission.pk}/")
    assert_no_axe_violations(staff, "staff detail, received")

    with staff.expect_navigation():
        staff.click("text=審査を開始する")
    staff.click("summary:has-text('差し戻す')")
    staff.check("#return-field-phone")
    staff.check("#return-field-documents")
    staff.fill("#return-message", "電話番号と文書名をご確認ください。")
    assert_no_axe_violations(staff, "staff detail, the return form open")
    with staff.expect_navigation():
        staff.click("form[action$='/actions/return/'] button[type='submit']")
    expect(staff.locator(".status-tag").first).to_have_text("差し戻し（修正が必要）")
    assert m.Submission.objects.get(pk=submission.pk).status == "returned"

    # The resident: the mail's link, the number and status code, only the named fields.
    returned_mail = next(msg for msg in mail.outbox if "修正" in msg.subject)
    link = re.search(r"http://\S+/status/[0-9a-f-]{36}/", returned_mail.body)[0]
    resident = new_phone_page(bypass_csp=False)
    resident.goto(base + link[link.index("/status/") :])
    resident.fill("#number", submission.receipt.number)
    resident.fill("#code", status_code)
    with resident.expect_navigation():
        resident.click('main form button[type="submit"]')
    expect(resident.locator(".correction")).to_contain_text("電話番号と文書名をご確認ください。")
    expect(
        resident.locator("#correction-form textarea, #correction-form input:not([type=hidden])")
    ).to_have_count(2)
    resident.fill("#f-phone", "06-6941-0351")
    resident.fill("#f-documents", "令和6年度 議事録一式")
    with resident.expect_navigation():
        resident.click('#correction-form .actions button[value="resubmit"]')
    expect(resident.locator("#submission-status")).to_have_text("再提出（修正済み）")

    # Back in the inbox: before and after side by side, then the approval.
    staff.reload()
    compare = staff.locator("table.compare")
    expect(compare).to_contain_text("090-1234-5678")
    expect(compare).to_contain_text("06-6941-0351")
    assert_no_axe_violations(staff, "staff detail, resubmitted")
    with staff.expect_navigation():
        staff.click("form[action$='/actions/approve/'] button[type='submit']")
    expect(staff.locator(".status-tag").first).to_have_text("承認")
    resident.reload()
    expect(resident.locator("#submission-status")).to_have_text("承認")
    assert errors == []
