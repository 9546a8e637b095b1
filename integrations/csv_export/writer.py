"""Rows streamed into a binary file: RFC 4180 CSV (CRLF line ends, fields quoted only when
they must be), the header first, encoded a block of rows at a time. Memory holds one block,
whatever the number of rows; the SHA-256 and the byte count are taken on the way."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from .columns import ColumnPlan, SubmissionRow
from .encoding import TextEncoder

BLOCK_ROWS = 500


@dataclass(frozen=True)
class WrittenFile:
    rows: int
    size: int
    sha256: str
    encoding: str
    replaced: int
    header: tuple[str, ...]


def csv_write(
    out: BinaryIO, plan: ColumnPlan, rows: Iterable[SubmissionRow], encoding: str
) -> WrittenFile:
    encoder = TextEncoder(encoding)
    digest = hashlib.sha256()
    size = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> None:
        nonlocal size, buffer, writer
        data = encoder.encode(buffer.getvalue())
        out.write(data)
        digest.update(data)
        size += len(data)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")

    writer.writerow(plan.header)
    count = 0
    make_row = plan.row
    for row in rows:
        writer.writerow(make_row(row))
        count += 1
        if count % BLOCK_ROWS == 0:
            flush()
    flush()
    return WrittenFile(
        rows=count,
        size=size,
        sha256=digest.hexdigest(),
        encoding=encoding,
        replaced=encoder.replaced,
        header=plan.header,
    )
