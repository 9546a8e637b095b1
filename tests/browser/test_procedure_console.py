"""An organization admin with no shell: signs in with a password and a TOTP code on a phone
(390x844), creates a procedure from the blank template, adds a conditional question with
a typo, sees the error the check reports by its line, fixes it, previews the pages at
390x844 (the condition shows its question live), publishes, and a resident files it.
axe-core on every page, under the site's real Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from console.models import ProcedureDraft
from forms_engine import models as m
from forms_engine import services
from inbox.models import AuditLog, StaffMembership

from .conftest import assert_no_axe_violations

PASSWORD = "admin-pass-2026!"

ADDED = """\
      - id: has_dog
        type: yes_no
        label: {ja: 犬を飼っていますか, en: Do you have a dog?}
        required: true
      - id: dog_name
        type: text
        label: {ja: 犬の名前, en: Dog's name}
        required: true
        show_if: %s == true
"""


@pytest.fixture
def admin(transactional_db, settings):
    settings.RATE_LIMIT_ENABLED = False
    assert services.procedures_load(settings.PROCEDURES_DIR).errors == []
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("cityadmin", password=PASSWORD)
    StaffMembership.objects.create(
        user=user,
        organization=m.Organization.objects.get(slug="sample-city"),
        role=StaffMembership.Role.ORGANIZATION_ADMIN,
    )
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _go(page, action) -> None:
    with page.expect_navigation():
        action()


def test_an_admin_writes_checks_previews_and_publishes_a_procedure_and_a_resident_files_it(
    admin, live_server, new_phone_page
):
    page = new_phone_page(bypass_csp=False)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(live_server.url + reverse("console:procedure_list"))
    page.fill("#username", "cityadmin")
    page.fill("#password", PASSWORD)
    _go(page, lambda: page.click('main button[type="submit"]'))
    page.fill("#token", f"{totp(admin.bin_key):06d}")
    _go(page, lambda: page.click('main button[type="submit"]'))

    assert page.url.endswith(reverse("console:procedure_list"))
    expect(page.locator("#procedures")).to_contain_text("dog-registration")
    assert_no_axe_violations(page, "procedures page")

    _go(page, lambda: page.click(f'a[href="{reverse("console:procedure_new")}"]'))
    assert_no_axe_violations(page, "new procedure")
    page.fill("#id_slug", "pet-survey")
    page.check("#id_start_0")  # the blank template
    _go(page, lambda: page.click('main form button[type="submit"]'))

    draft = ProcedureDraft.objects.get(slug="pet-survey")
    expect(page.locator("#check-ok")).to_be_visible()
    assert_no_axe_violations(page, "editor")

    # A conditional question, with a typo in its condition.
    text = page.input_value("#id_text")
    page.fill("#id_text", text + ADDED % "has_dgo")
    _go(page, lambda: page.click('button[name="_action"][value="check"]'))
    error = page.locator("#check-errors li a")
    expect(error).to_have_count(1)
    message = error.inner_text()
    line = len((text + ADDED).splitlines())
    assert re.match(
        rf"sample-city/pet-survey\.yaml:{line} pages\[0\]\.fields\[3\]\.show_if: ", message
    )
    assert "has_dgo" in message
    assert_no_axe_violations(page, "editor with an error")
    # The error links to its line, marked in the numbered listing.
    page.click("#check-errors li a")
    assert page.url.endswith(f"#line-{line}")
    expect(page.locator(f"#line-{line}")).to_contain_text("has_dgo")
    expect(page.locator(f"#line-{line} .source-line__error")).to_be_visible()
    # It cannot be published as it is.
    _go(page, lambda: page.click('button[name="_action"][value="publish"]'))
    expect(page.locator("#publish-refused")).to_be_visible()
    assert not m.Procedure.objects.filter(slug="pet-survey").exists()
    # The refusal answers 400 (the browser logs it); nothing else went wrong.
    assert [e for e in errors if "400" not in e] == []
    errors.clear()

    # Fixed.
    page.fill("#id_text", page.input_value("#id_text").replace("has_dgo", "has_dog"))
    _go(page, lambda: page.click('button[name="_action"][value="check"]'))
    expect(page.locator("#check-ok")).to_be_visible()

    # The preview: the frames page, then the pages themselves at 390x844.
    _go(page, lambda: page.click(f'a[href="{reverse("console:preview", args=[draft.pk])}"]'))
    expect(page.locator("iframe")).to_have_count(2)
    assert_no_axe_violations(page, "preview frames")
    frame = page.frame_locator("iframe.preview-frame__frame--390")
    expect(frame.locator("h1")).to_have_text("申請者")

    counts = (m.Draft.objects.count(), m.Submission.objects.count(), m.Receipt.objects.count())
    _go(
        page,
        lambda: page.goto(
            live_server.url + reverse("console:preview_start", args=[draft.pk, "ja"])
        ),
    )
    expect(page.locator("h1")).to_have_text("申請者")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_no_axe_violations(page, "preview page")
    dog_name = page.locator('[name="f-dog_name"]')
    expect(dog_name).to_be_hidden()
    page.check('[name="f-has_dog"][value="yes"]')
    expect(dog_name).to_be_visible()  # the condition is live (expr.js), no round trip
    page.fill('[name="f-name-family"]', "試験")
    page.fill('[name="f-name-given"]', "花子")
    page.fill('[name="f-name-kana_family"]', "シケン")
    page.fill('[name="f-name-kana_given"]', "ハナコ")
    page.fill('[name="f-email"]', "trial@example.jp")
    dog_name.fill("ポチ")
    _go(page, lambda: page.click('.actions button[value="next"]'))
    expect(page.locator("main")).to_contain_text("ポチ")
    assert_no_axe_violations(page, "preview check page")
    _go(page, lambda: page.click('main form button[type="submit"]'))
    expect(page.locator("#dry-run-done")).to_be_visible()
    assert (
        m.Draft.objects.count(),
        m.Submission.objects.count(),
        m.Receipt.objects.count(),
    ) == counts

    # English too.
    page.goto(live_server.url + reverse("console:preview_page", args=[draft.pk, "en", "applicant"]))
    expect(page.locator("h1")).to_have_text("Applicant")

    # Publish.
    page.goto(live_server.url + reverse("console:draft_edit", args=[draft.pk]))
    _go(page, lambda: page.click('button[name="_action"][value="publish"]'))
    procedure = m.Procedure.objects.get(organization__slug="sample-city", slug="pet-survey")
    assert page.url.endswith(reverse("console:procedure_detail", args=[procedure.pk]))
    expect(page.locator("#versions")).to_contain_text("cityadmin")
    assert_no_axe_violations(page, "procedure page")
    version = procedure.live_version
    assert version is not None and version.number == 1
    assert AuditLog.objects.filter(
        action="console.publish", data__version_hash=version.content_hash
    ).exists()

    # A resident files it, on another phone.
    resident = new_phone_page(bypass_csp=False)
    resident.goto(live_server.url + reverse("procedure_start", args=["sample-city", "pet-survey"]))
    expect(resident.locator("h1")).to_have_text("新しい手続き")
    _go(resident, lambda: resident.click("form button[type=submit].button--primary"))
    resident.fill('[name="f-name-family"]', "山田")
    resident.fill('[name="f-name-given"]', "太郎")
    resident.fill('[name="f-name-kana_family"]', "やまだ")
    resident.fill('[name="f-name-kana_given"]', "たろう")
    resident.fill('[name="f-email"]', "taro@example.jp")
    resident.check('[name="f-has_dog"][value="no"]')
    _go(resident, lambda: resident.click('.actions button[name="_action"][value="next"]'))
    assert "/confirm/" in resident.url
    _go(resident, lambda: resident.click('form[data-submit-once] button[type="submit"]'))
    assert "/done/" in resident.url
    number = resident.locator("#receipt-number").inner_text().strip()
    submission = m.Submission.objects.get(number=number)
    assert submission.procedure_version == version
    assert submission.answers["has_dog"] is False
    assert errors == []
