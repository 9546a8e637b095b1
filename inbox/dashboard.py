"""The dashboard's figures for the submissions a member of staff may see: filings per
day, per procedure, by state, the median time from filing to decision, and the share filed
from phones, over the last N days.

Every figure is an aggregate computed by the database (GROUP BY, count, PostgreSQL's
percentile_cont for medians): a fixed handful of queries whatever the number of rows,
never the rows themselves. (The embedded SQLite site has no percentile function: there the
medians are taken in Python over the decided rows of the period, fine for one machine.)
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, QuerySet
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import TruncDate
from django.utils import timezone

from forms_engine import models as m

PERIODS = (7, 30, 90, 365)
DEFAULT_DAYS = 30


class Median(Aggregate):
    """PostgreSQL's continuous median of an interval (or number)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass(frozen=True)
class Stats:
    days: int
    start: dt.date
    end: dt.date
    total: int
    per_day: list[tuple[dt.date, int]]
    per_procedure: list[tuple[int, int]]  # (procedure id, filings), most first
    by_state: list[tuple[str, int]]  # (status value, filings), in the workflow's order
    decided: int
    median_decision: dt.timedelta | None
    median_by_procedure: list[tuple[int, dt.timedelta, int]]  # (procedure, median, decided)
    by_client: list[tuple[str, int]]  # (client kind value, filings), in the choices' order

    @property
    def phone_share(self) -> float | None:
        if not self.total:
            return None
        phones = dict(self.by_client).get(m.Submission.ClientKind.PHONE, 0)
        return phones / self.total


def _decision_time() -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())


def _medians(decided: QuerySet[m.Submission]) -> tuple[Any, list[tuple[int, Any, int]]]:
    if connection.vendor == "postgresql":
        overall = decided.aggregate(median=Median(_decision_time()))["median"]
        grouped = (
            decided.order_by()
            .values("procedure_id")
            .annotate(median=Median(_decision_time()), n=Count("pk"))
            .order_by("procedure_id")
        )
        return overall, [(g["procedure_id"], g["median"], g["n"]) for g in grouped]
    times: dict[int, list[float]] = {}
    for procedure_id, submitted, decided_at in decided.values_list(
        "procedure_id", "submitted_at", "decided_at"
    ):
        if decided_at is not None:
            times.setdefault(procedure_id, []).append((decided_at - submitted).total_seconds())

    def median(seconds: list[float]) -> dt.timedelta:
        return dt.timedelta(seconds=statistics.median(seconds))

    every = [t for ts in times.values() for t in ts]
    overall = median(every) if every else None
    return overall, [(pk, median(ts), len(ts)) for pk, ts in sorted(times.items())]


def dashboard_stats(
    visible: QuerySet[m.Submission], days: int = DEFAULT_DAYS, today: dt.date | None = None
) -> Stats:
    """The figures over the `days` days up to `today` (local dates) of `visible`, the
    submissions the user may see."""
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=days - 1)
    tz = timezone.get_current_timezone()
    start_at = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    end_at = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    period = visible.filter(submitted_at__gte=start_at, submitted_at__lt=end_at).order_by()

    counted = dict(
        period.annotate(day=TruncDate("submitted_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    per_day = [(day, counted.get(day, 0)) for day in _days(start, today)]
    per_procedure = sorted(
        period.values("procedure_id").annotate(n=Count("pk")).values_list("procedure_id", "n"),
        key=lambda row: (-row[1], row[0]),
    )
    states = dict(period.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    by_state = [(s.value, states[s.value]) for s in m.Submission.Status if states.get(s.value)]
    kinds = dict(
        period.values("client_kind").annotate(n=Count("pk")).values_list("client_kind", "n")
    )
    by_client = [(k.value, kinds.get(k.value, 0)) for k in m.Submission.ClientKind]
    decided = period.filter(decided_at__isnull=False)
    overall, by_procedure = _medians(decided)
    return Stats(
        days=days,
        start=start,
        end=today,
        total=sum(n for _day, n in per_day),
        per_day=per_day,
        per_procedure=per_procedure,
        by_state=by_state,
        decided=sum(n for _pk, _median, n in by_procedure),
        median_decision=overall,
        median_by_procedure=by_procedure,
        by_client=by_client,
    )


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def dashboard_nav(scope: Any) -> list[tuple[str, str]]:
    """The dashboard's entry in the staff menu (inbox.context_processors)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    return [(reverse("inbox:dashboard"), _("Dashboard"))]
