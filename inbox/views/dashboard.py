"""The dashboard: charts of what the user's departments received."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from forms_engine import models as m
from forms_engine.services import procedure_version_get
from inbox import charts
from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.charts import Point
from inbox.dashboard import DEFAULT_DAYS, PERIODS, Stats, dashboard_stats
from inbox.scope import submissions_visible


def _count(n: int) -> str:
    return ngettext("%(n)s filing", "%(n)s filings", n) % {"n": f"{n:,}"}


def _duration(value: dt.timedelta) -> str:
    days = value.total_seconds() / 86400
    if days >= 1:
        return _("%(days)s days") % {"days": f"{days:.1f}"}
    return _("%(hours)s hours") % {"hours": f"{value.total_seconds() / 3600:.1f}"}


def _procedure_titles(ids: list[int]) -> dict[int, str]:
    rows = m.Procedure.objects.filter(pk__in=ids).values_list("pk", "live_version_id", "slug")
    return {
        pk: (procedure_version_get(live).display_title if live else slug) for pk, live, slug in rows
    }


def chart_context(stats: Stats) -> dict[str, Any]:
    titles = _procedure_titles(
        [pk for pk, _n in stats.per_procedure] + [pk for pk, *_r in stats.median_by_procedure]
    )
    statuses = dict(m.Submission.Status.choices)
    kinds = dict(m.Submission.ClientKind.choices)
    count_head = (_("Procedure"), _("Filings"))
    share = stats.phone_share
    return {
        "per_day": charts.column_chart(
            "chart-per-day",
            _("Filings per day"),
            [Point(d.strftime("%m/%d"), n, _count(n)) for d, n in stats.per_day],
            (_("Day"), _("Filings")),
        ),
        "per_procedure": charts.bar_chart(
            "chart-per-procedure",
            _("Filings per procedure"),
            [Point(titles.get(pk, str(pk)), n, _count(n)) for pk, n in stats.per_procedure],
            count_head,
        ),
        "by_state": charts.bar_chart(
            "chart-by-state",
            _("Filings by state"),
            [Point(str(statuses[s]), n, _count(n)) for s, n in stats.by_state],
            (_("Status"), _("Filings")),
        ),
        "decision": charts.bar_chart(
            "chart-decision",
            _("Median time from filing to decision, per procedure"),
            [
                Point(
                    titles.get(pk, str(pk)),
                    median.total_seconds() / 86400,
                    f"{_duration(median)} ({_count(n)})",
                )
                for pk, median, n in stats.median_by_procedure
            ],
            (_("Procedure"), _("Median time to decision")),
        ),
        "by_client": charts.share_bar(
            "chart-by-client",
            _("Filed from which device"),
            [
                Point(
                    str(kinds[k]),
                    n,
                    f"{n / stats.total:.0%} ({_count(n)})" if stats.total else _count(n),
                )
                for k, n in stats.by_client
            ],
            (_("Device"), _("Filings")),
        ),
        "median_decision": _duration(stats.median_decision) if stats.median_decision else "",
        "phone_share": f"{share:.0%}" if share is not None else "",
    }


@never_cache
@require_GET
@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("days", "")
    days = int(raw) if raw.isdigit() and int(raw) in PERIODS else DEFAULT_DAYS
    stats = dashboard_stats(submissions_visible(request.user), days)
    audit_log(request, "dashboard.view", days=days)
    lang = (get_language() or "ja").split("-")[0]
    return render(
        request,
        "inbox/dashboard.html",
        {"stats": stats, "periods": PERIODS, "lang": lang, **chart_context(stats)},
    )
