"""Runtime values and the operations on them, mirrored in static/js/expr.js.

Runtime values are the ones JSON can carry, so that the server and the browser see the
same thing: a date answer is read as its ISO string "YYYY-MM-DD" (ISO dates order
correctly as strings, and the browser only has strings), and an empty answer ("" or [])
is read as null, since an empty browser input and an unanswered stored field must agree.
Integers beyond 2**53 become floats, as they would in JavaScript.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

# JavaScript numbers are doubles: past this, integers are rounded there, so they are here.
MAX_SAFE_INT = 2**53

Fn = Callable[[Mapping[str, Any], Any], Any]  # a compiled expression: (answers, today) -> value


def iso(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def normalise(v: Any) -> Any:
    """An answer as expressions see it: JSON-like, empty == null, dates as ISO strings."""
    t = type(v)
    if t is str or t is list:
        return v if v else None
    if t is int:
        if -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
            return v
        try:
            return float(v)
        except OverflowError:  # JSON.parse gives Infinity for these
            return math.inf if v > 0 else -math.inf
    if t is tuple:
        return list(v) if v else None
    if isinstance(v, date):
        return iso(v)
    return v


def truthy(value: Any) -> bool:
    """null, false, 0, "" and [] (and an empty mapping, and NaN) are false."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    t = type(value)
    if t is int:
        return bool(value != 0)
    if t is float:
        return bool(value == value and value != 0.0)
    if t is str or t is list or t is tuple or t is dict:
        return len(value) > 0
    if isinstance(value, Mapping):
        return len(value) > 0
    return True


def equal(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is y
    tx, ty = type(x), type(y)
    if tx is bool or ty is bool:
        return tx is ty and x is y
    if (tx is int or tx is float) and (ty is int or ty is float):
        return bool(x == y)
    if tx is str and ty is str:
        return bool(x == y)
    if isinstance(x, date) or isinstance(y, date):
        x = iso(x) if isinstance(x, date) else x
        y = iso(y) if isinstance(y, date) else y
        return type(x) is str and type(y) is str and x == y
    if (tx is list or tx is tuple) and (ty is list or ty is tuple):
        return len(x) == len(y) and all(equal(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, Mapping) and isinstance(y, Mapping):
        return x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
    return False


def contains(needle: Any, container: Any) -> bool:
    t = type(container)
    if t is list or t is tuple:
        return any(equal(needle, item) for item in container)
    if t is str:
        return type(needle) is str and needle in container
    return False


def fix_number(r: Any) -> Any:
    if type(r) is int:
        if -MAX_SAFE_INT <= r <= MAX_SAFE_INT:
            return r
        return float(r)  # OverflowError is caught by the caller
    if r is None or math.isfinite(r):
        return r
    return None


def _divide(x: int | float, y: int | float) -> int | float | None:
    if y == 0:
        return None
    if type(x) is int and type(y) is int and x % y == 0:
        return x // y
    return x / y


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
}
ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def as_number(v: Any) -> Any:
    """null counts as 0; anything but a number is None (a runtime type error)."""
    if v is None:
        return 0
    t = type(v)
    if t is int or t is float:
        return v
    return None


_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def parse_iso(v: Any) -> date | None:
    if type(v) is not str:
        return None
    return _parse_iso_string(v)


@functools.lru_cache(maxsize=1024)  # age() of the same birth date runs on every render
def _parse_iso_string(v: str) -> date | None:
    m = _ISO_DATE_RE.fullmatch(v)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
