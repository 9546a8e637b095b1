"""On a phone, a resident attaches two certificates, one of which carries the EICAR test
string: the real clamd finds it, and the pages say which file was deleted and that the
other one was checked, accessibly (axe), under the site's real CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from forms_engine import models as m
from forms_engine import services
from tests.scanning.clamd import EICAR, MAX_FILE_BYTES
from tests.scanning.conftest import pdf_with

from .conftest import assert_no_axe_violations
from .test_dog_registration import _fill_dog, _fill_owner, _next


@pytest.fixture
def procedures(transactional_db, settings, tmp_path, clamd_server):
    settings.RATE_LIMIT_ENABLED = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CLAMD_ADDRESS = clamd_server.address
    settings.CLAMD_MAX_FILE_BYTES = MAX_FILE_BYTES
    report = services.procedures_load(settings.PROCEDURES_DIR)
    assert report.errors == []


def test_the_pages_name_the_file_deleted_for_malware_and_mark_the_checked_one(
    procedures, live_server, new_phone_page
):
    page = new_phone_page(bypass_csp=False)
    page.goto(live_server.url + "/p/sample-city/dog-registration/")
    with page.expect_navigation():
        page.click('form button[type="submit"].button--primary')
    _fill_owner(page, javascript=True)
    _next(page)
    _fill_dog(page, javascript=True)
    page.set_input_files(
        '[name="f-vaccination_certificate"]',
        files=[
            {"name": "注射済証.pdf", "mimeType": "application/pdf", "buffer": pdf_with(b"ok")},
            {"name": "別紙.pdf", "mimeType": "application/pdf", "buffer": pdf_with(EICAR)},
        ],
    )
    dog_page = page.url
    _next(page)

    page.check('[name="f-declaration"]')
    _next(page)
    assert "/confirm/" in page.url
    notice = page.locator(".notice--warning", has_text="別紙.pdf")
    expect(notice).to_contain_text("ウイルスなどの不正なプログラムが見つかったため")
    expect(page.locator("main")).to_contain_text("ウイルス検査済み")
    assert_no_axe_violations(page, "confirmation page with a deleted file")

    page.goto(dog_page)
    expect(page.locator(".files__item", has_text="注射済証.pdf")).to_contain_text(
        "ウイルス検査済み"
    )
    expect(page.locator(".files__item", has_text="別紙.pdf")).to_have_count(0)
    expect(page.locator(".notice--warning")).to_contain_text("別紙.pdf")
    assert_no_axe_violations(page, "dog page with a deleted file")

    statuses = sorted(m.Attachment.objects.values_list("original_name", "status"))
    assert statuses == [("別紙.pdf", "infected"), ("注射済証.pdf", "clean")]
