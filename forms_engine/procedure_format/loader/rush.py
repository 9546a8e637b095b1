"""`rush:`: the waiting room of a procedure (admission rate and how long an admission lasts)."""

from __future__ import annotations

from typing import Any

from forms_engine.procedure_format.model import RushSpec
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import FileCheck

RUSH_KEYS = ("admit_per_minute", "admission_minutes")
# Beyond these a number is a typo, not a plan: 100,000 a minute is past any single site,
# and an admission longer than a day is no queue at all.
ADMIT_PER_MINUTE_MAX = 100_000
ADMISSION_MINUTES_MIN = 5
ADMISSION_MINUTES_MAX = 24 * 60
ADMISSION_MINUTES_DEFAULT = 30


def rush_of(c: FileCheck, value: Any) -> RushSpec | None:
    path: KeyPath = ("rush",)
    entry = c.mapping(value, path, "a mapping {admit_per_minute, admission_minutes}")
    if entry is None:
        return None
    c.check_keys(entry, path, RUSH_KEYS, ("admit_per_minute",))
    rate = None
    if "admit_per_minute" in entry:
        rate = c.integer(entry["admit_per_minute"], path + ("admit_per_minute",), minimum=1)
        if rate is not None and rate > ADMIT_PER_MINUTE_MAX:
            c.error(path + ("admit_per_minute",), f"must be at most {ADMIT_PER_MINUTE_MAX:,}")
            rate = None
    minutes: int | None = ADMISSION_MINUTES_DEFAULT
    if "admission_minutes" in entry:
        key = path + ("admission_minutes",)
        minutes = c.integer(entry["admission_minutes"], key, minimum=ADMISSION_MINUTES_MIN)
        if minutes is not None and minutes > ADMISSION_MINUTES_MAX:
            c.error(key, f"must be at most {ADMISSION_MINUTES_MAX} (a day)")
            minutes = None
    if rate is None or minutes is None:
        return None
    return RushSpec(admit_per_minute=rate, admission_minutes=minutes)
