"""What a file holds besides what it claims: programs, and polyglots (one file that is two
kinds at once, so that a viewer or a browser may take it for the other)."""

from __future__ import annotations

# Magic numbers of programs: Windows (MZ, PE inside), Linux (ELF), macOS (Mach-O, fat
# binaries; also Java classes), Android (dex) and Windows shortcuts, which run commands.
_PROGRAM_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"dex\n",
    b"L\x00\x00\x00\x01\x14\x02\x00",
)
# A script that says which interpreter runs it.
_SCRIPT_MAGIC = (b"#!/", b"#! /")

# What makes a browser (or a careless viewer) run a file as a web page. Lower case: the
# file is compared lowered. None of them occurs in PDF syntax, image metadata (XMP is
# `<x:xmpmeta>`, `<rdf:...>`) or box names (`<meta` is left out: a HEIC box of 60 bytes
# reads "\0\0\0<meta").
HTML_MARKERS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<svg",
    b"<object",
    b"<embed",
)
# PDF readers take a file for a PDF when "%PDF-" is within its first 1024 bytes.
PDF_SIGNATURE_WINDOW = 1024
_PDF_SIGNATURE = b"%PDF-"
# A zip is read from its end record, however much comes before it.
_ZIP_END = b"PK\x05\x06"
_ZIP_KINDS = frozenset({"zip", "docx", "xlsx"})


def is_program(head: bytes) -> bool:
    """Whether `head` starts a program. Only asked of files that are no known kind (MZ
    could start a text file) and of text files (a script)."""
    return head.startswith(_PROGRAM_MAGIC) or head.startswith(_SCRIPT_MAGIC)


def is_script(head: bytes) -> bool:
    return head.startswith(_SCRIPT_MAGIC)


def has_html(*parts: bytes) -> bool:
    for part in parts:
        lowered = part.lower()
        if any(marker in lowered for marker in HTML_MARKERS):
            return True
    return False


def hidden_kind(kind: str, head: bytes, tail: bytes) -> str | None:
    """Another kind of file carried inside one of `kind`: a PDF signature near the start of
    a file that is not a PDF, or a zip's end record at the end of one that is not a zip
    (a zip appended to a PDF or a JPEG opens as the zip)."""
    # A zip of PDFs stores its first PDF near the start, and is still only a zip to
    # whatever opens it as one: archives are left out of this test.
    if kind != "pdf" and kind not in _ZIP_KINDS and _PDF_SIGNATURE in head[:PDF_SIGNATURE_WINDOW]:
        return "pdf"
    if kind not in _ZIP_KINDS and _ZIP_END in tail:
        return "zip"
    return None
