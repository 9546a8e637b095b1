"""The columns of a CSV file: its header, and the cells of one submission.

The header comes from the entry's `columns` as the procedure's current version reads them;
each submission's cells come from its own answers (keyed by field id, whatever version it
was filed under). The rule, in docs/csv-export.md:

- well-known columns: `receipt_number`, `submitted_at` (ISO 8601 in Asia/Tokyo, seconds),
  `status`, `procedure` (its slug), `version` (the number of the version it was filed
  under), `department` (its slug);
- a compound field (name, address, bank_account) is one column per part, named
  `<field>.<part>` (`name.family`, `name.given`, `name.kana_family`, `name.kana_given`);
- a list or nested answer (checkboxes, file, group) is one cell holding the answer as
  compact JSON (option values; files as {id, name, size, content_type});
- yes/no and consent are `1` or `0`; numbers in plain decimal; dates `YYYY-MM-DD`; a choice
  is its option value; an unanswered or hidden field is an empty cell;
- text that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab
  or a carriage return) gets a leading `'`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from forms_engine.fields.registry import FIELD_TYPE_CLASSES
from forms_engine.procedure_format.model import ProcedureSpec

META_COLUMNS: Final = (
    "receipt_number",
    "submitted_at",
    "status",
    "procedure",
    "version",
    "department",
)
TOKYO: Final = ZoneInfo("Asia/Tokyo")
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    """What one row is made of (read in bulk from the database, see `runs`)."""

    number: str
    submitted_at: datetime
    status: str
    procedure: str
    version: int
    department: str
    answers: Mapping[str, Any]


Cell = Callable[[SubmissionRow], str]


def guarded(text: str) -> str:
    """Text as written, with a leading ' when a spreadsheet would run it as a formula."""
    if text and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def value_cell(value: Any) -> str:
    """One answer (or part of one) as a cell, by the type of its stored value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return guarded(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def _meta_cell(name: str) -> Cell:
    if name == "receipt_number":
        return lambda row: row.number
    if name == "submitted_at":
        return lambda row: row.submitted_at.astimezone(TOKYO).isoformat(timespec="seconds")
    if name == "status":
        return lambda row: row.status
    if name == "procedure":
        return lambda row: row.procedure
    if name == "version":
        return lambda row: str(row.version)
    if name == "department":
        return lambda row: row.department
    raise ValueError(f"unknown CSV column {name!r}")  # pragma: no cover - checked at load


def _field_cell(field_id: str) -> Cell:
    return lambda row: value_cell(row.answers.get(field_id))


def _part_cell(field_id: str, part: str, first: bool) -> Cell:
    def cell(row: SubmissionRow) -> str:
        value = row.answers.get(field_id)
        if isinstance(value, dict):
            return value_cell(value.get(part))
        # Filed under a version where this field was not compound: the whole answer goes
        # in the first part's column, nothing is dropped.
        return value_cell(value) if first else ""

    return cell


@dataclass(frozen=True)
class ColumnPlan:
    header: tuple[str, ...]
    cells: tuple[Cell, ...]

    def row(self, row: SubmissionRow) -> list[str]:
        return [cell(row) for cell in self.cells]


def column_plan(columns: Sequence[str], spec: ProcedureSpec) -> ColumnPlan:
    """The header and cell makers of `columns` (as checked by the loader) for a procedure
    whose current version is `spec`."""
    fields = {f.id: f for f in spec.iter_fields(include_group_children=False)}
    header: list[str] = []
    cells: list[Cell] = []
    for name in columns:
        if name in META_COLUMNS:
            header.append(name)
            cells.append(_meta_cell(name))
            continue
        spec_field = fields.get(name)
        field_class = FIELD_TYPE_CLASSES.get(spec_field.type) if spec_field else None
        parts: tuple[str, ...] = tuple(getattr(field_class, "parts", ()) or ())
        if parts:
            for index, part in enumerate(parts):
                header.append(f"{name}.{part}")
                cells.append(_part_cell(name, part, index == 0))
        else:
            header.append(name)
            cells.append(_field_cell(name))
    return ColumnPlan(tuple(header), tuple(cells))
