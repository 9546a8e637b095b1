"""Cron schedules of csv integrations."""

from __future__ import annotations

from collections.abc import Mapping

CRON_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    ),
    ("day of week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
)


def check_cron(schedule: str) -> str | None:
    """Why a 5-field cron schedule is invalid, or None."""
    parts = schedule.split()
    if len(parts) != 5:
        return (
            f"{schedule!r} is not a cron schedule: write 5 fields (minute hour day-of-month "
            'month day-of-week), e.g. "0 2 * * *"'
        )
    for part, (name, low, high, names) in zip(parts, CRON_FIELDS, strict=True):
        for piece in part.split(","):
            problem = _cron_piece(piece, low, high, names)
            if problem:
                return f"{name} field {part!r}: {problem}"
    return None


def _cron_piece(piece: str, low: int, high: int, names: Mapping[str, int]) -> str | None:
    base, _, step = piece.partition("/")
    if step:
        if not step.isdigit() or int(step) < 1:
            return f"step {step!r} must be a whole number of 1 or more"
    if base == "*":
        return None

    def value(token: str) -> int | None:
        if token.isdigit():
            return int(token)
        return names.get(token.lower())

    first, dash, last = base.partition("-")
    a = value(first)
    b = value(last) if dash else a
    if a is None or b is None:
        return f"{piece!r} is not a number, range or *"
    for number in (a, b):
        if not low <= number <= high:
            return f"{number} is outside {low}-{high}"
    if a > b:
        return f"range {base!r} runs backwards"
    return None
