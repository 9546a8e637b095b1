"""`accepting:`: the window in which a procedure takes filings, and its capacity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from forms_engine.procedure_format.model import AcceptingSpec
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import FileCheck

ACCEPTING_KEYS = ("opens", "closes", "capacity")


def accepting_of(c: FileCheck, value: Any) -> AcceptingSpec:
    path: KeyPath = ("accepting",)
    entry = c.mapping(value, path, "a mapping {opens, closes, capacity}")
    if entry is None:
        return AcceptingSpec()
    c.check_keys(entry, path, ACCEPTING_KEYS)
    opens = moment(c, entry["opens"], path + ("opens",)) if "opens" in entry else None
    closes = moment(c, entry["closes"], path + ("closes",)) if "closes" in entry else None
    capacity = None
    if "capacity" in entry:
        capacity = c.integer(entry["capacity"], path + ("capacity",), minimum=1)
    if opens is not None and closes is not None and opens >= closes:
        c.error(path + ("closes",), "closes must be later than opens")
    return AcceptingSpec(opens=opens, closes=closes, capacity=capacity)


def moment(c: FileCheck, value: Any, path: KeyPath) -> datetime | None:
    """A date and time with its UTC offset: a window must not shift with the server's zone."""
    example = "e.g. 2026-11-01T09:00:00+09:00"
    when = value
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            c.error(path, f"{value!r} is not an ISO 8601 date and time, {example}")
            return None
    if not isinstance(when, datetime):
        if isinstance(when, date):
            c.error(path, f"needs a time and a UTC offset, {example}")
        else:
            c.error(path, f"must be an ISO 8601 date and time with offset, {example}")
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        c.error(path, f"needs a UTC offset such as +09:00, {example}")
        return None
    return when
