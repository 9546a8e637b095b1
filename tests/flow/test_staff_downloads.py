"""Staff download files of submissions through the admin (until the staff inbox): only
deliverable files (scanned clean, or openly not scanned), through a short-lived URL with
the resident's file name, each download audited. Residents see their own files only."""

from __future__ import annotations

import io
import urllib.parse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services, storage
from tests.factories import pdf_bytes
from tests.staff import login_verified
from tests.storage.helpers import http

from .conftest import file_completely, walk_to_confirm

DOG = ("sample-city", "dog-registration")
A = m.Attachment.Status
NAME = "狂犬病予防注射済証 2026.pdf"


def with_file(name: str, data: bytes = pdf_bytes()):
    def tweak(position, page, data_):
        for key in list(data_):
            if key == "f-vaccination_certificate":
                data_[key] = SimpleUploadedFile(name, data, "application/pdf")
        return data_

    return tweak


@pytest.fixture
def filed(client, loaded):
    """A dog registration filed with one certificate, scanned clean."""
    start = reverse("procedure_start", args=list(DOG))
    draft, _done = file_completely(client, start, with_file(NAME))
    attachment = m.Attachment.objects.get(draft=draft)
    assert attachment.submission is not None
    attachment.status = A.CLEAN
    attachment.save(update_fields=["status"])
    return attachment


@pytest.fixture
def operator(db, django_user_model) -> Client:
    user = django_user_model.objects.create_superuser("operator", "op@example.jp", "pw-123456!")
    return login_verified(Client(), user)


def download(c: Client, attachment):
    return c.post(reverse("admin:forms_engine_attachment_download", args=[attachment.pk]))


def test_a_clean_file_is_handed_out_through_a_short_lived_url_and_audited(operator, filed):
    response = download(operator, filed)

    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]
    audit = m.DownloadAudit.objects.get()
    assert audit.username == "operator"
    assert audit.user.username == "operator"
    assert audit.attachment == filed and audit.attachment_ref == filed.pk
    assert audit.submission_number == filed.submission.number
    assert audit.address == "127.0.0.1"
    # The local store's stand-in for a presigned URL: a ticket, no name or key in it.
    url = response["Location"]
    assert "狂犬病" not in urllib.parse.unquote(url) and filed.storage_key not in url
    got = operator.get(url)
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == pdf_bytes()
    assert got["Content-Type"] == "application/pdf"  # the checked type, not a declared one
    disposition = got["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + urllib.parse.quote(NAME, safe="") in disposition


@pytest.mark.parametrize("status", [A.QUARANTINED, A.UPLOADING, A.INFECTED, A.REFUSED, A.DELETED])
def test_a_file_that_is_not_deliverable_is_never_handed_out(operator, filed, status):
    filed.status = status
    filed.save(update_fields=["status"])

    assert download(operator, filed).status_code == 404
    assert m.DownloadAudit.objects.count() == 0
    html = operator.get(reverse("admin:forms_engine_attachment_changelist")).content.decode()
    assert "formaction" not in html


def test_a_file_not_scanned_is_handed_out_and_the_list_says_so(operator, filed):
    filed.status = A.NOT_SCANNED
    filed.save(update_fields=["status"])
    assert download(operator, filed).status_code == 302
    html = operator.get(reverse("admin:forms_engine_attachment_changelist")).content.decode()
    assert 'formmethod="post"' in html and NAME in html


def test_the_submission_page_lists_its_files_with_a_download_button(operator, filed):
    url = reverse("admin:forms_engine_submission_change", args=[filed.submission.pk])
    html = operator.get(url).content.decode()
    download_url = reverse("admin:forms_engine_attachment_download", args=[filed.pk])
    assert f'formaction="{download_url}"' in html
    assert NAME in html


def test_a_download_needs_a_post_so_no_link_from_elsewhere_counts_one(operator, filed):
    url = reverse("admin:forms_engine_attachment_download", args=[filed.pk])
    assert operator.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.cookies.update(operator.cookies)
    assert strict.post(url).status_code == 403  # no CSRF token: a forged form
    assert m.DownloadAudit.objects.count() == 0


def test_only_superusers_download(filed, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="pw-123456!", is_staff=True)
    c = login_verified(Client(), staff)
    assert download(c, filed).status_code == 403
    assert download(Client(), filed).status_code == 302  # to the admin's sign-in
    assert m.DownloadAudit.objects.count() == 0


def test_files_of_drafts_in_progress_are_not_the_staffs(operator, filed):
    filed.submission = None
    filed.save(update_fields=["submission"])
    assert download(operator, filed).status_code == 404
    html = operator.get(reverse("admin:forms_engine_attachment_changelist")).content.decode()
    assert NAME not in html


def test_a_file_is_saved_under_the_extension_of_what_it_is():
    a = m.Attachment(original_name="写真.html", kind="jpeg")
    assert services.attachment_download_name(a) == "写真.html.jpg"
    assert services.attachment_download_name(m.Attachment(original_name="a.JPEG", kind="jpeg")) == (
        "a.JPEG"
    )
    assert services.attachment_download_name(m.Attachment(original_name="届出", kind="pdf")) == (
        "届出.pdf"
    )


@pytest.mark.s3
def test_a_presigned_download_from_s3_carries_the_japanese_name(operator, filed, s3_settings):
    s3_settings.STAFF_DOWNLOAD_URL_SECONDS = 45
    store = storage.object_store()
    content = pdf_bytes() + b"%" + "申請".encode() + b"\n"
    store.upload_stream(filed.storage_key, io.BytesIO(content), "application/pdf")
    m.Attachment.objects.filter(pk=filed.pk).update(size=len(content))

    response = download(operator, filed)

    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(s3_settings.AWS_S3_ENDPOINT_URL)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["45"]
    answer = http("GET", url)
    assert answer.status == 200
    assert answer.body == content
    disposition = answer.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + urllib.parse.quote(NAME, safe="") in disposition
    assert 'filename="' in disposition  # an ASCII fallback for old clients
    assert m.DownloadAudit.objects.count() == 1
    store.delete(filed.storage_key)


def test_residents_see_the_names_of_their_own_files_only(loaded, filed):
    other = Client()
    start = reverse("procedure_start", args=list(DOG))
    confirm = walk_to_confirm(other, start, with_file("わたしの書類.pdf"))
    page = other.get(confirm).content.decode()
    assert "わたしの書類.pdf" in page and NAME not in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        done_url = other.post(confirm)["Location"]
    done = other.get(done_url).content.decode()
    submission = m.Submission.objects.exclude(pk=filed.submission_id).get()
    status = other.post(
        reverse("status"),
        {"number": submission.number, "code": services.status_code_for(submission.number)},
    ).content.decode()
    assert submission.number in status
    for html in (done, status):
        assert NAME not in html
    # Removing a file of another filing by its id removes nothing.
    services.attachment_remove(submission.draft, str(filed.pk))
    assert m.Attachment.objects.filter(pk=filed.pk).exists()
