"""A seekable read-only file over another, reading it in cached blocks.

The file being checked may be an upload on local disk or an object in S3 read by ranged
GETs (`ObjectStore.ranged_file`): every read of the underlying file may be a request.
The checks read the head, the tail, an archive's directory and a few image headers,
often the same bytes twice; here each block is fetched once, contiguous missing blocks in
one read, and no more than a fixed number of bytes in all.
"""

from __future__ import annotations

import io
from typing import Any

from forms_engine.archives import ReadableFile

BLOCK_SIZE = 64 * 1024


class ReadBudgetSpent(Exception):
    """The checks asked for more bytes than they may read of one file."""


class BlockReader(io.RawIOBase):
    def __init__(self, raw: ReadableFile, size: int, *, budget: int):
        self._raw = raw
        self._size = size
        self._budget = budget
        self._blocks: dict[int, bytes] = {}
        self._position = 0
        self.bytes_fetched = 0

    # io protocol --------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._position
        data = self.read_at(self._position, size)
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    # ---------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset` (fewer at the end of the file)."""
        end = min(self._size, offset + max(0, length))
        if offset >= end:
            return b""
        first, last = offset // BLOCK_SIZE, (end - 1) // BLOCK_SIZE
        self._fetch(first, last)
        data = b"".join(self._blocks.get(i, b"") for i in range(first, last + 1))
        start = offset - first * BLOCK_SIZE
        return data[start : start + end - offset]

    def _fetch(self, first: int, last: int) -> None:
        block = first
        while block <= last:
            if block in self._blocks:
                block += 1
                continue
            run_end = block
            while run_end + 1 <= last and run_end + 1 not in self._blocks:
                run_end += 1
            start = block * BLOCK_SIZE
            length = min(self._size, (run_end + 1) * BLOCK_SIZE) - start
            if self.bytes_fetched + length > self._budget:
                raise ReadBudgetSpent
            self._raw.seek(start)
            data = _read_fully(self._raw, length)
            self.bytes_fetched += length
            if len(data) != length:
                # The file is shorter than its stated size: what is there is all there is.
                self._size = start + len(data)
            for i in range(block, run_end + 1):
                piece = data[(i - block) * BLOCK_SIZE : (i - block + 1) * BLOCK_SIZE]
                self._blocks[i] = piece
            block = run_end + 1


def _read_fully(raw: ReadableFile, length: int) -> bytes:
    parts: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = raw.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)
