"""Direct upload in a phone-sized Chromium (390x844), under the site's real
Content-Security-Policy: the uploader (static/js/uploader.js, Uppy's S3 multipart plugin)
sends a file's parts straight to a real S3-compatible server (SeaweedFS over HTTP, the
`s3_settings` fixture) through part URLs our endpoints sign, with a progress bar per file;
a dropped connection resumes without sending again what storage already holds; cancel and
remove; a refusal at completion said on the page; photos shrunk before they are sent.

The files are made on disk (sparse: a valid header, then zeros), so 300 MB costs no memory
here; the browser reads them part by part."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from forms_engine import models as m
from forms_engine import storage
from tests.uploader_procedure import business_support_fixture  # noqa: F401 - a fixture

from .conftest import assert_no_axe_violations

pytestmark = [pytest.mark.s3]

MiB = 1024 * 1024
PART = storage.PART_SIZE
# The machine may be busy: waits for an upload's next state are generous (never asserted).
UPLOAD_WAIT_MS = 60_000


def sparse_pdf(folder: Path, name: str, size: int) -> Path:
    """A PDF header, zeros (a hole on disk), and the end-of-file marker."""
    path = folder / name
    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
        f.seek(size - 6)
        f.write(b"%%EOF\n")
    return path


class Traffic:
    """What the page sent: part PUTs to storage (by part number, with their outcome), our
    upload endpoints called, and the largest body any request to our own server carried."""

    def __init__(self, page, site: str, store_origin: str):
        self.site, self.store_origin = site, store_origin
        self.parts_ok: list[int] = []
        self.parts_failed: list[int] = []
        self.api: list[tuple[str, str]] = []
        self.largest_site_body = 0
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    @staticmethod
    def part_number(request) -> int:
        return int(parse_qs(urlsplit(request.url).query)["partNumber"][0])

    def _is_part(self, request) -> bool:
        return request.url.startswith(self.store_origin) and request.method == "PUT"

    def _request(self, request):
        if request.url.startswith(self.site):
            self.largest_site_body = max(
                self.largest_site_body, len(request.post_data_buffer or b"")
            )
            if "/uploads/" in request.url:
                self.api.append((request.method, urlsplit(request.url).path.split("/uploads/")[1]))

    def _response(self, response):
        if self._is_part(response.request):
            ok = response.status == 200
            (self.parts_ok if ok else self.parts_failed).append(self.part_number(response.request))

    def _failed(self, request):
        if self._is_part(request):
            self.parts_failed.append(self.part_number(request))


@pytest.fixture
def resident(s3_settings, business_support, live_server, new_phone_page):
    """A resident on the page of files, in a phone browser under the real CSP."""
    page = new_phone_page(bypass_csp=False)
    count_requests_to(page, live_server.url)
    page.goto(f"{live_server.url}/p/upload-town/business-support/")
    with page.expect_navigation():
        page.click("form button[type=submit].button--primary")
    expect(page.locator("h1")).to_have_text("書類")
    page.traffic = Traffic(page, live_server.url, storage.direct_upload_origin())
    page.draft_id = page.url.split("/")[4]
    yield page
    close_quietly(page, live_server)


def count_requests_to(page, site: str) -> None:
    """Keep `page.site_requests_open`: requests to our server sent and not yet answered."""
    page.site_requests_open = 0

    def sent(request):
        if request.url.startswith(site):
            page.site_requests_open += 1

    def ended(request):
        if request.url.startswith(site):
            page.site_requests_open -= 1

    page.on("request", sent)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)


def close_quietly(page, live_server) -> None:
    """Close the page before the test's database is emptied: what is already on its way (an
    upload's last requests) is answered first, and nothing new reaches the server (closing
    the page sends the keep-what-was-typed beacon, app.js). A request still in the live
    server while the tables are truncated deadlocks the flush."""
    page.route(f"{live_server.url}/**", lambda route: route.abort())
    for _ in range(150):  # at most 15 s
        if getattr(page, "site_requests_open", 0) <= 0:
            break
        page.wait_for_timeout(100)
    # Offline, the beacon sent as the page closes cannot leave the browser (a route may not
    # see a beacon).
    page.context.set_offline(True)
    page.close()


def parts_of(traffic, numbers: str):
    """A URL pattern for the part PUTs `numbers` (a regex alternation) to the store: only
    those go through the test's route (each routed body passes through Playwright, slowly)."""
    return re.compile(rf"{re.escape(traffic.store_origin)}/.*[?&]partNumber=({numbers})(&|$)")


def choose(page, field: str, path: Path):
    page.set_input_files(f"[name=f-{field}]", str(path))


def item(page, name: str):
    return page.locator(".uploader__item", has=page.locator(".files__name", has_text=name))


def until(page, condition, seconds: float = 60):
    """Wait (letting the page and Playwright's events run) until condition() holds."""
    for _ in range(int(seconds * 20)):
        if condition():
            return
        page.wait_for_timeout(50)
    pytest.fail(f"still not so after {seconds} s: {condition}")


def expect_uploaded(row, name: str, timeout: int = UPLOAD_WAIT_MS):
    """Done: the bar gone, the server's status of the file said, and a Remove button."""
    expect(row.get_by_role("button", name=f"削除 {name}")).to_be_visible(timeout=timeout)
    expect(row.locator("progress")).to_have_count(0)
    expect(row.locator(".uploader__text")).not_to_have_text("")


def watch_progress(page):
    """Record every value the progress bars take, and the text they carry (the page's own
    script moves them)."""
    page.evaluate(
        """() => {
        window.__progress = [];
        window.__progressText = [];
        new MutationObserver((records) => {
          for (const r of records) {
            if (!r.target.matches('progress')) continue;
            if (r.attributeName === 'value') window.__progress.push(+r.target.value);
            else window.__progressText.push(r.target.getAttribute('aria-valuetext'));
          }
        }).observe(document.body, {subtree: true, attributes: true,
                                   attributeFilter: ['value', 'aria-valuetext']});
      }"""
    )


def attachments(draft_id: str):
    return list(m.Attachment.objects.filter(draft_id=draft_id).order_by("created_at"))


def test_a_300_mb_file_goes_straight_to_storage_with_a_progress_bar_that_moves(resident, tmp_path):
    page, traffic = resident, resident.traffic
    size = 300 * MiB
    watch_progress(page)
    choose(page, "ledger", sparse_pdf(tmp_path, "会計帳簿 2026年度.pdf", size))

    row = item(page, "会計帳簿 2026年度.pdf")
    bar = row.locator("progress")
    expect(bar).to_be_visible()
    expect(bar).to_have_accessible_name("会計帳簿 2026年度.pdfのアップロード")
    page.wait_for_function(
        "() => window.__progress.some((v) => v > 0 && v < 100)", timeout=UPLOAD_WAIT_MS
    )

    expect_uploaded(row, "会計帳簿 2026年度.pdf", timeout=2 * UPLOAD_WAIT_MS)

    seen = page.evaluate("window.__progress")
    between = sorted({v for v in seen if 0 < v < 100})
    assert len(between) >= 3, seen  # it moved, in steps the resident could see
    assert seen == sorted(seen), seen  # and never backwards
    # Said in words too, for the bar's accessible value and on the page: "45%（300MB中135MB）".
    texts = page.evaluate("window.__progressText")
    assert any(re.fullmatch(r"[1-9]\d?%（300MB中\d+(\.\d)?MB）", t) for t in texts), texts

    # The bytes went to storage in 8 MiB parts; our server only ever saw small JSON.
    parts = -(-size // PART)
    assert sorted(traffic.parts_ok) == list(range(1, parts + 1))
    assert traffic.largest_site_body < 64 * 1024
    (attachment,) = attachments(resident.draft_id)
    assert attachment.original_name == "会計帳簿 2026年度.pdf" and attachment.size == size
    # No clamd here: the scan runs in-process and says so openly, then promotes the file.
    assert attachment.status == m.Attachment.Status.NOT_SCANNED
    assert attachment.storage_key.startswith("files/")
    assert storage.object_store().size(attachment.storage_key) == size
    assert_no_axe_violations(page, "the page of files with an uploaded file")

    # Listed on the page as the server renders it, then on the check page.
    page.reload()
    expect(page.locator(".files__item").first).to_contain_text("会計帳簿 2026年度.pdf")
    with page.expect_navigation():
        page.click('.actions button[value="next"]')
    page.fill("[name=f-mail]", "shop@example.jp")
    with page.expect_navigation():
        page.click('.actions button[value="next"]')
    expect(page.locator("h1")).to_have_text("入力内容の確認")
    expect(page.locator(".answers").first).to_contain_text("会計帳簿 2026年度.pdf (300MB)")


def test_a_dropped_connection_resumes_without_sending_the_stored_parts_again(resident, tmp_path):
    page, traffic = resident, resident.traffic
    size = 12 * PART + 1234
    parts = 13
    # The connection drops under part 5; later, while part 9 is on its way, the phone goes
    # offline for a moment (part 9 is held back until then, so the upload is surely running).
    dropped, held = [], []

    def drop(route):
        dropped.append(Traffic.part_number(route.request))
        route.abort("connectionreset")

    page.route(parts_of(traffic, "5"), drop, times=1)
    page.route(parts_of(traffic, "9"), lambda route: held.append(route), times=1)
    choose(page, "ledger", sparse_pdf(tmp_path, "ledger.pdf", size))
    row = item(page, "ledger.pdf")
    until(page, lambda: held)
    page.context.set_offline(True)
    held[0].abort("internetdisconnected")
    expect(row.locator(".uploader__text")).to_contain_text("接続の回復を待っています")
    expect(row.locator("progress")).to_be_visible()
    page.wait_for_timeout(500)
    page.context.set_offline(False)
    expect_uploaded(row, "ledger.pdf")

    assert dropped == [5]
    assert {5, 9} <= set(traffic.parts_failed)  # (and any part on its way when it went offline)
    # Every part reached storage exactly once: nothing stored was sent again.
    assert sorted(traffic.parts_ok) == list(range(1, parts + 1))
    assert len(attachments(resident.draft_id)) == 1


def test_an_interrupted_upload_resumes_from_what_storage_holds_on_retry(resident, tmp_path):
    page, traffic = resident, resident.traffic
    size = 6 * PART
    refusing = [True]

    def refuse(route):
        if not refusing[0]:
            return route.fallback()
        # As the store answers a refused part: readable by the page (CORS), not retried.
        return route.fulfill(
            status=403,
            headers={"Access-Control-Allow-Origin": traffic.site},
            body="<Error><Code>AccessDenied</Code></Error>",
        )

    page.route(parts_of(traffic, "4"), refuse)
    choose(page, "ledger", sparse_pdf(tmp_path, "ledger.pdf", size))
    row = item(page, "ledger.pdf")
    expect(row.locator(".uploader__text")).to_contain_text(
        "アップロードが中断されました", timeout=UPLOAD_WAIT_MS
    )
    assert_no_axe_violations(page, "an interrupted upload")
    sent_before = set(traffic.parts_ok)
    assert sent_before and 4 not in sent_before
    answered_before = len(traffic.parts_ok)

    refusing[0] = False
    row.get_by_role("button", name="再試行 ledger.pdf").click()
    expect_uploaded(row, "ledger.pdf")
    (attachment,) = attachments(resident.draft_id)
    assert ("GET", f"{attachment.pk}/parts") in traffic.api  # listParts
    # The stored ones were not sent again. (A part on its way when the upload stopped may
    # have been stored without the page seeing the answer: listParts names it, so it is not
    # sent again either, and the whole file is there.)
    sent_after = traffic.parts_ok[answered_before:]
    assert 4 in sent_after and not set(sent_after) & sent_before
    assert len(sent_after) == len(set(sent_after))
    assert storage.object_store().size(attachment.storage_key) == size


def test_cancel_during_an_upload_and_remove_after_it(resident, tmp_path):
    page, traffic = resident, resident.traffic
    held = []

    # Part 1 goes through, the others wait: an upload in progress, for as long as needed.
    page.route(parts_of(traffic, "[2-9]"), lambda route: held.append(route))
    choose(page, "ledger", sparse_pdf(tmp_path, "big.pdf", 5 * PART))
    row = item(page, "big.pdf")
    page.wait_for_function(
        "() => document.querySelector('.uploader progress')?.value > 0", timeout=UPLOAD_WAIT_MS
    )
    assert_no_axe_violations(page, "an upload in progress")
    # Leaving the page now would lose it: the page asks to wait instead.
    page.click('.actions button[value="next"]')
    expect(page.locator(".uploader__wait")).to_be_focused()
    (uploading,) = attachments(resident.draft_id)
    assert uploading.status == m.Attachment.Status.UPLOADING

    with page.expect_request(lambda r: r.method == "DELETE"):
        row.get_by_role("button", name="キャンセル big.pdf").click()
    expect(row).to_have_count(0)
    expect(
        page.get_by_role("status").filter(has_text="big.pdfのアップロードをキャンセルしました")
    ).to_have_count(1)
    expect(page.locator("[name=f-ledger]")).to_be_focused()
    for route in held:
        route.abort()
    page.unroute(parts_of(traffic, "[2-9]"))

    choose(page, "ledger", sparse_pdf(tmp_path, "small.pdf", 100_000))
    row = item(page, "small.pdf")
    expect_uploaded(row, "small.pdf")
    # Wait for the server's answer, not just the request: the reload below must come after
    # the removal is done (the status line already named small.pdf when it was uploaded).
    with page.expect_response(lambda r: r.request.method == "DELETE") as removal:
        row.get_by_role("button", name="削除 small.pdf").click()
    assert removal.value.status == 204
    expect(row).to_have_count(0)
    page.wait_for_function(
        "() => document.querySelector('[role=status][aria-live]').textContent.includes('small.pdf')"
    )
    page.reload()
    expect(page.locator(".files__item")).to_have_count(0)  # neither is on the page
    assert not m.Attachment.objects.filter(
        draft_id=resident.draft_id, status__in=["uploading", "quarantined", "clean", "not_scanned"]
    ).exists()


def test_a_file_refused_at_completion_says_why_and_is_not_kept(resident, tmp_path):
    page = resident
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 70_000)  # an executable named .pdf
    choose(page, "ledger", fake)
    row = item(page, "invoice.pdf")
    error = row.locator(".uploader__text--error")
    expect(error).to_be_visible(timeout=UPLOAD_WAIT_MS)
    expect(error).not_to_have_text("")
    assert "PDF" in error.inner_text()  # what would be accepted
    assert_no_axe_violations(page, "a refused file")
    page.reload()
    expect(page.locator(".files__item")).to_have_count(0)


def test_a_large_photo_is_shrunk_in_the_browser_before_it_is_sent(resident, tmp_path):
    from PIL import Image

    page = resident
    photo = tmp_path / "shop.jpg"
    noise = Image.effect_noise((4000, 3000), 64).convert("RGB")
    noise.save(photo, "JPEG", quality=95)
    assert photo.stat().st_size > 2 * MiB  # over the field's max_size as it comes off the phone
    choose(page, "photos", photo)
    row = item(page, "shop.jpg")
    expect_uploaded(row, "shop.jpg")
    (attachment,) = attachments(resident.draft_id)
    assert attachment.size < 2 * MiB
    head = storage.object_store().read_range(attachment.storage_key, 0, 64 * 1024)
    with Image.open(io.BytesIO(head)) as stored:
        assert max(stored.size) == 1600


def test_a_photo_the_browser_cannot_shrink_is_sent_as_it_is(resident, tmp_path):
    page = resident
    heic = tmp_path / "IMG_0001.HEIC"  # what an iPhone sends; Chromium cannot decode it
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 300_000)
    choose(page, "photos", heic)
    expect_uploaded(item(page, "IMG_0001.HEIC"), "IMG_0001.HEIC")
    (attachment,) = attachments(resident.draft_id)
    assert attachment.original_name == "IMG_0001.HEIC"
    assert attachment.size == heic.stat().st_size


def test_without_javascript_the_same_page_posts_the_file_with_the_form(
    s3_settings, business_support, live_server, new_phone_page, tmp_path
):
    page = new_phone_page(java_script_enabled=False, bypass_csp=False)
    page.goto(f"{live_server.url}/p/upload-town/business-support/")
    with page.expect_navigation():
        page.click("form button[type=submit].button--primary")
    assert page.locator("[name=f-ledger][data-upload-url]").count() == 1  # ignored: no script
    choose(page, "ledger", sparse_pdf(tmp_path, "by-post.pdf", 3 * MiB))
    with page.expect_navigation():
        page.click('.actions button[value="next"]')
    expect(page.locator("h1")).to_have_text("連絡先")
    (attachment,) = attachments(page.url.split("/")[4])
    assert attachment.original_name == "by-post.pdf" and attachment.size == 3 * MiB
    close_quietly(page, live_server)
