"""Dates: three inputs with a western or Japanese-era (和暦) year, the 和暦 of a date, and
the bounds (`min`/`max`) of date fields."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from .invalid import SHORT_VALUE_LIMIT, Invalid, as_text
from .text import normalize_text

# (name, letter, first day, abbreviations). Meiji counts from 1868-01-25 (Gregorian for
# 慶応4年1月1日, to which the era was made retroactive); Japan used the lunisolar
# calendar until 1872, so month/day of wareki before 1873 are only nominal.
_ERAS: tuple[tuple[str, str, date, tuple[str, ...]], ...] = (
    ("令和", "R", date(2019, 5, 1), ("令", "\u32ff")),  # ㋿
    ("平成", "H", date(1989, 1, 8), ("平", "\u337b")),  # ㍻
    ("昭和", "S", date(1926, 12, 25), ("昭", "\u337c")),  # ㍼
    ("大正", "T", date(1912, 7, 30), ("大", "\u337d")),  # ㍽
    ("明治", "M", date(1868, 1, 25), ("明", "\u337e")),  # ㍾
)
_ERA_START_YEAR: dict[str, int] = {}
for _name, _letter, _start, _abbrs in _ERAS:
    for _key in (_name, _letter, _letter.lower(), *_abbrs):
        _ERA_START_YEAR[_key] = _start.year
_ERA_ALTERNATION = "|".join(sorted(map(re.escape, _ERA_START_YEAR), key=len, reverse=True))
_ERA_YEAR_RE = re.compile(rf"({_ERA_ALTERNATION})\.?\s*([0-9]{{1,2}}|元)\s*年?")
_WESTERN_YEAR_RE = re.compile(r"([1-9][0-9]{3})\s*年?")
_MONTH_RE = re.compile(r"([0-9]{1,2})\s*月?")
_DAY_RE = re.compile(r"([0-9]{1,2})\s*日?")


def _parse_year(year: str) -> int:
    text = normalize_text(as_text(year, "date_invalid", limit=SHORT_VALUE_LIMIT))
    m = _WESTERN_YEAR_RE.fullmatch(text)
    if m:
        return int(m.group(1))
    m = _ERA_YEAR_RE.fullmatch(text)
    if m is None:
        raise Invalid("date_invalid")
    n = 1 if m.group(2) == "元" else int(m.group(2))
    if n < 1:
        raise Invalid("date_invalid")
    # Years past an era's end are accepted on purpose: documents issued before an era
    # change keep printing the old era (a licence valid until 平成33年 means 2021).
    return _ERA_START_YEAR[m.group(1)] + n - 1


def parse_date_parts(year: str, month: str, day: str) -> date:
    """A date from three inputs; the year is western ("1985") or Japanese ("令和8",
    "R8", "H31", "昭和60年", "令和元年")."""
    y = _parse_year(year)
    m = _MONTH_RE.fullmatch(normalize_text(as_text(month, "date_invalid", limit=SHORT_VALUE_LIMIT)))
    d = _DAY_RE.fullmatch(normalize_text(as_text(day, "date_invalid", limit=SHORT_VALUE_LIMIT)))
    if m is None or d is None:
        raise Invalid("date_invalid")
    try:
        return date(y, int(m.group(1)), int(d.group(1)))
    except ValueError as exc:
        raise Invalid("date_invalid") from exc


def _era_of(d: date) -> tuple[str, int] | None:
    for name, _letter, start, _abbrs in _ERAS:
        if d >= start:
            return name, d.year - start.year + 1
    return None


def wareki_year(d: date) -> str:
    """ "令和8年", "令和元年"; before Meiji the western "1850年"."""
    era = _era_of(d)
    if era is None:
        return f"{d.year}年"
    name, n = era
    return f"{name}{'元' if n == 1 else n}年"


def wareki(d: date) -> str:
    """ "令和8年11月26日" (the era in force on that day)."""
    return f"{wareki_year(d)}{d.month}月{d.day}日"


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(total, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def resolve_date_bound(
    kind: str, date_iso: str | None, amount: int, unit: str, today: date
) -> date:
    """The concrete date of a `DateBound`; a month/year offset landing on a missing day
    (Feb 29 - 18y, Mar 31 + 1m) takes the last day of that month."""
    if kind == "date":
        if not date_iso:
            raise ValueError("a date bound needs date_iso")
        return date.fromisoformat(date_iso)
    if kind == "today":
        return today
    if kind == "offset":
        if unit == "d":
            return today + timedelta(days=amount)
        if unit == "m":
            return _add_months(today, amount)
        if unit == "y":
            return _add_months(today, 12 * amount)
        raise ValueError(f"unknown date offset unit {unit!r}")
    raise ValueError(f"unknown date bound kind {kind!r}")
