"""The one entry point: `inspect(reader, name, size, accept) -> kind`, or FileRefused.

Used for every upload, whatever brought it: a form post (the file on local disk) or a
direct upload completed in S3 (read through ranged GETs). It reads a bounded number of
bytes however large the file: the head and the tail, an archive's directory, an image's
headers. The type is told by the content (the name only tells csv from txt).
"""

from __future__ import annotations

from collections.abc import Iterable

from forms_engine import archives
from forms_engine.normalize import file_matches_accept, sniff_file_kind

from . import content, images, refusals
from .refusals import FileRefused
from .source import BlockReader, ReadBudgetSpent

HEAD_BYTES = 64 * 1024
# A zip's end record with the longest comment it may carry.
TAIL_BYTES = 22 + 0xFFFF
# Pictures above this are refused from their headers (a 48 MP phone photo passes).
MAX_PIXELS = 100_000_000
# A HEIC counts each picture twice (the grid and its tiles), plus a thumbnail.
MAX_PIXELS_ALL_ITEMS = 2 * MAX_PIXELS + 10_000_000
# Head, tail, an archive directory at its largest, image headers: never more than this.
READ_BUDGET = 16 * 1024 * 1024


def inspect(
    reader: archives.ReadableFile, name: str, size: int, accept: Iterable[str] | None = None
) -> str:
    """The kind of the file (one of FILE_KINDS) that `reader` (seekable, read-only, `size`
    bytes) holds, if it may be attached to a field accepting `accept` (empty: any kind);
    FileRefused with a message for the resident otherwise."""
    accept = tuple(accept or ())
    if size <= 0:
        raise refusals.empty(name, accept)
    src = BlockReader(reader, size, budget=READ_BUDGET)
    try:
        return _inspect(src, name, accept)
    except ReadBudgetSpent:
        raise refusals.unreadable(name) from None


def _inspect(src: BlockReader, name: str, accept: tuple[str, ...]) -> str:
    head = src.read_at(0, HEAD_BYTES)
    zip_names = None
    if head.startswith(b"PK"):
        try:
            zip_names = archives.member_names(src)
        except archives.ArchiveRefused as refused:
            raise refusals.archive(
                name,
                refused.reason,
                max_entries=archives.MAX_ENTRIES,
                max_expanded=archives.MAX_EXPANDED_BYTES,
            ) from None
    kind = sniff_file_kind(head, name, zip_names)
    if kind is None:
        if content.is_program(head):
            raise refusals.executable(name, accept)
        raise refusals.unknown_type(name, accept)
    if kind in ("txt", "csv") and content.is_script(head):
        raise refusals.executable(name, accept)
    if not file_matches_accept(kind, accept):
        raise refusals.other_type(name, kind, accept)

    tail = src.read_at(max(0, src.size - TAIL_BYTES), TAIL_BYTES)
    if content.has_html(head, tail):
        raise refusals.polyglot_html(name, kind, accept)
    other = content.hidden_kind(kind, head, tail)
    if other:
        raise refusals.polyglot_hidden(name, kind, other, accept)

    try:
        sizes = images.dimensions(kind, src)
    except images.ImageUnreadable:
        raise refusals.image_unreadable(name, kind) from None
    if sizes:
        largest = max(w * h for w, h in sizes)
        total = sum(w * h for w, h in sizes)
        if largest > MAX_PIXELS:
            raise refusals.image_too_large(name, largest, MAX_PIXELS)
        if total > MAX_PIXELS_ALL_ITEMS:
            raise refusals.image_too_large(name, total, MAX_PIXELS)
    return kind


__all__ = ["FileRefused", "inspect"]
