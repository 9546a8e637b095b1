"""Uploads through the filing page are checked by content before they are stored: the
polyglots and bombs the old checks let through are refused on the page, in the resident's
language, saying what was wrong and what would be accepted; iPhone photos pass."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from forms_engine import models as m
from tests.factories import pdf_bytes
from tests.filesamples import (
    docx_bytes,
    heic_bytes,
    jpeg_bytes,
    overlapping_zip,
    pdf_with,
    png_claiming,
    program_bytes,
    zip_bytes,
)

from .test_uploads import CERTIFICATE, certificate_page

ACCEPTED_JA = "添付できる種類：PDF, JPEG, PNG, HEIC。"


def post_file(client, name: str, data: bytes):
    url, form = certificate_page(client)
    form[CERTIFICATE] = SimpleUploadedFile(name, data, "application/octet-stream")
    return client.post(url, form)


def refused_on_the_page(response, name: str) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{CERTIFICATE}-error" in html
    assert f"「{name}」" in html
    assert 'value="ポチ"' in html  # what was typed is kept
    assert m.Attachment.objects.count() == 0
    return html


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("申請書.pdf", pdf_with(b"<html><script>alert(document.cookie)</script></html>")),
        ("写真.jpg", jpeg_bytes(comment=b"<html><body><script>alert(1)</script>")),
    ],
    ids=["pdf-with-html", "jpeg-that-is-html"],
)
def test_a_file_that_is_also_a_web_page_is_refused(client, loaded, name, data):
    html = refused_on_the_page(post_file(client, name, data), name)
    assert "ウェブページのコード" in html
    assert ACCEPTED_JA in html


def test_a_zip_appended_to_a_pdf_is_refused(client, loaded):
    data = pdf_bytes() + zip_bytes({"invoice.exe": b"MZ" + b"\x00" * 500})
    html = refused_on_the_page(post_file(client, "scan.pdf", data), "scan.pdf")
    assert "別のファイル（ZIP）" in html
    assert ACCEPTED_JA in html


def test_a_png_claiming_100000_by_100000_pixels_is_refused(client, loaded):
    html = refused_on_the_page(
        post_file(client, "scan.png", png_claiming(100_000, 100_000)), "scan.png"
    )
    assert "10,000メガピクセル" in html
    assert "100メガピクセル（1億画素）まで" in html


def test_a_pdf_that_is_really_a_program_is_refused_as_a_program(client, loaded):
    html = refused_on_the_page(post_file(client, "証明書.pdf", program_bytes()), "証明書.pdf")
    assert "プログラム（実行ファイル）" in html
    assert ACCEPTED_JA in html


def test_a_zip_bomb_is_refused_as_one(client, loaded):
    html = refused_on_the_page(post_file(client, "book.docx", overlapping_zip()), "book.docx")
    assert "ZIP爆弾" in html


def test_a_file_of_another_type_says_what_it_is_and_what_is_accepted(client, loaded):
    html = refused_on_the_page(post_file(client, "scan.pdf", docx_bytes()), "scan.pdf")
    assert "DOCX形式" in html
    assert ACCEPTED_JA in html


def test_the_refusal_is_in_english_for_a_resident_reading_english(client, loaded):
    url, form = certificate_page(client)
    client.cookies["django_language"] = "en"
    form[CERTIFICATE] = SimpleUploadedFile("scan.pdf", pdf_with(b"<script>x</script>"))
    html = client.post(url, form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "web page code" in html
    assert "Accepted: PDF, JPEG, PNG, HEIC." in html


def test_photos_from_an_iphone_are_attached(client, loaded):
    url, form = certificate_page(client)
    form[CERTIFICATE] = [
        SimpleUploadedFile(f"IMG_000{i}.HEIC", heic_bytes(meta_last=i == 2), "image/heic")
        for i in range(3)
    ]
    response = client.post(url, form)
    assert response.status_code == 302
    kinds = sorted(m.Attachment.objects.values_list("kind", flat=True))
    assert kinds == ["heic", "heic", "heic"]
