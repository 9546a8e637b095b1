"""Files: the sizes of the procedure format ("20MB") and the kind of an uploaded file,
told by its content."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

from forms_engine.procedure_format.model import FILE_KINDS

_SIZE_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_SIZE_RE = re.compile(r"\s*([0-9]+)\s*([KMGT]?B)?\s*", re.IGNORECASE)


def parse_size(s: str | int) -> int:
    """ "20MB", "2GB", "500KB", "10 MB", "1024" or an int -> bytes, binary units
    (1 MB = 1024 * 1024). Units are case-insensitive; decimals, "MiB" and sizes <= 0 raise
    ValueError."""
    if isinstance(s, bool):
        raise ValueError(f"not a size: {s!r}")
    if isinstance(s, int):
        value = s
    elif isinstance(s, str):
        m = _SIZE_RE.fullmatch(s)
        if m is None:
            raise ValueError(f"not a size: {s!r}")
        value = int(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").upper()]
    else:
        raise ValueError(f"not a size: {s!r}")
    if value <= 0:
        raise ValueError(f"a size must be positive: {s!r}")
    return value


def format_size_exact(n: int) -> str:
    """The largest unit that states `n` exactly: 20971520 -> "20MB"."""
    for unit in ("TB", "GB", "MB", "KB"):
        mult = _SIZE_UNITS[unit]
        if n % mult == 0:
            return f"{n // mult}{unit}"
    return f"{n}B"


_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_HEIF_GENERIC_BRANDS = frozenset({b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# C0 controls that never occur in text files; tab, LF, VT, FF, CR and ^Z (DOS end of
# file) do. None of these bytes can be part of a UTF-8 or cp932 multibyte sequence.
_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A), *range(0x1B, 0x20), 0x7F])


def _ftyp_brands(head: bytes) -> set[bytes]:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return set()
    box_end = min(int.from_bytes(head[0:4], "big"), len(head))
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, box_end - 3, 4))
    return brands


def _decodes(head: bytes, encoding: str) -> bool:
    # final=False: `head` may end in the middle of a multibyte character.
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff_file_kind(head: bytes, name: str, zip_names: Iterable[str] | None = None) -> str | None:
    """The kind of a file (one of FILE_KINDS) from its first bytes, or None.

    The content decides; the name only tells csv from txt. For a zip the caller passes
    the member names (`zipfile.ZipFile(f).namelist()`) to recognise docx/xlsx; without
    them a zip is just "zip". PDFs must start with "%PDF-"; empty files are None.
    """
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    brands = _ftyp_brands(head)
    if brands:
        if brands & _HEIC_BRANDS:
            return "heic"
        if head[8:12] in _HEIF_GENERIC_BRANDS and not brands & _AVIF_BRANDS:
            return "heic"
        return None
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        names = set(zip_names or ())
        if "word/vbaProject.bin" in names or "xl/vbaProject.bin" in names:
            return None  # docm/xlsm carry macros: not the docx/xlsx the field asked for
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        return "zip"
    if not head or len(head.translate(None, _BINARY_BYTES)) != len(head):
        return None
    if _decodes(head, "utf-8") or _decodes(head, "cp932"):
        return "csv" if name.lower().endswith(".csv") else "txt"
    return None


def file_matches_accept(kind: str | None, accept: Iterable[str] | None) -> bool:
    """Whether a sniffed kind is allowed by a field's `accept` list (empty: any kind).

    A csv is also a txt (it is plain text), so `accept: [txt]` takes .csv files; the
    reverse does not hold, and a docx/xlsx is not accepted as a "zip".
    """
    if kind is None:
        return False
    allowed = set(accept or ())
    if not allowed:
        return kind in FILE_KINDS
    return kind in allowed or (kind == "csv" and "txt" in allowed)
