"""Direct upload against a real S3-compatible server (SeaweedFS over HTTP): the browser's
side is played with plain HTTP requests to the presigned URLs, as a browser sends them."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import zipfile

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from forms_engine import models as m
from forms_engine import storage
from tests.factories import pdf_bytes, png_bytes

from .conftest import PAGE_KEY, Filing, start_filing
from .helpers import http, put_part

pytestmark = [pytest.mark.s3, pytest.mark.django_db]

MiB = 1024 * 1024
PART = storage.PART_SIZE


@pytest.fixture
def s3(s3_settings):
    return storage.object_store()


def pdf_of(size: int) -> bytes:
    head = pdf_bytes()
    return head + os.urandom(size - len(head))


def upload_whole(filing, name: str, data: bytes, input: str = "f-ledger", type="application/pdf"):
    """Begin, PUT every part to its presigned URL, complete: what the uploader does."""
    begun = filing.begin(name, len(data), input=input, type=type)
    assert begun.status_code == 201, begun.content
    body = begun.json()
    assert body["partSize"] == PART
    count = max(1, -(-len(data) // PART))
    urls = filing.sign(body["id"], list(range(1, count + 1)))
    parts = [
        {"PartNumber": n, "ETag": put_part(urls[n], data[(n - 1) * PART : n * PART])}
        for n in range(1, count + 1)
    ]
    return body["id"], filing.complete(body["id"], parts)


def md5_in_store(s3, key: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in s3.open_stream(key):
        digest.update(chunk)
    return digest.hexdigest()


# --- the whole path -------------------------------------------------------------------------


def test_a_file_uploads_through_presigned_parts_and_joins_the_page(s3, filing):
    data = pdf_of(2 * PART + 12345)
    attachment_id, done = upload_whole(filing, "決算書 2026.pdf", data)
    assert done.status_code == 200, done.content
    assert done.json() == {
        "id": attachment_id,
        "name": "決算書 2026.pdf",
        "size": len(data),
        "status": "quarantined",
        "statusText": str(m.Attachment.Status.QUARANTINED.label),
    }
    attachment = m.Attachment.objects.get(pk=attachment_id)
    assert attachment.storage_key.startswith("quarantine/")
    assert attachment_id not in attachment.storage_key and "決算書" not in attachment.storage_key
    assert attachment.kind == "pdf" and attachment.upload_id == ""
    assert (
        md5_in_store(s3, attachment.storage_key)
        == hashlib.md5(data, usedforsecurity=False).hexdigest()
    )
    # It is on the page as a file posted with the form would be, and Next keeps it.
    page = filing.client.get(filing.page_url).content.decode()
    assert "決算書 2026.pdf" in page
    response = filing.client.post(filing.page_url, {"_action": "next", "f-members-count": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    answers = filing.refresh().answers["0"]
    assert [f["id"] for f in answers["ledger"]] == [attachment_id]


def test_completing_again_answers_as_the_first_completion_did(s3, filing):
    # The answer to the first completion was lost (the phone's connection dropped): the
    # uploader asks again, and must not be told its attached file was refused.
    data = pdf_of(PART + 10)
    attachment_id, done = upload_whole(filing, "ledger.pdf", data)
    assert done.status_code == 200, done.content
    again = filing.complete(attachment_id, [{"PartNumber": 1, "ETag": "whatever"}])
    assert again.status_code == 200, again.content
    assert again.json() == done.json()
    answers = filing.refresh().pending
    assert attachment_id in json.dumps(answers)


def test_the_file_input_names_its_upload_endpoint_and_page(s3_settings, filing):
    page = filing.client.get(filing.page_url).content.decode()
    assert f'data-upload-url="{filing.uploads_url}"' in page
    assert f'data-page="{PAGE_KEY}"' in page


def test_a_group_entry_gets_its_own_file(s3, filing):
    attachment_id, done = upload_whole(
        filing, "member.pdf", pdf_of(1000), input="f-members-1-member_doc"
    )
    assert done.status_code == 200, done.content
    entries = filing.refresh().pending[PAGE_KEY]["members"]
    assert len(entries) == 2
    assert [f["id"] for f in entries[1]["member_doc"]["kept"]] == [attachment_id]


def test_an_upload_resumes_after_a_dropped_part(s3, filing):
    data = pdf_of(2 * PART + 999)
    body = filing.begin("ledger.pdf", len(data), type="application/pdf").json()
    urls = filing.sign(body["id"], [1, 2, 3])
    etags = {1: put_part(urls[1], data[:PART]), 3: put_part(urls[3], data[2 * PART :])}
    # Part 2 never arrived (the connection dropped). The uploader asks what the store holds.
    listed = filing.parts(body["id"])
    assert listed.status_code == 200
    assert [(p["PartNumber"], p["Size"]) for p in listed.json()["parts"]] == [
        (1, PART),
        (3, 999),
    ]
    # It sends only the missing part, with a fresh URL, and completes.
    etags[2] = put_part(filing.sign(body["id"], [2])[2], data[PART : 2 * PART])
    done = filing.complete(body["id"], [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)])
    assert done.status_code == 200, done.content
    key = m.Attachment.objects.get(pk=body["id"]).storage_key
    assert md5_in_store(s3, key) == hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_a_docx_is_told_by_its_members_read_in_ranges_from_the_store(s3, filing):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    attachment_id, done = upload_whole(filing, "計画書.docx", buf.getvalue(), type="")
    assert done.status_code == 200, done.content
    assert m.Attachment.objects.get(pk=attachment_id).kind == "docx"


# --- the store refuses what was not signed ----------------------------------------------------


def test_a_part_url_with_a_changed_signature_is_refused_by_the_storage(s3, filing):
    body = filing.begin("a.pdf", 1000).json()
    url = filing.sign(body["id"], [1])[1]
    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert http("PUT", url.replace(signature, forged), pdf_of(1000)).status == 403
    assert http("PUT", url, pdf_of(1000)).status == 200  # the real one works


def test_a_part_url_for_another_key_is_refused_by_the_storage(s3, filing):
    first = filing.begin("a.pdf", 1000).json()
    second = filing.begin("b.pdf", 1000).json()
    url = filing.sign(first["id"], [1])[1]
    other = url.replace(first["key"], second["key"]).replace(first["uploadId"], second["uploadId"])
    assert other != url
    assert http("PUT", other, pdf_of(1000)).status == 403
    assert filing.parts(second["id"]).json()["parts"] == []


def test_a_part_url_past_its_expiry_is_refused_by_the_storage(s3, filing, settings):
    settings.DIRECT_UPLOAD_PART_URL_SECONDS = 1
    body = filing.begin("a.pdf", 1000).json()
    url = filing.sign(body["id"], [1])[1]
    time.sleep(2.5)  # past the URL's one second (S3 counts whole seconds)
    assert http("PUT", url, pdf_of(1000)).status == 403


def test_a_part_body_other_than_its_declared_length_is_refused_by_the_storage(s3, filing):
    body = filing.begin("a.pdf", PART + 100).json()
    urls = filing.sign(body["id"], [1, 2])
    assert http("PUT", urls[2], pdf_of(100) + b"more").status == 403
    assert http("PUT", urls[1], pdf_of(PART + 1)).status == 403
    assert filing.parts(body["id"]).json()["parts"] == []


def test_parts_beyond_the_declared_size_are_not_signed(s3, filing):
    body = filing.begin("a.pdf", PART + 100).json()
    response = filing.post(f"{filing.uploads_url}{body['id']}/parts", {"partNumbers": [1, 2, 3]})
    assert response.status_code == 400
    assert "error" in response.json()


# --- refused at completion, whatever was declared or uploaded --------------------------------


def test_completion_refuses_an_object_larger_than_max_size_and_deletes_it(s3, filing):
    # Declared within the field's 1 MB; what reached the store (sent around the part URLs,
    # with the store's own credentials standing for any way in) is larger.
    body = filing.begin("photo.png", 500_000, input="f-photos", type="image/png").json()
    big = png_bytes() + os.urandom(2 * MiB)
    etag = s3.client.upload_part(
        Bucket=s3.bucket, Key=body["key"], UploadId=body["uploadId"], PartNumber=1, Body=big
    )["ETag"]
    done = filing.complete(body["id"], [{"PartNumber": 1, "ETag": etag}])
    assert done.status_code == 400
    assert "1MB" in done.json()["error"]
    assert not s3.exists(body["key"])
    attachment = m.Attachment.objects.get(pk=body["id"])
    assert attachment.status == m.Attachment.Status.REFUSED
    assert PAGE_KEY not in filing.refresh().pending


def test_completion_refuses_a_pdf_that_is_really_an_executable(s3, filing):
    executable = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(5000)
    attachment_id, done = upload_whole(filing, "申請書.pdf", executable)
    assert done.status_code == 400
    error = done.json()["error"]
    assert "申請書.pdf" in error and "PDF" in error and "DOCX" in error
    attachment = m.Attachment.objects.get(pk=attachment_id)
    assert attachment.status == m.Attachment.Status.REFUSED
    assert not s3.exists(attachment.storage_key)


def test_completion_refuses_a_file_past_the_procedures_total(s3, filing):
    first_id, first = upload_whole(filing, "a.pdf", pdf_of(25 * MiB))
    assert first.status_code == 200, first.content
    # Declared small, so begin lets it through; 18 MB more passes the 40 MB total.
    body = filing.begin("b.pdf", 1000).json()
    data = pdf_of(18 * MiB)
    etags = []
    for n, start in enumerate(range(0, len(data), PART), 1):
        etags.append(
            s3.client.upload_part(
                Bucket=s3.bucket,
                Key=body["key"],
                UploadId=body["uploadId"],
                PartNumber=n,
                Body=data[start : start + PART],
            )["ETag"]
        )
    done = filing.complete(
        body["id"], [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]
    )
    assert done.status_code == 400
    assert "40MB" in done.json()["error"]
    assert not s3.exists(body["key"])


def test_an_archive_bomb_is_refused_at_completion(s3, filing):
    # An end record claiming a million entries: refused from the end of the file alone.
    import struct

    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 50_000_000, 100, 0)
    bomb = b"PK\x03\x04" + os.urandom(5000) + end
    _id, done = upload_whole(filing, "data.zip", bomb, type="application/zip")
    assert done.status_code == 400
    assert "data.zip" in done.json()["error"]


# --- refused before any byte is sent -----------------------------------------------------------


def test_begin_refuses_a_declared_size_over_max_size(s3, filing):
    response = filing.begin("photo.jpg", 2 * MiB, input="f-photos")
    assert response.status_code == 400
    assert "1MB" in response.json()["error"]
    assert not m.Attachment.objects.exists()


def test_begin_refuses_a_name_of_a_type_not_accepted(s3, filing):
    response = filing.begin("setup.exe", 1000)
    assert response.status_code == 400
    assert "PDF" in response.json()["error"]


@pytest.mark.parametrize("name", ["IMG_0001.jfif", "scan"])
def test_begin_leaves_a_name_without_a_known_extension_to_the_content(s3, filing, name):
    # Chrome on Windows names JPEGs .jfif; a file may have no extension at all. The form
    # path accepts both by content, so the direct path must not refuse them by name.
    response = filing.begin(name, 1000, input="f-photos", type="image/jpeg")
    assert response.status_code == 201, response.content


def test_begin_refuses_more_files_than_max_files(s3, filing):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        assert filing.begin(name, 1000, input="f-photos").status_code == 201
    response = filing.begin("d.jpg", 1000, input="f-photos")
    assert response.status_code == 400
    assert "3" in response.json()["error"]


def test_begin_refuses_what_passes_the_procedures_total(s3, filing):
    assert filing.begin("a.pdf", 25 * MiB).status_code == 201
    response = filing.begin("b.pdf", 20 * MiB)
    assert response.status_code == 400
    assert "40MB" in response.json()["error"]


def test_begin_knows_only_file_inputs_of_visible_pages(s3, filing):
    assert filing.begin("a.pdf", 10, input="f-note").status_code == 404
    assert filing.begin("a.pdf", 10, input="f-invented").status_code == 404
    assert filing.begin("a.pdf", 10, input="f-members-2-member_doc").status_code == 404
    assert filing.begin("a.pdf", 10, page="0.last").status_code == 404
    assert filing.begin("a.pdf", 10, page="1.docs").status_code == 404


def test_another_browser_cannot_touch_the_drafts_uploads(s3, filing, upload_town):
    body = filing.begin("a.pdf", 1000).json()
    stranger = start_filing(Client())
    stranger.draft = filing.draft
    assert stranger.begin("b.pdf", 1000).status_code == 404
    assert stranger.parts(body["id"]).status_code == 404
    assert stranger.cancel(body["id"]).status_code == 404
    assert m.Attachment.objects.filter(pk=body["id"]).exists()


def test_the_endpoints_want_the_pages_csrf_token(s3, upload_town):
    client = Client(enforce_csrf_checks=True)
    filing = start_filing_with_token(client)
    assert filing.begin("a.pdf", 1000).status_code == 403
    token = client.cookies["csrftoken"].value
    assert filing.begin("a.pdf", 1000, HTTP_X_CSRFTOKEN=token).status_code == 201


def start_filing_with_token(client) -> Filing:
    start = reverse("procedure_start", args=["upload-town", "business-support"])
    assert client.get(start).status_code == 200
    token = client.cookies["csrftoken"].value
    url = client.post(start, {"csrfmiddlewaretoken": token})["Location"]
    return Filing(client, m.Draft.objects.get(pk=url.split("/")[2]), url)


# --- cancel and remove --------------------------------------------------------------------------


def test_cancel_aborts_an_unfinished_upload(s3, filing):
    body = filing.begin("a.pdf", 1000).json()
    put_part(filing.sign(body["id"], [1])[1], pdf_of(1000))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert filing.cancel(body["id"]).status_code == 204
    assert not m.Attachment.objects.filter(pk=body["id"]).exists()
    with pytest.raises(storage.ObjectMissing):
        s3.multipart_list_parts(body["key"], body["uploadId"])


def test_cancel_removes_a_completed_file_from_the_page_and_the_store(s3, filing):
    attachment_id, done = upload_whole(filing, "a.pdf", pdf_of(1000))
    key = m.Attachment.objects.get(pk=attachment_id).storage_key
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert filing.cancel(attachment_id).status_code == 204
    assert not s3.exists(key)
    assert filing.refresh().pending[PAGE_KEY]["ledger"]["kept"] == []


def test_beginning_uploads_is_rate_limited(s3, filing, rate_limited):
    rate_limited.RATE_LIMITS = {**rate_limited.RATE_LIMITS, "upload": "2/600"}
    assert filing.begin("a.pdf", 1000).status_code == 201
    assert filing.begin("b.pdf", 1000).status_code == 201
    refused = filing.begin("c.pdf", 1000)
    assert refused.status_code == 429
    assert refused["Retry-After"] and "error" in refused.json()


def test_an_upload_left_unfinished_is_aborted_when_the_filing_is_submitted(s3, filing):
    body = filing.begin("a.pdf", 1000).json()
    put_part(filing.sign(body["id"], [1])[1], pdf_of(1000))
    last = filing.client.post(filing.page_url, {"_action": "next", "f-members-count": "1"})
    confirm = filing.client.post(last["Location"], {"_action": "next", "f-mail": "", "f-note": ""})
    assert confirm["Location"].endswith("/confirm/"), confirm.content.decode()[:2000]
    with TestCase.captureOnCommitCallbacks(execute=True):
        done = filing.client.post(confirm["Location"])
    assert done.status_code == 302 and done["Location"].endswith("/done/")
    assert not m.Attachment.objects.filter(pk=body["id"]).exists()
    with pytest.raises(storage.ObjectMissing):
        s3.multipart_list_parts(body["key"], body["uploadId"])


def test_deeply_nested_json_is_refused_as_an_unreadable_request(s3_settings, filing):
    # 200,000 "[" exhaust the JSON parser's stack (RecursionError), which is no server fault.
    response = filing.client.post(
        filing.uploads_url, b"[" * 200_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert "error" in response.json()


def test_the_stored_object_and_its_download_have_the_checked_type_not_the_declared_one(s3, filing):
    # The browser declared text/html for what is a PDF: a staff member's browser must never
    # be handed it as a page of this site's store.
    attachment_id, done = upload_whole(filing, "ledger.pdf", pdf_bytes(), type="text/html")
    assert done.status_code == 200, done.content
    attachment = m.Attachment.objects.get(pk=attachment_id)
    assert attachment.content_type == "application/pdf"
    head = s3.client.head_object(Bucket=s3.bucket, Key=attachment.storage_key)
    assert head["ContentType"] != "text/html"
    url = s3.download_url(
        attachment.storage_key, "ledger.pdf", expires=60, content_type=attachment.content_type
    )
    answer = http("GET", url)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/pdf"
