"""My page (マイページ) of a signed-in resident: their filings (submissions, with status,
receipt number and a link to each status page) and drafts (with a link to go on) across
procedures and organizations; their once-only profile with edit (the same field types and
normalisers as the filing pages) and delete (with a confirmation); sign-out everywhere.

Without a sign-in every page here sends the browser to the sign-in page, which comes back.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from forms_engine import models as m
from forms_engine.fields import Ctx
from forms_engine.filing import display_rows, process_page, raw_from_answers, render_fields
from forms_engine.services import profiles

from .common import _continue_url, _lang, _resident


def _sign_in_first(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("login") + "?" + urlencode({"next": request.path}))


def _filings(resident: m.Resident, lang: str) -> list[dict]:
    submissions = (
        m.Submission.objects.filter(draft__resident=resident)
        .select_related("procedure_version", "organization", "receipt")
        .order_by("-submitted_at", "number")
    )
    return [
        {
            "title": m.localized(s.procedure_version.title, lang),
            "organization": m.localized(s.organization.name, lang),
            "number": s.number,
            "status": s.get_status_display(),
            "submitted_at": s.submitted_at,
            "url": reverse("status_submission", args=[s.pk]),
        }
        for s in submissions
    ]


def _drafts(resident: m.Resident, lang: str) -> list[dict]:
    drafts = (
        m.Draft.objects.filter(resident=resident, status=m.Draft.Status.OPEN)
        .select_related("organization")
        .prefetch_related("draft_versions__version")
        .order_by("-updated_at")
    )
    out = []
    for d in drafts:
        titles = [
            m.localized(dv.version.title, lang)
            for dv in sorted(d.draft_versions.all(), key=lambda dv: dv.position)
        ]
        out.append(
            {
                "title": " / ".join(titles),
                "organization": m.localized(d.organization.name, lang),
                "updated_at": d.updated_at,
                "url": _continue_url(d),
            }
        )
    return out


def _profile_rows(resident: m.Resident, lang: str) -> list:
    shown = profiles.profile_view(resident)
    if shown is None:
        return []
    view, _step = shown
    ctx = Ctx(lang=lang, today=timezone.localdate())
    pages = display_rows(view, 0, ctx)
    return pages[0]["rows"] if pages else []


@never_cache
def my_page(request: HttpRequest) -> HttpResponse:
    resident = _resident(request)
    if resident is None:
        return _sign_in_first(request)
    lang = _lang()
    context = {
        "resident": resident,
        "filings": _filings(resident, lang),
        "drafts": _drafts(resident, lang),
        "profile_rows": _profile_rows(resident, lang),
        "has_profile": bool(resident.profile),
        "notice": request.GET.get("done", ""),
    }
    return render(request, "forms_engine/my_page.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def my_profile_edit(request: HttpRequest) -> HttpResponseBase:
    resident = _resident(request)
    if resident is None:
        return _sign_in_first(request)
    shown = profiles.profile_view(resident)
    if shown is None:
        return redirect("my_page")
    view, step = shown
    ctx = Ctx(lang=_lang(), today=timezone.localdate())
    errors: dict = {}
    error_fields: list = []
    if request.method == "POST":
        result = process_page(view, step, request.POST, ctx)
        if not result.errors:
            profiles.profile_update(
                resident.pk, {f.id: result.values.get(f.id) for f in step.page.fields}
            )
            return redirect(reverse("my_page") + "?done=profile")
        raw, errors, error_fields = result.raw, result.errors, result.error_fields
    else:
        raw = raw_from_answers(view, step)
    context = {
        "fields_html": render_fields(view, step, raw, errors, ctx),
        "errors": error_fields,
        "today_iso": ctx.today.isoformat(),
    }
    return render(request, "forms_engine/my_profile.html", context, status=400 if errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def my_profile_delete(request: HttpRequest) -> HttpResponseBase:
    resident = _resident(request)
    if resident is None:
        return _sign_in_first(request)
    if request.method == "POST":
        profiles.profile_delete(resident.pk)
        return redirect(reverse("my_page") + "?done=deleted")
    return render(request, "forms_engine/my_profile_delete.html", {"resident": resident})


@require_POST
def my_sign_out_everywhere(request: HttpRequest) -> HttpResponseBase:
    """Every session of this resident ends (other browsers too); this one is emptied."""
    resident = _resident(request)
    if resident is not None:
        profiles.resident_sign_out_everywhere(resident.pk)
    request.session.flush()
    return render(request, "forms_engine/my_signed_out.html", {})
