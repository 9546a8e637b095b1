"""The object store interface against a real S3-compatible server (SeaweedFS) and against
local files: the same calls, the same answers."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
import zipfile
from urllib.parse import unquote

import pytest

from forms_engine import archives, storage
from forms_engine.storage.local import LocalStore

from .helpers import http, put_part

MiB = 1024 * 1024


def _key(prefix: str = "quarantine/") -> str:
    return f"{prefix}{uuid.uuid4().hex}"


@pytest.fixture
def s3(s3_settings):
    store = storage.object_store()
    assert store.supports_direct_upload
    return store


@pytest.fixture
def local(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    store = storage.object_store()
    assert isinstance(store, LocalStore)
    return store


@pytest.fixture(params=["s3", "local"])
def store(request):
    if request.param == "s3":
        request.applymarker(pytest.mark.s3)
    return request.getfixturevalue(request.param)


def _docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_a_streamed_file_reads_back_whole_in_ranges_and_in_chunks(store):
    data = os.urandom(3 * MiB + 123)
    key = _key()
    assert store.upload_stream(key, io.BytesIO(data), "application/pdf") == len(data)
    assert store.exists(key)
    assert store.size(key) == len(data)
    assert store.read_range(key, 10, 20) == data[10:30]
    assert store.read_range(key, len(data) - 5, 100) == data[-5:]
    chunks = list(store.open_stream(key, chunk_size=MiB))
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= MiB
    store.delete(key)
    assert not store.exists(key)


def test_a_zip_in_the_store_is_looked_into_without_downloading_it(store):
    key = _key()
    store.upload_stream(key, io.BytesIO(_docx_bytes()), "application/zip")
    with store.ranged_file(key) as f:
        assert archives.member_names(f) == ["[Content_Types].xml", "word/document.xml"]
    store.delete(key)


def test_a_moved_file_is_under_its_new_key_only(store):
    src, dst = _key(), _key("files/")
    store.upload_stream(src, io.BytesIO(b"%PDF-1.4 moved"), "application/pdf")
    store.move(src, dst)
    assert not store.exists(src)
    assert store.read_range(dst, 0, 100) == b"%PDF-1.4 moved"
    store.delete(dst)


def test_a_missing_object_is_said_missing(store):
    with pytest.raises(storage.ObjectMissing):
        store.size(_key())
    store.delete(_key())  # deleting what is gone is not an error


@pytest.mark.s3
def test_the_store_is_s3_when_a_bucket_is_configured(s3_settings, s3_server):
    from forms_engine.storage.s3 import S3Store

    store = storage.object_store()
    assert isinstance(store, S3Store)
    assert store.bucket == s3_server.bucket


@pytest.mark.s3
def test_a_multipart_upload_through_presigned_part_urls_completes_whole(s3):
    data = os.urandom(5 * MiB + 5 * MiB + 1234)  # two full parts and a short last one
    key = _key()
    upload_id = s3.multipart_create(key, "application/pdf")
    urls = s3.multipart_sign_parts(key, upload_id, [1, 2, 3], expires=300)
    parts = []
    for n, (start, end) in enumerate([(0, 5 * MiB), (5 * MiB, 10 * MiB), (10 * MiB, None)], 1):
        parts.append({"PartNumber": n, "ETag": put_part(urls[n], data[start:end])})
    listed = s3.multipart_list_parts(key, upload_id)
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [
        (1, 5 * MiB),
        (2, 5 * MiB),
        (3, 1234),
    ]
    s3.multipart_complete(key, upload_id, parts)
    assert s3.size(key) == len(data)
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in s3.open_stream(key):
        digest.update(chunk)
    assert digest.hexdigest() == hashlib.md5(data, usedforsecurity=False).hexdigest()
    s3.delete(key)


@pytest.mark.s3
def test_a_download_url_names_the_file_in_japanese_and_ascii(s3):
    key = _key("files/")
    s3.upload_stream(key, io.BytesIO(b"%PDF-1.4 receipt"), "application/pdf")
    answer = http(
        "GET", s3.download_url(key, "申請書 (控え).pdf", expires=60, content_type="application/pdf")
    )
    assert answer.status == 200
    assert answer.body == b"%PDF-1.4 receipt"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "申請書 (控え).pdf"
    s3.delete(key)


@pytest.mark.django_db
def test_a_local_download_url_streams_the_file_with_its_name(local, client):
    key = _key("files/")
    local.upload_stream(key, io.BytesIO(b"%PDF-1.4 local"), "application/pdf")
    url = local.download_url(key, "住民票.pdf", expires=60, content_type="application/pdf")
    assert key not in url and "住民票" not in unquote(url)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 local"
    assert unquote(response["Content-Disposition"].split("''")[1]) == "住民票.pdf"
    assert client.get(url.replace(url.rstrip("/").rsplit("/", 1)[1], "x" * 43)).status_code == 404


def test_local_files_take_no_direct_upload(local):
    assert not local.supports_direct_upload
    with pytest.raises(storage.DirectUploadUnsupported):
        local.multipart_create(_key(), "application/pdf")


def test_content_disposition_keeps_no_quote_or_control_character():
    header = storage.content_disposition('a"b\r\n\\c.pdf')
    fallback = header.split('filename="')[1].split('"')[0]
    assert "\r" not in header and "\n" not in header
    assert '"' not in fallback and "\\" not in fallback
    assert storage.content_disposition("申請書.pdf").startswith('attachment; filename="')
    assert 'filename=".pdf"' not in storage.content_disposition("申請書.pdf")


@pytest.mark.s3
def test_unfinished_multipart_uploads_are_listed_once_old_enough(s3):
    from datetime import timedelta

    key = _key()
    upload_id = s3.multipart_create(key, "application/pdf")
    assert (key, upload_id) in s3.multipart_list_stale(timedelta(0))
    assert (key, upload_id) not in s3.multipart_list_stale(timedelta(days=1))
    s3.multipart_abort(key, upload_id)
    assert (key, upload_id) not in s3.multipart_list_stale(timedelta(0))
    s3.multipart_abort(key, upload_id)  # aborting twice is not an error
