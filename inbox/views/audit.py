"""The audit log of an organization, for its organization admins."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.models import AuditLog, StaffMembership
from inbox.scope import staff_scope

PAGE_SIZE = 100


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


@never_cache
@require_GET
@staff_required(roles=(StaffMembership.Role.ORGANIZATION_ADMIN,))
def audit_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    organization_id = staff_scope(request.user).organization_id
    assert organization_id is not None  # staff_required let a member in
    qs = AuditLog.objects.filter(organization_id=organization_id)
    action = params.get("action", "")[:64]
    actor = params.get("actor", "")[:150]
    number = params.get("number", "").strip().upper()[:24]
    date_from, date_to = _date(params.get("from", "")), _date(params.get("to", ""))
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_name=actor)
    if number:
        qs = qs.filter(submission_number__startswith=number)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    before = params.get("before", "")
    if before.isdigit() and len(before) < 19:
        qs = qs.filter(id__lt=int(before))
    rows = list(qs.order_by("-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_params = params.copy()
    if more:
        next_params["before"] = str(rows[-1].pk)
    audit_log(request, "audit.view")
    return render(
        request,
        "inbox/audit_list.html",
        {
            "rows": rows,
            "action": action,
            "actor": actor,
            "number": number,
            "date_from": date_from,
            "date_to": date_to,
            "next_query": next_params.urlencode() if more else "",
            "actions": sorted(ACTION_PREFIXES),
        },
    )


ACTION_PREFIXES = {"signin", "submission", "attachment", "export", "staff", "otp", "audit"}
