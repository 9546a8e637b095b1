"""A reviewer on a phone (390x844): signs in with a password and a TOTP code computed from
the device's key, finds a resident's filing by its receipt number and by the name in kana,
opens it; axe-core on every page, under the site's real Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from forms_engine import models as m
from forms_engine import services
from inbox.models import AuditLog, StaffMembership
from tests.flow.conftest import file_completely

from .conftest import assert_no_axe_violations

PASSWORD = "reviewer-pass-2026!"


@pytest.fixture
def filed(transactional_db, settings):
    """A dog registration filed by a resident through the real pages (name 山田 太郎,
    reading ヤマダ タロウ), and a reviewer of the department that owns it."""
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(settings.PROCEDURES_DIR).errors == []
    draft, _done = file_completely(
        Client(), reverse("procedure_start", args=["sample-city", "dog-registration"])
    )
    submission = m.Submission.objects.get(draft=draft)
    from django.contrib.auth import get_user_model

    reviewer = get_user_model().objects.create_user("reviewer", password=PASSWORD)
    StaffMembership.objects.create(
        user=reviewer,
        organization=submission.organization,
        department=submission.department,
        role=StaffMembership.Role.REVIEWER,
    )
    device = TOTPDevice.objects.create(user=reviewer, name="phone", confirmed=True)
    return submission, device


def test_a_reviewer_signs_in_with_totp_and_finds_a_filing_by_number_and_kana(
    filed, live_server, new_phone_page
):
    submission, device = filed
    page = new_phone_page(bypass_csp=False)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(live_server.url + "/staff/")
    expect(page.locator("h1")).to_have_text("職員ログイン")
    assert_no_axe_violations(page, "staff sign-in")
    page.fill("#username", "reviewer")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click('main button[type="submit"]')

    expect(page.locator("h1")).to_have_text("ワンタイムコード")
    assert_no_axe_violations(page, "one-time code")
    page.fill("#token", f"{totp(device.bin_key):06d}")
    with page.expect_navigation():
        page.click('main button[type="submit"]')

    expect(page.locator("h1")).to_have_text("申請一覧")
    assert_no_axe_violations(page, "inbox list")
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # By receipt number, typed in lower case without hyphens.
    page.fill("#q", submission.number.replace("-", "").lower())
    with page.expect_navigation():
        page.click('main form[role="search"] button[type="submit"]')
    expect(page.locator(".inbox-table tbody tr")).to_have_count(1)
    expect(page.locator(".inbox-table tbody")).to_contain_text(submission.number)

    # By the name in hiragana: the resident typed the reading in katakana.
    page.fill("#q", "やまだ")
    with page.expect_navigation():
        page.click('main form[role="search"] button[type="submit"]')
    expect(page.locator(".inbox-table tbody tr")).to_have_count(1)
    assert_no_axe_violations(page, "inbox list searched by kana")
    with page.expect_navigation():
        page.click(f"text={submission.number}")

    expect(page.locator("h1")).to_have_text("犬の登録申請")
    expect(page.locator("main")).to_contain_text("山田")
    expect(page.locator("main")).to_contain_text("ヤマダ")
    assert_no_axe_violations(page, "submission detail")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    assert AuditLog.objects.filter(
        action="submission.view", submission_id=submission.pk, actor_name="reviewer"
    ).exists()
    assert AuditLog.objects.filter(action="signin.otp_ok", actor_name="reviewer").exists()
