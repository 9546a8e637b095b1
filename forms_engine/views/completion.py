"""The confirmation page, the final submit and the completion page."""

from __future__ import annotations

import time

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from forms_engine import models as m
from forms_engine import services
from forms_engine.client_kind import client_kind
from forms_engine.fields import Ctx
from forms_engine.filing import (
    display_rows,
    fee_lines,
)
from forms_engine.ratelimit import ratelimit

from .common import (
    SESSION_DRAFTS,
    _draft_for,
    _lang,
    _resident,
    _step_url,
    files_removed_notices,
    payment_context,
    unpublished_notice,
)
from .start import ACCEPTANCE_MESSAGES

STATUS_CODE_SHOWN_SECONDS = 600


@require_http_methods(["GET", "POST"])
def filing_confirm(request: HttpRequest, draft_id) -> HttpResponse:
    if request.method == "POST" and str(draft_id) in request.session.get(SESSION_DRAFTS, []):
        # The browser that holds the filing: the service reads and locks the draft itself
        # (and answers a second tap with the first result).
        return _submit(request, draft_id)
    draft = _draft_for(request, draft_id)
    if draft.status != m.Draft.Status.OPEN:
        return redirect("filing_done", draft_id=draft.pk)
    if request.method == "POST":
        return _submit(request, draft.pk)
    return render(request, "forms_engine/confirm.html", _confirm_context(request, draft))


def _confirm_context(request: HttpRequest, draft: m.Draft) -> dict:
    resident = _resident(request)
    view = services.draft_view(draft)
    view.apply_shared()
    lang = _lang()
    ctx = Ctx(lang=lang, today=timezone.localdate(), file_states=services.draft_file_states(draft))
    problems = services.view_problems(services.draft_view(draft))
    sections = []
    total = 0
    for position, spec in enumerate(view.specs):
        answers = view.visible_answers(position)
        lines = fee_lines(spec, answers, lang)
        subtotal = sum(line["subtotal"] for line in lines)
        total += subtotal
        sections.append(
            {
                "title": spec.title.get(lang),
                "pages": [
                    dict(p, url=_step_url(draft, p["step"]) + "?return=confirm")
                    for p in display_rows(view, position, ctx)
                ],
                "fee_lines": lines,
                "fee_total": subtotal,
                "fee": spec.fee,
            }
        )
    steps = view.steps()
    return {
        "draft": draft,
        "sections": sections,
        "total": total,
        "problems": problems,
        "back_url": _step_url(draft, steps[-1]) if steps else "",
        "resident": resident if resident and draft.resident_id == resident.pk else None,
        "title": draft.bundle_version.display_title
        if draft.bundle_version
        else view.specs[0].title.get(lang),
        "organization": services.organization_get(draft.organization_id),
        "progress": {"current": len(steps) + 1, "total": len(steps) + 1},
        # Page titles sit under the procedure's h2 in a bundle, right under the h1 otherwise.
        "heading": 3 if len(sections) > 1 else 2,
        "file_notices": files_removed_notices(draft),
        "unpublished_notice": unpublished_notice(draft),
    }


@ratelimit("submit")
def _submit(request: HttpRequest, draft_id) -> HttpResponse:
    try:
        services.submission_complete(
            draft_id,
            save_to_profile=request.POST.get("save_to_profile") == "1",
            language=_lang(),
            # Only the kind of device is kept, never the header.
            client_kind=client_kind(request.headers.get("User-Agent")),
        )
    except m.Draft.DoesNotExist:
        raise Http404 from None
    except services.FilingError as exc:
        if exc.code == "incomplete" and exc.step_key:
            # Something is missing (a page skipped, a rule that changed): show that page.
            position, _dot, page_id = exc.step_key.partition(".")
            return redirect(reverse("filing_page", args=[draft_id, int(position), page_id]))
        draft = _draft_for(request, draft_id)
        context = _confirm_context(request, draft)
        context["submit_error"] = ACCEPTANCE_MESSAGES.get(
            exc.code, lambda: _("Check your answers.")
        )()
        return render(request, "forms_engine/confirm.html", context, status=409)
    return redirect("filing_done", draft_id=draft_id)


def _status_code_shown(request: HttpRequest, draft: m.Draft) -> str | None:
    """The status code, for the browser that filed, during the first minutes after filing
    (a reload or a language switch keeps it). It is derived again from the receipt number,
    as the receipt mail does, so it is in no session and no cookie: signing out, or the
    minutes passing, ends it for every copy of the cookie."""
    if str(draft.pk) not in request.session.get(SESSION_DRAFTS, []):
        return None
    receipt = draft.receipt
    if receipt is None or time.time() > receipt.created_at.timestamp() + STATUS_CODE_SHOWN_SECONDS:
        return None
    return services.status_code_for(receipt.number)


def filing_done(request: HttpRequest, draft_id) -> HttpResponse:
    draft = _draft_for(request, draft_id)
    if draft.status != m.Draft.Status.SUBMITTED or draft.receipt is None:
        return redirect("filing_confirm", draft_id=draft.pk)
    code = _status_code_shown(request, draft)
    lang = _lang()
    submissions = list(
        draft.receipt.submissions.select_related("procedure_version", "department").order_by(
            "number"
        )
    )
    return render(
        request,
        "forms_engine/done.html",
        {
            "receipt": draft.receipt,
            "status_code": code,
            "submissions": [
                {
                    "number": s.number,
                    "title": m.localized(s.procedure_version.title, lang),
                    "department": m.localized(s.department.name, lang),
                    "status": s.get_status_display(),
                    "awaiting_payment": s.status == m.Submission.Status.AWAITING_PAYMENT,
                    "fee_total": s.fee_total,
                    **payment_context(s),
                }
                for s in submissions
            ],
            "organization": services.organization_get(draft.organization_id),
        },
    )


def filing_restart(request: HttpRequest, draft_id) -> HttpResponse:
    """Back from the first page: the start page of the procedure or bundle."""
    draft = _draft_for(request, draft_id)
    if draft.bundle_version:
        bundle = draft.bundle_version.bundle
        return redirect(
            "bundle_start",
            org=services.organization_get(draft.organization_id).slug,
            slug=bundle.slug,
        )
    version = services.draft_versions(draft)[0]
    return redirect(
        "procedure_start",
        org=services.organization_get(draft.organization_id).slug,
        slug=version.procedure.slug,
    )
