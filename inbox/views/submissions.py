"""The inbox list and a submission's page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from forms_engine.fields import Ctx
from forms_engine.filing import FilingView
from forms_engine.filing.rendering import display_rows
from forms_engine.models import Procedure, Submission
from forms_engine.services import version_spec
from inbox import selectors
from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.scope import staff_scope, submission_for_staff_or_404
from inbox.timeline import submission_timeline


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


def filters_from(params: QueryDict) -> selectors.InboxFilters:
    """The list's filters from its query string; anything unreadable is ignored."""
    statuses = {value for value, _label in Submission.Status.choices}
    status = params.get("status", "")
    return selectors.InboxFilters(
        procedure_id=_int(params.get("procedure", "")),
        status=status if status in statuses else "",
        date_from=_date(params.get("from", "")),
        date_to=_date(params.get("to", "")),
        payment_status=params.get("payment", "")[:32],
        delivery_state=params.get("delivery", "")[:32],
        assigned_to_me=params.get("mine") == "1",
        query=params.get("q", "")[:100],
    )


def _procedures(user: Any) -> list[Procedure]:
    scope = staff_scope(user)
    if scope.organization_id is None:
        return []
    qs = Procedure.objects.filter(organization_id=scope.organization_id).select_related(
        "live_version"
    )
    if not scope.is_organization_admin:
        qs = qs.filter(live_version__department_id__in=sorted(scope.department_ids))
    return list(qs.order_by("slug"))


@never_cache
@require_GET
@staff_required
def submission_list(request: HttpRequest) -> HttpResponse:
    filters = filters_from(request.GET)
    sort = request.GET.get("sort", selectors.DEFAULT_SORT)
    if sort not in selectors.SORTS:
        sort = selectors.DEFAULT_SORT
    cursor = request.GET.get("after", "")[:400]
    size = _int(request.GET.get("size", "")) or selectors.PAGE_SIZE
    rows, next_cursor, counts = selectors.inbox_page(request.user, filters, sort, cursor, size=size)
    params = request.GET.copy()
    params.pop("after", None)
    next_params = params.copy()
    if next_cursor:
        next_params["after"] = next_cursor
    status_links = []
    for value, label in Submission.Status.choices:
        link = params.copy()
        link["status"] = value
        status_links.append(
            {
                "value": value,
                "label": label,
                "count": count_label(counts.get(value, 0)),
                "query": link.urlencode(),
                "current": filters.status == value,
            }
        )
    every = params.copy()
    every.pop("status", None)
    return render(
        request,
        "inbox/submission_list.html",
        {
            "rows": rows,
            "filters": filters,
            "sort": sort,
            "sorts": [
                ("newest", _sort_label("newest")),
                ("oldest", _sort_label("oldest")),
                ("status", _sort_label("status")),
            ],
            "statuses": Submission.Status.choices,
            "status_links": status_links,
            "all_query": every.urlencode(),
            "all_count": count_label(
                sum(min(n, selectors.COUNT_CAP) for n in counts.values()),
                at_least=any(selectors.count_is_capped(n) for n in counts.values()),
            ),
            "procedures": _procedures(request.user),
            "next_query": next_params.urlencode() if next_cursor else "",
            "first_query": params.urlencode() if cursor else "",
            "extra_filters": sorted(selectors.EXTRA_FILTERS),
            "payment_choices": Submission.PaymentStatus.choices,
            "delivery_choices": selectors.delivery_choices(),
        },
    )


def count_label(n: int, *, at_least: bool = False) -> str:
    """A tab's count as shown: "1,234", or past the cap "1,000+" (1,000件以上), since the
    counts stop there (selectors.COUNT_CAP). `at_least` marks a sum of capped counts."""
    from django.utils.translation import gettext as _

    if not at_least and selectors.count_is_capped(n):
        n, at_least = selectors.COUNT_CAP, True
    if at_least:
        return _("%(count)s+") % {"count": f"{n:,}"}
    return f"{n:,}"


def _sort_label(key: str) -> str:
    from django.utils.translation import gettext as _

    return {
        "newest": _("Newest first"),
        "oldest": _("Oldest first"),
        "status": _("By status"),
    }[key]


@never_cache
@require_GET
@staff_required
def submission_detail(request: HttpRequest, submission_id: Any) -> HttpResponse:
    submission = submission_for_staff_or_404(request.user, submission_id)
    audit_log(request, "submission.view", submission)
    return render(request, "inbox/submission_detail.html", detail_context(request, submission))


def detail_context(request: HttpRequest, submission: Submission) -> dict[str, Any]:
    """What the detail page shows; the action views (inbox/detail/actions.html) render the
    same page again with their errors added to it."""
    lang = (get_language() or "ja").split("-")[0]
    version = submission.procedure_version
    spec = version_spec(version)
    attachments = list(submission.attachments.order_by("created_at", "id"))
    ctx = Ctx(
        lang=lang,
        today=timezone.localdate(submission.submitted_at),
        file_states={str(a.pk): a.status for a in attachments},
    )
    view = FilingView(specs=[spec], answers={"0": dict(submission.answers or {})})
    pages = display_rows(view, 0, ctx)
    return {
        "submission": submission,
        "title": spec.title.get(lang),
        "pages": pages,
        "attachments": attachments,
        "timeline": submission_timeline(submission),
        "scope": staff_scope(request.user),
    }
