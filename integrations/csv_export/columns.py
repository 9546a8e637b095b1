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
from typing import Any, Final, NamedTuple
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


class SubmissionRow(NamedTuple):
    """What one row is made of (read in bulk from the database, see `runs`). A named
    tuple: a hundred thousand of them are built per run, and a tuple is the cheapest."""

    number: str
    submitted_at: datetime
    status: str
    procedure: str
    version: int
    department: str
    answers: Mapping[str, Any]


_FORMULA_FIRST: Final = frozenset(_FORMULA_STARTS)


def guarded(text: str) -> str:
    """Text as written, with a leading ' when a spreadsheet would run it as a formula."""
    if text[:1] in _FORMULA_FIRST:
        return "'" + text
    return text


def value_cell(value: Any) -> str:
    """One answer (or part of one) as a cell, by the type of its stored value."""
    if type(value) is str:  # the common case first
        return "'" + value if value[:1] in _FORMULA_FIRST else value
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


def part_cell(value: Any, part: str, first: bool) -> str:
    """A part of a compound answer. Filed under a version where the field was not
    compound, the whole answer goes in the first part's column: nothing is dropped."""
    if type(value) is dict:
        return value_cell(value.get(part))
    return value_cell(value) if first else ""


def _submitted_at(moment: datetime) -> str:
    return moment.astimezone(TOKYO).isoformat(timespec="seconds")


# The expression of each well-known column over the row tuple `r` (see SubmissionRow).
_META_EXPRESSIONS: Final = {
    "receipt_number": "r[0]",
    "submitted_at": "_submitted_at(r[1])",
    "status": "r[2]",
    "procedure": "r[3]",
    "version": "str(r[4])",
    "department": "r[5]",
}


@dataclass(frozen=True)
class ColumnPlan:
    header: tuple[str, ...]
    #: The row's cells: one function per plan that builds the whole list (see
    #: `_compile_row`).
    row: Callable[[SubmissionRow], list[str]]
    source: str


def _compile_row(expressions: list[str], compound_ids: list[str]) -> tuple[Any, str]:
    """One function building a row's list of cells in one expression: a run calls it
    once per submission (a hundred thousand times), and a call per cell through closures
    cost about a third of the run. Field ids are checked identifiers ([a-z][a-z0-9_]*)
    and are written into the source with repr() anyway."""
    lines = ["def make_row(r):", "    a = r[6]"]
    for index, field_id in enumerate(compound_ids):
        lines.append(f"    c{index} = a.get({field_id!r})")
    lines.append("    return [" + ", ".join(expressions) + "]")
    source = "\n".join(lines)
    namespace: dict[str, Any] = {
        "_v": value_cell,
        "_p": part_cell,
        "_submitted_at": _submitted_at,
    }
    exec(compile(source, "<csv column plan>", "exec"), namespace)  # noqa: S102 - see above
    return namespace["make_row"], source


def column_plan(columns: Sequence[str], spec: ProcedureSpec) -> ColumnPlan:
    """The header and row maker of `columns` (as checked by the loader) for a procedure
    whose current version is `spec`."""
    fields = {f.id: f for f in spec.iter_fields(include_group_children=False)}
    header: list[str] = []
    expressions: list[str] = []
    compound_ids: list[str] = []
    for name in columns:
        if name in META_COLUMNS:
            header.append(name)
            expressions.append(_META_EXPRESSIONS[name])
            continue
        spec_field = fields.get(name)
        field_class = FIELD_TYPE_CLASSES.get(spec_field.type) if spec_field else None
        parts: tuple[str, ...] = tuple(getattr(field_class, "parts", ()) or ())
        if parts:
            slot = f"c{len(compound_ids)}"
            compound_ids.append(name)
            for index, part in enumerate(parts):
                header.append(f"{name}.{part}")
                expressions.append(f"_p({slot}, {part!r}, {index == 0})")
        else:
            header.append(name)
            expressions.append(f"_v(a.get({name!r}))")
    row, source = _compile_row(expressions, compound_ids)
    return ColumnPlan(tuple(header), row, source)
