"""The members of a zip archive (docx and xlsx are zips), read within a budget.

zipfile parses the whole central directory before it answers anything: three uploads
with 500,000 entries each took 13 s and 220 MB before an entry count could refuse them.
Here the end-of-central-directory record (and its zip64 twin) is read first, from the
end of the file: an archive that says it has too many entries, or a directory too large
to read, is refused before any of the directory is read. The directory is then read in
one piece of bounded size and walked entry by entry, stopping at the entry budget (the
record may understate the count) or when the time budget is spent.

Zip bombs are told from the directory alone, without inflating anything: members whose
data overlap (one compressed kernel referenced by many entries, the "non-recursive" bomb),
and archives that declare more expanded bytes than any document has or an expansion ratio
no document reaches. What the directory understates, the scanner's own limits bound.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

# A document has a few dozen members; ten thousand is a zip bomb, not a document.
MAX_ENTRIES = 10_000
# Enough for MAX_ENTRIES entries with long names (46 bytes + name per entry).
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
TIME_BUDGET_SECONDS = 0.5
# Expanded, a document of a few hundred MB of photos stays far below this.
MAX_EXPANDED_BYTES = 2 * 1024**3
# Deflate reaches about 1:1000 on zeros; XML and spreadsheets compress 1:5 to 1:50, a
# sheet of repeated blank cells 1:100 or so. Above this ratio (and a size where it matters)
# an archive is built to expand, not to be read.
MAX_RATIO = 200
RATIO_APPLIES_ABOVE = 100 * 1024**2
_LOCAL_HEADER_SIZE = 30
_ZIP64_EXTRA_ID = 0x0001

_END = struct.Struct("<4s4H2LH")  # end of central directory
_END_SIGNATURE = b"PK\x05\x06"
_END_MAX_COMMENT = 0xFFFF
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # central directory file header
_ENTRY_SIGNATURE = b"PK\x01\x02"
_UTF8_FLAG = 0x800


class ReadableFile(Protocol):
    """What is read of an archive: an open file, an upload, or a ranged view of an object."""

    def read(self, size: int = ..., /) -> bytes: ...
    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def tell(self) -> int: ...


class ArchiveRefused(Exception):
    """The archive is damaged, too large to look into within the budget, or a bomb.
    `reason`: 'damaged', 'too_many_entries', 'directory_too_large', 'too_slow',
    'overlapping' (members share their data: a bomb) or 'expands_too_much'."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Member:
    name: str
    compressed_size: int
    size: int  # expanded, as the directory declares it
    offset: int  # of its local header, as the directory declares it
    # The local header's fixed part and name: the least that comes before the data.
    _header_size: int = field(default=_LOCAL_HEADER_SIZE, repr=False, compare=False)


def member_names(f: ReadableFile, **budget: Any) -> list[str]:
    """The names of the members of the zip archive `f` (see `members`)."""
    return [member.name for member in members(f, **budget)]


def members(
    f: ReadableFile,
    *,
    max_entries: int = MAX_ENTRIES,
    max_directory_bytes: int = MAX_DIRECTORY_BYTES,
    time_budget: float = TIME_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    max_expanded_bytes: int = MAX_EXPANDED_BYTES,
    max_ratio: int = MAX_RATIO,
) -> list[Member]:
    """The members of the zip archive `f` (a seekable binary file), or ArchiveRefused.
    Leaves the file position anywhere: the caller seeks back."""
    deadline = clock() + time_budget
    entries, directory_size, directory_end, directory_offset = _directory_extent(f)
    if entries > max_entries:
        raise ArchiveRefused("too_many_entries")
    if directory_size > max_directory_bytes:
        raise ArchiveRefused("directory_too_large")
    if directory_size > directory_end:
        raise ArchiveRefused("damaged")
    f.seek(directory_end - directory_size)
    directory = f.read(directory_size)
    if len(directory) != directory_size:
        raise ArchiveRefused("damaged")
    found = _walk(directory, max_entries, deadline, clock)
    _refuse_bombs(found, directory_offset, max_expanded_bytes, max_ratio)
    return found


def _refuse_bombs(
    found: list[Member], directory_offset: int, max_expanded_bytes: int, max_ratio: int
) -> None:
    """Refuse overlapping members and archives that declare too much expansion. Offsets
    are compared as the directory declares them, so data prepended to an archive (which
    shifts them all) does not matter."""
    by_offset = sorted(found, key=lambda member: member.offset)
    for i, member in enumerate(by_offset):
        # The local header (its fixed part and name at least; its extra field may add
        # more) comes before the data: where this member's data ends at the earliest.
        # Past the next header, or the directory, two members share bytes.
        data_end = member.offset + member._header_size + member.compressed_size
        limit = by_offset[i + 1].offset if i + 1 < len(by_offset) else directory_offset
        if data_end > limit:
            raise ArchiveRefused("overlapping")
    expanded = sum(member.size for member in found)
    compressed = sum(member.compressed_size for member in found)
    if expanded > max_expanded_bytes:
        raise ArchiveRefused("expands_too_much")
    if expanded > RATIO_APPLIES_ABOVE and expanded > max_ratio * max(compressed, 1):
        raise ArchiveRefused("expands_too_much")


def _directory_extent(f: ReadableFile) -> tuple[int, int, int, int]:
    """(entry count, central directory size, where the directory ends, where the
    directory says it starts) from the end records, reading only the end of the file."""
    f.seek(0, 2)
    size = f.tell()
    tail_size = min(size, _END.size + _END_MAX_COMMENT)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    found = tail.rfind(_END_SIGNATURE)
    if found < 0 or found + _END.size > len(tail):
        raise ArchiveRefused("damaged")
    end_at = size - tail_size + found
    fields = _END.unpack_from(tail, found)
    entries, directory_size, directory_offset = fields[4], fields[5], fields[6]
    if entries != 0xFFFF and directory_size != 0xFFFFFFFF and directory_offset != 0xFFFFFFFF:
        return entries, directory_size, end_at, directory_offset
    # zip64: the locator sits right before the end record, the zip64 end record right
    # before the locator (read there, as zipfile does, so data prepended to the archive
    # does not matter).
    locator_at = end_at - _ZIP64_LOCATOR.size
    record_at = locator_at - _ZIP64_END.size
    if record_at < 0:
        raise ArchiveRefused("damaged")
    f.seek(record_at)
    raw = f.read(_ZIP64_END.size + _ZIP64_LOCATOR.size)
    if len(raw) != _ZIP64_END.size + _ZIP64_LOCATOR.size:
        raise ArchiveRefused("damaged")
    record = _ZIP64_END.unpack_from(raw, 0)
    locator = _ZIP64_LOCATOR.unpack_from(raw, _ZIP64_END.size)
    if record[0] != _ZIP64_END_SIGNATURE or locator[0] != _ZIP64_LOCATOR_SIGNATURE:
        raise ArchiveRefused("damaged")
    return record[7], record[8], record_at, record[9]


def _walk(
    directory: bytes, max_entries: int, deadline: float, clock: Callable[[], float]
) -> list[Member]:
    found: list[Member] = []
    offset = 0
    while offset < len(directory):
        if len(found) >= max_entries:  # the end record understated the count
            raise ArchiveRefused("too_many_entries")
        if clock() > deadline:
            raise ArchiveRefused("too_slow")
        if offset + _ENTRY.size > len(directory):
            raise ArchiveRefused("damaged")
        entry = _ENTRY.unpack_from(directory, offset)
        if entry[0] != _ENTRY_SIGNATURE:
            raise ArchiveRefused("damaged")
        flags, name_size, extra_size, comment_size = entry[5], entry[12], entry[13], entry[14]
        start = offset + _ENTRY.size
        raw_name = directory[start : start + name_size]
        extra = directory[start + name_size : start + name_size + extra_size]
        compressed, size, local = _zip64_values(extra, entry[10], entry[11], entry[18])
        found.append(
            Member(
                name=(
                    raw_name.decode("utf-8", "replace")
                    if flags & _UTF8_FLAG
                    else raw_name.decode("cp437")
                ),
                compressed_size=compressed,
                size=size,
                offset=local,
                _header_size=_LOCAL_HEADER_SIZE + name_size,
            )
        )
        offset = start + name_size + extra_size + comment_size
    return found


def _zip64_values(extra: bytes, compressed: int, size: int, offset: int) -> tuple[int, int, int]:
    """The sizes and offset of an entry, those too large for 32 bits read from its zip64
    extra field (in the order the format fixes: size, compressed size, offset)."""
    wanted = [v == 0xFFFFFFFF for v in (size, compressed, offset)]
    if not any(wanted):
        return compressed, size, offset
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, at)
        if tag == _ZIP64_EXTRA_ID:
            body = extra[at + 4 : at + 4 + length]
            values = [size, compressed, offset]
            read = 0
            for i, missing in enumerate(wanted):
                if missing:
                    if read + 8 > len(body):
                        raise ArchiveRefused("damaged")
                    values[i] = struct.unpack_from("<Q", body, read)[0]
                    read += 8
            return values[1], values[0], values[2]
        at += 4 + length
    raise ArchiveRefused("damaged")
