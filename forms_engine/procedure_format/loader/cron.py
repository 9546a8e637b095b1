"""Cron schedules of csv integrations, read by Celery's own crontab parser.

Celery beat runs these schedules, so whether a field is valid, and what it means (a range
such as 22-2 wraps past midnight; day of week is 0-6 with 0 for Sunday), is Celery's
call. Its parser is lenient about the text around the values, though: it ignores what
follows a matching prefix (`1-5!!`, `1-5/2/3`), takes any name whose first three
letters are a weekday or month in any field (`monkey` in the minute field is 1) and
reads full-width digits. So each piece is first held to the plain cron grammar here:
`*`, a number or a range, with an optional `/step` after `*` or a range, ASCII digits
and the three-letter names of the month and day-of-week fields only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from celery.schedules import ParseException, crontab_parser
from celery.utils.time import WEEKDAYS, YEARMONTHS


@dataclass(frozen=True)
class _CronField:
    name: str
    # crontab_parser's arguments, as celery.schedules.crontab passes them: the values
    # run from `low` to `low + size - 1`.
    size: int
    low: int
    names: frozenset[str] = frozenset()
    hint: str = ""

    @property
    def bounds(self) -> str:
        return f"{self.low}-{self.low + self.size - 1}"


CRON_FIELDS = (
    _CronField("minute", 60, 0),
    _CronField("hour", 24, 0),
    _CronField("day of month", 31, 1),
    _CronField("month", 12, 1, frozenset(YEARMONTHS)),
    # Unlike some crons, Celery has no 7 for Sunday.
    _CronField("day of week", 7, 0, frozenset(WEEKDAYS), " (Sunday is 0 or sun)"),
)

_VALUE_RE = re.compile(r"[0-9]+|[a-z]{3}", re.ASCII | re.IGNORECASE)
_STEP_RE = re.compile(r"[0-9]+", re.ASCII)


def crontab_kwargs(schedule: str) -> dict[str, str]:
    """A valid schedule as keyword arguments of celery.schedules.crontab, whose positional
    order (minute, hour, day_of_week, ...) is not the order of the cron fields."""
    minute, hour, day_of_month, month_of_year, day_of_week = schedule.split()
    return {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
    }


def check_cron(schedule: str) -> str | None:
    """Why a 5-field cron schedule is invalid, or None."""
    parts = schedule.split()
    if len(parts) != 5:
        return (
            f"{schedule!r} is not a cron schedule: write 5 fields (minute hour day-of-month "
            'month day-of-week), e.g. "0 2 * * *"'
        )
    for part, cron_field in zip(parts, CRON_FIELDS, strict=True):
        problem = _field_problem(part, cron_field)
        if problem:
            return f"{cron_field.name} field {part!r}: {problem}"
    return None


def _field_problem(part: str, cron_field: _CronField) -> str | None:
    values: list[str] = []
    for piece in part.split(","):
        base, slash, step = piece.partition("/")
        if slash and (not _STEP_RE.fullmatch(step) or int(step) < 1):
            return f"step {step!r} must be a whole number of 1 or more"
        if base == "*":
            continue
        ends = base.split("-")
        if len(ends) > 2 or not all(
            _VALUE_RE.fullmatch(end) and (end.isdigit() or end.lower() in cron_field.names)
            for end in ends
        ):
            return f"{piece!r} is not a number, range or *"
        if slash and len(ends) == 1:
            return f"a step goes after * or a range, e.g. */{step}"
        values.extend(ends)
    parser = crontab_parser(cron_field.size, cron_field.low)
    try:
        parser.parse(part)
    except (ValueError, ParseException) as exc:
        # Past the grammar above, Celery refuses only values out of the field's range:
        # name the value rather than repeat Celery's wording.
        for value in values:
            try:
                parser.parse(value)
            except (ValueError, ParseException):
                return f"{value} is outside {cron_field.bounds}{cron_field.hint}"
        return str(exc)
    return None
