"""The content checks at the completion of a direct upload, on the object as the store
holds it (ranged reads over HTTP, SeaweedFS): polyglots and bombs are refused and deleted,
the resident is told why (in Japanese, the default) and what would be accepted; an iPhone photo passes."""

from __future__ import annotations

import pytest

from forms_engine import models as m
from forms_engine import storage
from tests.filesamples import heic_bytes, jpeg_bytes, overlapping_zip, pdf_with, png_claiming

from .test_direct_upload import upload_whole

pytestmark = [pytest.mark.s3, pytest.mark.django_db]


@pytest.fixture
def s3(s3_settings):
    return storage.object_store()


@pytest.mark.parametrize(
    ("name", "data", "input", "words"),
    [
        (
            "決算書.pdf",
            pdf_with(b"<html><script>alert(1)</script>"),
            "f-ledger",
            "ウェブページのコード",
        ),
        (
            "photo.jpg",
            jpeg_bytes(comment=b"<script>x</script>"),
            "f-photos",
            "ウェブページのコード",
        ),
        ("scan.png", png_claiming(100_000, 100_000), "f-photos", "メガピクセル"),
        ("台帳.docx", overlapping_zip(), "f-ledger", "ZIP爆弾"),
    ],
    ids=["pdf-with-html", "jpeg-that-is-html", "png-bomb", "docx-zip-bomb"],
)
def test_completion_refuses_polyglots_and_bombs_and_deletes_them(
    s3, filing, name, data, input, words
):
    attachment_id, done = upload_whole(filing, name, data, input=input)
    assert done.status_code == 400
    assert name in done.json()["error"] and words in done.json()["error"]
    attachment = m.Attachment.objects.get(pk=attachment_id)
    assert attachment.status == m.Attachment.Status.REFUSED
    assert not s3.exists(attachment.storage_key)


def test_an_iphone_photo_completes(s3, filing):
    attachment_id, done = upload_whole(
        filing, "IMG_0001.HEIC", heic_bytes(meta_last=True), input="f-photos", type="image/heic"
    )
    assert done.status_code == 200, done.content
    assert m.Attachment.objects.get(pk=attachment_id).kind == "heic"
