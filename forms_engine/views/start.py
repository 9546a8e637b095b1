"""The home page and the start pages of procedures and bundles, which create drafts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from forms_engine import models as m
from forms_engine import services
from forms_engine.fields import text_of
from forms_engine.ratelimit import hit as ratelimit_hit
from forms_engine.ratelimit import limited_response

from .common import (
    SESSION_DRAFTS,
    _continue_url,
    _first_step_url,
    _lang,
    _remember_draft,
    _resident,
)

ACCEPTANCE_MESSAGES = {
    "not_open": lambda: _("This procedure is not accepting applications yet."),
    "closed": lambda: _("This procedure is no longer accepting applications."),
    "unpublished": lambda: _(
        "This procedure has been closed by its organization and accepts no applications."
    ),
    "full": lambda: _("This procedure has reached its capacity and accepts no more applications."),
    "fee_invalid": lambda: _(
        "The fee cannot be calculated from these answers. Check the quantities you entered."
    ),
}


def home(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    organizations = []
    for org in m.Organization.objects.all():
        procedures = []
        open_slugs = set()
        for proc in org.procedures.select_related("live_version").filter(
            live_version__isnull=False
        ):
            assert proc.live_version is not None  # filtered above
            spec = services.version_spec(proc.live_version)
            if services.procedure_acceptance(spec, proc) != "open":
                continue
            open_slugs.add(proc.slug)
            procedures.append(
                {
                    "title": spec.title.get(lang),
                    "url": reverse("procedure_start", args=[org.slug, proc.slug]),
                }
            )
        bundles = [
            {
                "title": live.display_title,
                "url": reverse("bundle_start", args=[org.slug, b.slug]),
            }
            for b in org.bundles.select_related("live_version").filter(live_version__isnull=False)
            if (live := b.live_version) is not None
            # A bundle is offered only while every procedure in it accepts filings.
            and set(live.procedure_slugs) <= open_slugs
        ]
        if procedures or bundles:
            organizations.append({"org": org, "procedures": procedures, "bundles": bundles})
    return render(request, "forms_engine/home.html", {"organizations": organizations})


def _fee_summary(spec, lang):
    if spec.fee is None:
        return None
    return {
        "timing": spec.fee.timing,
        "methods": spec.fee.methods,
        "items": [
            {
                "label": i.label.get(lang),
                "amount": i.amount,
                "conditional": i.when is not None or i.quantity is not None,
            }
            for i in spec.fee.items
        ],
    }


def _start_info(version: m.ProcedureVersion, lang: str) -> dict:
    spec = services.version_spec(version)
    return {
        "title": spec.title.get(lang),
        "description": text_of(spec.description, lang),
        "department": version.department,
        "accepting": spec.accepting,
        "fee": _fee_summary(spec, lang),
        "login": spec.login,
        "state": services.procedure_acceptance(spec, version.procedure),
        "pages": len(spec.pages),
    }


@require_http_methods(["GET", "POST"])
def procedure_start(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    procedure = get_object_or_404(
        m.Procedure.objects.select_related("organization", "live_version__department"),
        organization__slug=org,
        slug=slug,
        live_version__isnull=False,
    )
    return _start(request, procedure.organization, [procedure.live_version], None)


@require_http_methods(["GET", "POST"])
def bundle_start(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    bundle = get_object_or_404(
        m.Bundle.objects.select_related("organization", "live_version"),
        organization__slug=org,
        slug=slug,
        live_version__isnull=False,
    )
    live = bundle.live_version
    assert live is not None  # filtered above
    versions = []
    for proc_slug in live.procedure_slugs:
        proc = get_object_or_404(
            m.Procedure.objects.select_related("live_version__department"),
            organization=bundle.organization,
            slug=proc_slug,
            live_version__isnull=False,
        )
        versions.append(proc.live_version)
    return _start(request, bundle.organization, versions, live)


def _start(request, org, versions, bundle_version) -> HttpResponse:
    lang = _lang()
    infos = [_start_info(v, lang) for v in versions]
    resident = _resident(request)
    needs_login = any(i["login"] == "required" for i in infos) and resident is None
    closed = next((i["state"] for i in infos if i["state"] != "open"), None)
    in_progress = _open_draft(request, versions, bundle_version)
    if request.method == "POST" and in_progress and request.POST.get("_continue"):
        return redirect(_continue_url(in_progress))
    if request.method == "POST" and not closed and not needs_login:
        # Each start writes a draft: a script must not fill the database with them.
        if not ratelimit_hit(request, "start"):
            return limited_response(request, "start")
        try:
            draft = services.draft_start(versions, bundle_version=bundle_version, resident=resident)
        except services.FilingError as exc:
            closed = exc.code
        else:
            _remember_draft(request, draft)
            return redirect(_first_step_url(draft))
    context = {
        "org": org,
        "bundle": bundle_version,
        "title": bundle_version.display_title if bundle_version else infos[0]["title"],
        "description": m.localized(bundle_version.description, lang)
        if bundle_version
        else infos[0]["description"],
        "infos": infos,
        "closed": closed,
        "closed_message": ACCEPTANCE_MESSAGES[closed]() if closed else "",
        "needs_login": needs_login,
        "resident": resident,
        "in_progress": in_progress,
    }
    return render(request, "forms_engine/start.html", context)


def _open_draft(request, versions, bundle_version) -> m.Draft | None:
    """This browser's open filing of the same procedure (or bundle), if any: the start
    page offers to continue it rather than silently starting over."""
    ids = [d for d in request.session.get(SESSION_DRAFTS, [])]
    if not ids:
        return None
    procedures = [v.procedure_id for v in versions]
    candidates = m.Draft.objects.filter(pk__in=ids, status=m.Draft.Status.OPEN)
    if bundle_version is not None:
        candidates = candidates.filter(bundle_version__bundle_id=bundle_version.bundle_id)
    else:
        candidates = candidates.filter(bundle_version__isnull=True)
    candidates = candidates.order_by("-updated_at")
    for draft in candidates:
        pinned = [services.procedure_version_get(pk).procedure_id for pk in draft.version_ids]
        if pinned == procedures:
            return draft
    return None
