"""What the resident sees of the virus check, through the pages: every form-posted upload
is scanned; each file's state shows on its page and on the confirmation page; a file with
malware is deleted, no longer counts as attached, and the page says so in the resident's
language; without clamd the state says "not scanned", openly."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from tests.flow.conftest import file_completely, walk_to_confirm

from .clamd import EICAR, ClamdServer
from .conftest import FIELD, pdf_with

DOG = reverse("procedure_start", args=["sample-city", "dog-registration"])
CERTIFICATE = f"f-{FIELD}"

# Committed for real, as in production: the scan of a form-posted file starts when the
# upload's row is committed, in the middle of the request that brings it (in process, the
# embedded default), before the page's answers are saved.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


def attaching(content: bytes, name: str = "注射済証.pdf"):
    def tweak(position, page, data):
        if CERTIFICATE in data:
            data[CERTIFICATE] = SimpleUploadedFile(name, content, "application/pdf")
        return data

    return tweak


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def certificate_page_url(confirm_url: str) -> str:
    draft = m.Draft.objects.get(pk=confirm_url.split("/")[2])
    view = services.draft_view(draft)
    step = next(s for s in view.steps() if any(f.id == FIELD for f in s.page.fields))
    return reverse("filing_page", args=[draft.pk, step.position, step.page.id])


def test_a_clean_upload_is_scanned_promoted_and_shown_as_checked(client, loaded, scanning_on):
    confirm = walk_to_confirm(client, DOG, attaching(pdf_with(b"certificate")))

    attachment = m.Attachment.objects.get()
    assert attachment.status == m.Attachment.Status.CLEAN
    assert attachment.storage_key.startswith("files/")
    page = text(client.get(confirm))
    assert "注射済証.pdf" in page
    assert "ウイルス検査済み" in page
    assert "ウイルス検査済み" in text(client.get(certificate_page_url(confirm)))


def test_an_infected_upload_is_deleted_and_the_resident_is_told_to_attach_another(
    client, loaded, scanning_on
):
    confirm = walk_to_confirm(client, DOG, attaching(pdf_with(EICAR), name="ワクチン.pdf"))

    attachment = m.Attachment.objects.get()
    assert attachment.status == m.Attachment.Status.INFECTED
    assert not services.attachment_is_deliverable(attachment)
    told = (
        "ワクチン.pdf からウイルスなどの不正なプログラムが見つかったため、ファイルを削除しました。"
    )
    confirmation = text(client.get(confirm))
    assert told in confirmation
    assert "Eicar" not in confirmation  # the signature is for staff only
    assert told in text(client.get(certificate_page_url(confirm)))

    # It does not count as attached: the required certificate is missing again.
    response = client.post(confirm)
    assert response.status_code == 302
    assert response["Location"] == certificate_page_url(confirm)
    assert not m.Submission.objects.exists()


def test_the_resident_is_told_in_english_too(client, loaded, scanning_on, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    confirm = walk_to_confirm(client, DOG, attaching(pdf_with(EICAR), name="vaccine.pdf"))

    assert (
        "A virus or other malware was found in vaccine.pdf, so the file was deleted. "
        "Attach another file."
    ) in text(client.get(confirm))


def test_without_clamd_the_file_is_said_not_scanned(client, loaded, media, settings):
    settings.CLAMD_ADDRESS = ""
    confirm = walk_to_confirm(client, DOG, attaching(pdf_with(b"certificate")))

    assert m.Attachment.objects.get().status == m.Attachment.Status.NOT_SCANNED
    assert "ウイルス検査なし" in text(client.get(confirm))
    assert "ウイルス検査済み" not in text(client.get(confirm))


def test_a_file_waiting_for_clamd_shows_as_being_checked_and_holds_the_submission_back(
    client, loaded, media, settings, tmp_path
):
    clamd = ClamdServer(tmp_path / "clamd")  # not running yet
    settings.CLAMD_ADDRESS = clamd.address
    confirm = walk_to_confirm(client, DOG, attaching(pdf_with(b"certificate")))
    assert "ウイルス検査中" in text(client.get(confirm))
    assert "ウイルス検査中" in text(client.get(certificate_page_url(confirm)))

    draft, _done = file_completely(client, DOG, attaching(pdf_with(b"certificate")))
    submission = draft.receipt.submissions.get()
    assert submission.attachments.get().status == m.Attachment.Status.QUARANTINED
    assert not services.submission_files_ready(submission)

    clamd.start()
    try:
        call_command("attachments_scan", stdout=open("/dev/null", "w"))  # noqa: SIM115
    finally:
        clamd.stop()

    assert submission.attachments.get().status == m.Attachment.Status.CLEAN
    assert services.submission_files_ready(submission)
