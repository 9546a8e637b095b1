"""Save for later: a resume link by mail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from forms_engine import models as m
from forms_engine import services

from .common import _continue_url, _draft_for, _lang, posted_email


def _contact_email(draft: m.Draft) -> str:
    view = services.draft_view(draft)
    for position, spec in enumerate(view.specs):
        value = view.answers_of(position).get(spec.contact_email)
        if isinstance(value, str):
            return value
    return draft.resident.email if draft.resident is not None else ""


@require_http_methods(["GET", "POST"])
def filing_save(request: HttpRequest, draft_id) -> HttpResponse:
    draft = _draft_for(request, draft_id)
    email = request.POST.get("email", "") if request.method == "POST" else _contact_email(draft)
    error = ""
    if request.method == "POST":
        email, error = posted_email(email)
        if not error:
            from forms_engine.ratelimit import hit

            if not hit(request, "resume_link"):
                error = _("Too many links were sent. Wait a few minutes and try again.")
            else:
                services.draft_resume_link_send(draft, email, _lang())
                # Redirect: reloading the confirmation must not send another mail.
                return redirect("filing_saved", draft_id=draft.pk)
    return render(
        request,
        "forms_engine/save.html",
        {
            "draft": draft,
            "email": email,
            "error": error,
            "continue_url": _continue_url(draft),
            "organization": services.organization_get(draft.organization_id),
        },
    )


def filing_saved(request: HttpRequest, draft_id) -> HttpResponse:
    draft = _draft_for(request, draft_id)
    organization = services.organization_get(draft.organization_id)
    return render(request, "forms_engine/saved.html", {"organization": organization})
