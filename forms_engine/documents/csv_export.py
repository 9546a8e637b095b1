"""A list of submissions as a CSV file, produced piece by piece: rows are read from the
database in chunks (a server-side cursor on PostgreSQL) and encoded as they go, so an
export of a million rows holds one chunk in memory, never the list.

Columns (docs/exports.md): receipt number, procedure, version, status, filed at, decided
at and payment state (each when the model has that field), fee, then the answers
flattened by forms_engine.documents.flatten, each row by its own version's columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from forms_engine import models as m
from forms_engine.services import procedure_version_get, version_spec

from .encodings import Encoder, csv_encoder
from .flatten import Layout, layout_for

CHUNK_ROWS = 500
# Encoded output is handed on once this much text has gathered (and at the end).
FLUSH_CHARS = 64 * 1024

# A cell starting with one of these is a formula to a spreadsheet ("CSV injection"): such
# cells get a leading apostrophe, which Excel and LibreOffice show as text. Numbers (the
# `number` field type, fee) are written as they are.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _local(value: Any) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def _has_field(name: str) -> bool:
    try:
        m.Submission._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _choice_label(name: str) -> Callable[[Any], str]:
    choices = dict(getattr(m.Submission._meta.get_field(name), "choices", None) or [])

    def label(value: Any) -> str:
        return "" if value in (None, "") else str(choices.get(value, value))

    return label


@dataclass
class CsvExport:
    """Iterate for the bytes of the file; `rows` and `replaced` (characters the encoding
    could not hold, see forms_engine.documents.encodings) are final once it is exhausted.
    `on_done(export)` runs then, also when the reader stops early (a closed download)."""

    queryset: QuerySet[m.Submission]
    encoding: str = "utf-8"
    lang: str = "ja"
    chunk_rows: int = CHUNK_ROWS
    on_done: Callable[[CsvExport], None] | None = None
    rows: int = 0
    finished: bool = False
    encoder: Encoder = field(init=False)

    def __post_init__(self) -> None:
        self.encoder = csv_encoder(self.encoding)

    @property
    def replaced(self) -> int:
        return self.encoder.replaced

    def layout(self) -> Layout:
        ids = self.queryset.order_by().values_list("procedure_version_id", flat=True).distinct()
        versions = [procedure_version_get(pk) for pk in ids]
        versions.sort(key=lambda v: (v.procedure_id, -v.number))
        return layout_for(((v.pk, v.procedure.slug, version_spec(v)) for v in versions), self.lang)

    def __iter__(self) -> Iterator[bytes]:
        try:
            # Read after the view has returned: the language is set here, not taken from
            # whatever the thread has active by then.
            with translation.override(self.lang):
                yield from self._produce()
            self.finished = True
        finally:
            if self.on_done is not None:
                self.on_done(self)

    def _produce(self) -> Iterator[bytes]:
        layout = self.layout()
        fixed: list[tuple[str, str, Callable[[dict[str, Any]], str]]] = [
            ("number", _("Receipt number"), lambda r: defuse(r["number"])),
            ("procedure_version_id", _("Procedure"), self._procedure_title),
            ("procedure_version_id", _("Version"), self._version_number),
            ("status", _("Status"), self._status_label),
            ("submitted_at", _("Filed at"), lambda r: _local(r["submitted_at"])),
        ]
        if _has_field("decided_at"):
            fixed.append(("decided_at", _("Decided at"), lambda r: _local(r["decided_at"])))
        if _has_field("payment_status"):
            payment = _choice_label("payment_status")
            fixed.append(("payment_status", _("Payment"), lambda r: payment(r["payment_status"])))
        fixed.append(("fee_total", _("Fee (yen)"), lambda r: str(r["fee_total"])))
        names = list(dict.fromkeys(name for name, _label, _read in fixed))

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([label for _name, label, _read in fixed] + list(layout.headers))
        first = True
        rows = self.queryset.values(*names, "answers").iterator(chunk_size=self.chunk_rows)
        for row in rows:
            answers = row["answers"] or {}
            cells = layout.cells(row["procedure_version_id"], answers)
            writer.writerow(
                [read(row) for _name, _label, read in fixed]
                + [cell if numeric else defuse(cell) for cell, numeric in cells]
            )
            self.rows += 1
            if buffer.tell() >= FLUSH_CHARS:
                yield self._take(buffer, first)
                first = False
        yield self._take(buffer, first)

    def _take(self, buffer: io.StringIO, first: bool) -> bytes:
        data = self.encoder.encode(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
        return (self.encoder.bom + data) if first else data

    def _procedure_title(self, row: dict[str, Any]) -> str:
        version = procedure_version_get(row["procedure_version_id"])
        return defuse(version.display_title)

    def _version_number(self, row: dict[str, Any]) -> str:
        return str(procedure_version_get(row["procedure_version_id"]).number)

    def _status_label(self, row: dict[str, Any]) -> str:
        status = row["status"]
        if status in m.Submission.Status.values:
            return str(m.Submission.Status(status).label)
        return str(status)
