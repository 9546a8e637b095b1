"""The member names of a zip archive (docx and xlsx are zips), read within a budget.

zipfile parses the whole central directory before it answers anything: three uploads
with 500,000 entries each took 13 s and 220 MB before an entry count could refuse them.
Here the end-of-central-directory record (and its zip64 twin) is read first, from the
end of the file: an archive that says it has too many entries, or a directory too large
to read, is refused before any of the directory is read. The directory is then read in
one piece of bounded size and walked entry by entry, stopping at the entry budget (the
record may understate the count) or when the time budget is spent.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from typing import BinaryIO

# A document has a few dozen members; ten thousand is a zip bomb, not a document.
MAX_ENTRIES = 10_000
# Enough for MAX_ENTRIES entries with long names (46 bytes + name per entry).
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
TIME_BUDGET_SECONDS = 0.5

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


class ArchiveRefused(Exception):
    """The archive is damaged, or too large to look into within the budget. `reason`:
    'damaged', 'too_many_entries', 'directory_too_large' or 'too_slow'."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def member_names(
    f: BinaryIO,
    *,
    max_entries: int = MAX_ENTRIES,
    max_directory_bytes: int = MAX_DIRECTORY_BYTES,
    time_budget: float = TIME_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """The names of the members of the zip archive `f` (a seekable binary file), or
    ArchiveRefused. Leaves the file position anywhere: the caller seeks back."""
    deadline = clock() + time_budget
    entries, directory_size, directory_end = _directory_extent(f)
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
    return _walk(directory, max_entries, deadline, clock)


def _directory_extent(f: BinaryIO) -> tuple[int, int, int]:
    """(entry count, central directory size, where the directory ends) from the end
    records, reading only the end of the file."""
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
        return entries, directory_size, end_at
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
    return record[7], record[8], record_at


def _walk(
    directory: bytes, max_entries: int, deadline: float, clock: Callable[[], float]
) -> list[str]:
    names: list[str] = []
    offset = 0
    while offset < len(directory):
        if len(names) >= max_entries:  # the end record understated the count
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
        names.append(
            raw_name.decode("utf-8", "replace") if flags & _UTF8_FLAG else raw_name.decode("cp437")
        )
        offset = start + name_size + extra_size + comment_size
    return names
