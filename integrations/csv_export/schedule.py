"""When a csv entry's cron `schedule` fires, in Asia/Tokyo, read as Celery beat reads it
(the loader checked it with Celery's own parser): every field must match, day of month
and day of week alike; day of week 0 is Sunday."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery.schedules import crontab

from forms_engine.procedure_format.loader.cron import crontab_kwargs

from .columns import TOKYO

# A schedule such as "0 0 29 2 *" fires once in four years; past this, it never fires.
HORIZON_DAYS = 366 * 8


def next_fire_after(schedule: str, moment: datetime) -> datetime | None:
    """The first time the schedule fires strictly after `moment` (aware), in Asia/Tokyo."""
    cron = crontab(**crontab_kwargs(schedule))
    hours = sorted(cron.hour)
    minutes = sorted(cron.minute)
    start = moment.astimezone(TOKYO).replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = start.date()
    for _ in range(HORIZON_DAYS):
        if (
            day.month in cron.month_of_year
            and day.day in cron.day_of_month
            and (day.weekday() + 1) % 7 in cron.day_of_week
        ):
            for hour in hours:
                for minute in minutes:
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO)
                    if candidate >= start:
                        return candidate
        day += timedelta(days=1)
    return None
