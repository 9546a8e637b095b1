"""The home page and the start pages of procedures and bundles, which create drafts."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
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
from .waiting import waiting_room

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


# The stored YAML of a version and of its organization: read only to parse a version the
# process has not seen yet (services.version_spec), never on every view.
_SOURCES = ("organization__source", "live_version__source")


@require_http_methods(["GET", "POST"])
@waiting_room("p")
def procedure_start(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    cached = _newcomer_page_lookup(request, org, slug)
    if cached is not None:
        return _newcomer_page(request, cached)
    # One query, without the YAML sources (the parsed spec is cached per version).
    procedure = get_object_or_404(
        m.Procedure.objects.select_related("organization", "live_version__department").defer(
            *_SOURCES
        ),
        organization__slug=org,
        slug=slug,
        live_version__isnull=False,
    )
    version = procedure.live_version
    assert version is not None  # filtered above
    version.procedure = procedure  # the same rows: no second query for them
    version.department.organization = procedure.organization
    return _start(request, procedure.organization, [version], None)


@require_http_methods(["GET", "POST"])
@waiting_room("b")
def bundle_start(request: HttpRequest, org: str, slug: str) -> HttpResponse:
    bundle = get_object_or_404(
        m.Bundle.objects.select_related("organization", "live_version").defer(
            "organization__source", "live_version__source"
        ),
        organization__slug=org,
        slug=slug,
        live_version__isnull=False,
    )
    live = bundle.live_version
    assert live is not None  # filtered above
    versions = []
    for proc_slug in live.procedure_slugs:
        proc = get_object_or_404(
            m.Procedure.objects.select_related("live_version__department").defer(
                "live_version__source"
            ),
            organization=bundle.organization,
            slug=proc_slug,
            live_version__isnull=False,
        )
        assert proc.live_version is not None  # filtered above
        proc.organization = bundle.organization
        proc.live_version.procedure = proc
        proc.live_version.department.organization = bundle.organization
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
    page_key = _newcomer_page_key(request, versions, bundle_version, lang, closed)
    if page_key is not None:
        cached = _NEWCOMER_PAGES.get(page_key)
        if cached is not None:
            return _newcomer_page(request, cached)
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
    response = render(request, "forms_engine/start.html", context)
    if page_key is not None and response.status_code == 200:
        _newcomer_page_keep(page_key, response.content.decode())
    return response


# The start page as a newcomer sees it (no session: not signed in, no draft in progress) is
# the same for everyone but its CSRF tokens: rendered once per version, language, state and
# path in each worker, it is served with fresh tokens. This is where every rush begins.
_NEWCOMER_PAGES: dict[tuple, str] = {}
_NEWCOMER_PAGES_MAX = 256
_TOKEN_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_TOKEN_MARK = "\x00csrf\x00"


def _is_newcomer_get(request) -> bool:
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not request.META.get("QUERY_STRING")
    )


def _newcomer_page_key(request, versions, bundle_version, lang, closed) -> tuple | None:
    if not _is_newcomer_get(request):
        return None
    return (
        tuple((v.pk, v.content_hash) for v in versions),
        bundle_version.pk if bundle_version else None,
        lang,
        closed,
        request.path,
    )


def _newcomer_page_lookup(request, org: str, slug: str) -> str | None:
    """The kept start page of this procedure as a newcomer sees it now, or None (not a
    newcomer, no such live procedure, or not rendered yet in this worker: the full view
    then runs and keeps it). The key is the one the full view keeps the page under, the
    state computed from the live row exactly as the full view does."""
    if not _NEWCOMER_PAGES or not _is_newcomer_get(request):
        return None
    row = services.start_row(org, slug)
    if row is None:
        return None
    spec = services.cached_version_spec(row.version_id, row.content_hash)
    if spec is None:
        return None
    procedure = m.Procedure(
        id=row.procedure_id, unpublished_at=row.unpublished_at, filed_count=row.filed_count
    )
    state = services.procedure_acceptance(spec, procedure)
    closed = None if state == "open" else state
    key = (((row.version_id, row.content_hash),), None, _lang(), closed, request.path)
    return _NEWCOMER_PAGES.get(key)


def _newcomer_page_keep(key: tuple, html: str) -> None:
    if len(_NEWCOMER_PAGES) >= _NEWCOMER_PAGES_MAX:
        _NEWCOMER_PAGES.clear()  # bounded: versions and paths are few, this is rare
    _NEWCOMER_PAGES[key] = _TOKEN_INPUT.sub(rf"\g<1>{_TOKEN_MARK}\g<2>", html)


def _newcomer_page(request, cached: str) -> HttpResponse:
    parts = cached.split(_TOKEN_MARK)
    html = parts[0]
    for part in parts[1:]:  # a fresh masked token for each form, as {% csrf_token %} does
        html += get_token(request) + part
    return HttpResponse(html)


def newcomer_pages_clear() -> None:
    _NEWCOMER_PAGES.clear()


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
