"""Without JavaScript (and in the embedded default) a plain file input still works: the
server streams the posted file to storage in chunks, never the whole file in memory, and
stops at max_size. Against SeaweedFS over HTTP, and local files."""

from __future__ import annotations

import os
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services, storage
from tests.factories import pdf_bytes

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def pdf_of(size: int) -> bytes:
    head = pdf_bytes()
    return head + os.urandom(size - len(head))


def ledger_page(client) -> str:
    return client.post(reverse("procedure_start", args=["upload-town", "ledger"]))["Location"]


@pytest.fixture
def peak_while_storing(monkeypatch):
    """The most memory Python held while the server stored posted files (the request's own
    body, built by the test client, is not counted)."""
    peaks: list[int] = []
    store = services.attachment_store

    def measured(*args, **kwargs):
        tracemalloc.start()
        try:
            return store(*args, **kwargs)
        finally:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

    monkeypatch.setattr(services, "attachment_store", measured)
    return peaks


@pytest.mark.s3
def test_a_posted_file_goes_to_s3_in_parts_without_being_held_in_memory(
    s3_settings, client, upload_town, peak_while_storing, settings, tmp_path
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    data = pdf_of(96 * MiB)
    url = ledger_page(client)
    response = client.post(
        url,
        {"f-ledger": SimpleUploadedFile("台帳.pdf", data, "application/pdf"), "f-mail": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    attachment = m.Attachment.objects.get()
    assert attachment.size == len(data)
    assert attachment.status == m.Attachment.Status.QUARANTINED
    store = storage.object_store()
    head = store.client.head_object(Bucket=store.bucket, Key=attachment.storage_key)
    # A multipart object: its ETag ends in the number of parts (12 of 8 MiB).
    assert head["ETag"].strip('"').endswith("-12")
    assert head["ContentLength"] == len(data)
    assert store.read_range(attachment.storage_key, len(data) - 100, 100) == data[-100:]
    assert peak_while_storing and max(peak_while_storing) < len(data) // 2


@pytest.mark.s3
def test_a_posted_file_over_max_size_never_reaches_s3(s3_settings, client, upload_town):
    store = storage.object_store()

    def stored() -> set[str]:
        pages = store.client.get_paginator("list_objects_v2").paginate(
            Bucket=store.bucket, Prefix="quarantine/"
        )
        return {o["Key"] for page in pages for o in page.get("Contents", [])}

    before = stored()
    url = ledger_page(client)
    response = client.post(
        url,
        {"f-ledger": SimpleUploadedFile("big.pdf", pdf_of(100 * MiB + 1), "application/pdf")},
    )
    assert response.status_code == 200
    assert "100MB" in response.content.decode()
    assert not m.Attachment.objects.exists()
    assert stored() == before


def test_local_files_take_the_form_post_and_name_no_upload_endpoint(
    client, upload_town, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    url = client.post(reverse("procedure_start", args=["upload-town", "business-support"]))[
        "Location"
    ]
    page = client.get(url)
    assert "data-upload-url" not in page.content.decode()
    assert "connect-src 'self';" in page["Content-Security-Policy"]
    draft_id = url.split("/")[2]
    response = client.post(
        reverse("upload_begin", args=[draft_id]),
        {"input": "f-ledger", "page": "0.docs", "name": "a.pdf", "size": 10},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert "error" in response.json()


@pytest.mark.s3
def test_the_csp_lets_the_page_send_to_the_store_and_nowhere_else(s3_settings, client, upload_town):
    url = client.post(reverse("procedure_start", args=["upload-town", "business-support"]))[
        "Location"
    ]
    csp = client.get(url)["Content-Security-Policy"]
    endpoint = s3_settings.AWS_S3_ENDPOINT_URL
    assert f"connect-src 'self' {endpoint};" in csp


@pytest.mark.s3
def test_without_direct_upload_the_store_still_takes_the_form_post(
    s3_settings, client, upload_town
):
    s3_settings.DIRECT_UPLOAD = False
    url = client.post(reverse("procedure_start", args=["upload-town", "business-support"]))[
        "Location"
    ]
    page = client.get(url)
    assert "data-upload-url" not in page.content.decode()
    assert "connect-src 'self';" in page["Content-Security-Policy"]
