"""The manifest written beside each CSV file, last: a consumer trusts a data file only once
its manifest is there and the file's SHA-256 and size match it.

Everything in it follows from the run (its deliveries and window), so running the same run
again writes the same manifest, byte for byte.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .encoding import GETA
from .writer import WrittenFile

MANIFEST_FORMAT = "denshi-csv-manifest/1"
MANIFEST_SUFFIX = ".manifest.json"


def manifest_name(file_name: str) -> str:
    return file_name + MANIFEST_SUFFIX


def manifest_bytes(
    *,
    file_name: str,
    written: WrittenFile,
    organization: str,
    procedure: str,
    integration: str,
    run: int,
    window_start: datetime | None,
    window_end: datetime,
) -> bytes:
    document: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "file": file_name,
        "rows": written.rows,
        "bytes": written.size,
        "sha256": written.sha256,
        "encoding": written.encoding,
        "replaced_characters": written.replaced,
        "replacement_character": GETA if written.encoding == "cp932" else None,
        "columns": list(written.header),
        "organization": organization,
        "procedure": procedure,
        "integration": integration,
        "run": run,
        "window": {
            "start": window_start.isoformat() if window_start else None,
            "end": window_end.isoformat(),
        },
    }
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
