"""Resident-facing views: thin; the work is in forms_engine.filing and forms_engine.services."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from . import models as m
from . import normalize, postal, services, uploads
from .fields import Ctx, text_of
from .filing import (
    FilingView,
    Step,
    display_rows,
    fee_lines,
    page_action,
    process_page,
    render_fields,
)
from .ratelimit import hit as ratelimit_hit
from .ratelimit import limited_response, ratelimit

# The CSRF check of views that must set things up before the body is read (csrf_protect's
# own check, called by hand: it answers the failure response, or None).
_CSRF = CsrfViewMiddleware(lambda request: None)


# The session holds ids only: the drafts this browser started or resumed, and the signed-in
# resident. (Plus, for one redirect each, the sign-in page's return path and a postal notice.)
SESSION_DRAFTS = "drafts"
SESSION_RESIDENT = "resident"
STATUS_CODE_SHOWN_SECONDS = 600


def _lang() -> str:
    return (get_language() or "ja").split("-")[0]


def _resident(request: HttpRequest) -> m.Resident | None:
    rid = request.session.get(SESSION_RESIDENT)
    if not rid:
        return None
    return m.Resident.objects.filter(pk=rid).first()


def _remember_draft(request: HttpRequest, draft: m.Draft) -> None:
    drafts = [d for d in request.session.get(SESSION_DRAFTS, []) if d != str(draft.pk)]
    drafts.append(str(draft.pk))
    request.session[SESSION_DRAFTS] = drafts[-20:]


def _draft_for(request: HttpRequest, draft_id) -> m.Draft:
    """A draft this browser may open: one it started or resumed, or its resident's."""
    try:
        draft = m.Draft.objects.get(pk=draft_id)
    except m.Draft.DoesNotExist:
        raise Http404 from None
    allowed = str(draft.pk) in request.session.get(SESSION_DRAFTS, [])
    if not allowed and draft.resident_id:
        allowed = draft.resident_id == request.session.get(SESSION_RESIDENT)
    if not allowed:
        raise Http404
    return draft


def _error(request, title: str, message: str, status: int = 400) -> HttpResponse:
    return render(
        request, "forms_engine/error.html", {"title": title, "message": message}, status=status
    )


ACCEPTANCE_MESSAGES = {
    "not_open": lambda: _("This procedure is not accepting applications yet."),
    "closed": lambda: _("This procedure is no longer accepting applications."),
    "full": lambda: _("This procedure has reached its capacity and accepts no more applications."),
    "fee_invalid": lambda: _(
        "The fee cannot be calculated from these answers. Check the quantities you entered."
    ),
}


# ---- home and start pages ---------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    organizations = []
    for org in m.Organization.objects.all():
        procedures = []
        open_slugs = set()
        for proc in org.procedures.select_related("live_version").filter(
            live_version__isnull=False
        ):
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
                "title": b.live_version.display_title,
                "url": reverse("bundle_start", args=[org.slug, b.slug]),
            }
            for b in org.bundles.select_related("live_version").filter(live_version__isnull=False)
            # A bundle is offered only while every procedure in it accepts filings.
            if set(b.live_version.procedure_slugs) <= open_slugs
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
    versions = []
    for proc_slug in bundle.live_version.procedure_slugs:
        proc = get_object_or_404(
            m.Procedure.objects.select_related("live_version__department"),
            organization=bundle.organization,
            slug=proc_slug,
            live_version__isnull=False,
        )
        versions.append(proc.live_version)
    return _start(request, bundle.organization, versions, bundle.live_version)


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
    candidates = m.Draft.objects.filter(
        pk__in=ids,
        status=m.Draft.Status.OPEN,
        bundle_version__bundle_id=bundle_version.bundle_id if bundle_version else None,
    ).order_by("-updated_at")
    for draft in candidates:
        pinned = [services.procedure_version_get(pk).procedure_id for pk in draft.version_ids]
        if pinned == procedures:
            return draft
    return None


def _step_url(draft: m.Draft, step: Step) -> str:
    return reverse("filing_page", args=[draft.pk, step.position, step.page.id])


def _first_step_url(draft: m.Draft) -> str:
    view = services.draft_view(draft)
    return _step_url(draft, view.steps()[0])


def _continue_url(draft: m.Draft) -> str:
    """Where a resident picks a filing up again: the first page with unsaved typing or
    not answered yet, else the check page."""
    view = services.draft_view(draft)
    view.apply_shared()
    for step in view.steps():
        if step.key in draft.pending:
            return _step_url(draft, step)
        answers = view.answers_of(step.position)
        asked = [
            f
            for f in step.page.fields
            if f.type != "static" and view.shared_source(step.position, f) is None
        ]
        if asked and not any(f.id in answers for f in asked):
            return _step_url(draft, step)
    return reverse("filing_confirm", args=[draft.pk])


# ---- pages ------------------------------------------------------------------------------


def _ctx(request, draft: m.Draft, step: Step | None = None) -> Ctx:
    files: dict[str, list[dict]] = {}
    if step is not None:
        # Files already stored for this page: from what was last posted on it (a page that
        # did not validate yet keeps its uploads), else from its saved answers.
        pending = draft.pending.get(step.key)
        answers = draft.answers.get(str(step.position), {})

        def stored(value) -> list[dict]:
            if isinstance(value, dict):
                value = value.get("kept")
            return [v for v in (value or []) if isinstance(v, dict)]

        for f in step.page.fields:
            source = pending if pending is not None else answers
            if f.type == "file":
                files[f"f-{f.id}"] = stored(source.get(f.id))
            if f.type == "group":
                for i, entry in enumerate(source.get(f.id) or []):
                    for c in f.fields:
                        if c.type == "file":
                            files[f"f-{f.id}-{i}-{c.id}"] = stored((entry or {}).get(c.id))
    uploads = (
        {k: request.FILES.getlist(k) for k in request.FILES} if request.method == "POST" else {}
    )
    ctx = Ctx(lang=_lang(), today=timezone.localdate(), files=files, uploads=uploads)
    if request.method == "POST":
        ctx.refused = getattr(request, "uploads_refused", None) or {}
    if request.method == "GET":
        ctx.notices = request.session.pop("postal_notice", None) or {}
    if step is not None:
        ctx.store_upload = lambda f, upload: services.attachment_store(
            draft, step.position, f, upload
        )
    return ctx


def _progress(view: FilingView, step: Step, steps: list[Step] | None = None) -> dict:
    steps = steps if steps is not None else view.steps()
    keys = [s.key for s in steps]
    index = keys.index(step.key) if step.key in keys else 0
    return {"current": index + 1, "total": len(steps) + 1, "steps": steps, "index": index}


def _page_context(request, draft, view, step, raw, errors, error_fields, ctx, steps=None) -> dict:
    lang = _lang()
    spec = view.specs[step.position]
    progress = _progress(view, step, steps)
    steps = progress["steps"]
    index = progress["index"]
    return {
        "draft": draft,
        "spec_title": spec.title.get(lang),
        "bundle_title": draft.bundle_version.display_title if draft.bundle_version else "",
        "page_title": step.page.title.get(lang),
        "fields_html": render_fields(view, step, raw, errors, ctx),
        "errors": error_fields,
        "progress": progress,
        "back_url": _step_url(draft, steps[index - 1]) if index > 0 else "",
        "multipart": any(
            f.type == "file" or any(c.type == "file" for c in f.fields) for f in step.page.fields
        ),
        "return_to_confirm": request.GET.get("return") == "confirm"
        or request.POST.get("_return") == "confirm",
        "organization": services.organization_get(draft.organization_id),
        "today_iso": ctx.today.isoformat(),
        "filing_form": True,
        "seen": draft.updated_at.isoformat(),
    }


def _keeps_typing_when_a_file_cannot_be_stored(view_func):
    """A full or read-only store refuses an upload: say so in the resident's language and
    keep what they typed on the page (as pending input), instead of a bare 500."""

    @functools.wraps(view_func)
    def wrapper(request: HttpRequest, draft_id, position: int, page_id: str) -> HttpResponse:
        try:
            return view_func(request, draft_id, position, page_id)
        except services.AttachmentNotStored:
            return _file_not_stored(request, draft_id, position, page_id)

    return wrapper


FILE_NOT_STORED_RETRY_SECONDS = 300


def _file_not_stored(request: HttpRequest, draft_id, position: int, page_id: str) -> HttpResponse:
    draft = _draft_for(request, draft_id)
    view = services.draft_view(draft)
    step = view.step(position, page_id)
    url = reverse("home")
    if step is not None and draft.status == m.Draft.Status.OPEN:
        ctx = _ctx(request, draft, step)
        ctx.uploads = {}  # the files were not stored; the rest of the page is kept
        result = process_page(view, step, request.POST, ctx, validate=False)
        services.draft_save_pending(draft, step.key, result.raw)
        url = _step_url(draft, step)
    response = render(
        request,
        "forms_engine/error.html",
        {
            "title": _("The file could not be stored"),
            "message": _(
                "The file could not be stored because of a problem on our side. "
                "What you entered on the page is kept. Try again later."
            ),
            "back_url": url,
        },
        status=503,
    )
    response["Retry-After"] = str(FILE_NOT_STORED_RETRY_SECONDS)
    return response


@csrf_exempt  # checked below, once the upload guard is in place: the check reads the body
@require_http_methods(["GET", "POST"])
@_keeps_typing_when_a_file_cannot_be_stored
def filing_page(request: HttpRequest, draft_id, position: int, page_id: str) -> HttpResponse:
    draft = _draft_for(request, draft_id)
    if draft.status != m.Draft.Status.OPEN:
        return redirect("filing_done", draft_id=draft.pk)
    view = services.draft_view(draft)
    step = view.step(position, page_id)
    if step is None:
        raise Http404
    if request.method == "POST":
        # Before anything reads the body: file parts only for this page's file inputs,
        # within its own limits; the rest is discarded while it arrives.
        uploads.guard_install(request, uploads.page_allowance(step.page))
        refusal = _CSRF.process_view(request, None, (), {})
        if refusal is not None:
            return refusal
    steps = view.steps()
    if step.key not in [s.key for s in steps]:
        # A page hidden by earlier answers: go to the first visible one after it.
        return redirect(_step_url(draft, steps[0]))
    ctx = _ctx(request, draft, step)

    if request.method == "GET":
        raw = draft.pending.get(step.key)
        if raw is None:
            raw = _raw_from_answers(view, step)
        context = _page_context(request, draft, view, step, raw, {}, [], ctx, steps)
        return render(request, "forms_engine/page.html", context)

    action = request.POST.get("_action", "next")
    if action == "next":
        result = process_page(view, step, request.POST, ctx)
        if result.errors:
            services.draft_save_pending(draft, step.key, result.raw)
            context = _page_context(
                request, draft, view, step, result.raw, result.errors, result.error_fields, ctx
            )
            return render(request, "forms_engine/page.html", context, status=200)
        services.draft_save_page(
            draft, step.key, step.position, result.values, [f.id for f in step.page.fields]
        )
        view = services.draft_view(draft)
        view.apply_shared()
        if request.POST.get("_return") == "confirm":
            return redirect("filing_confirm", draft_id=draft.pk)
        steps = view.steps()
        keys = [s.key for s in steps]
        index = keys.index(step.key) if step.key in keys else -1
        if index + 1 < len(steps):
            return redirect(_step_url(draft, steps[index + 1]))
        return redirect("filing_confirm", draft_id=draft.pk)

    # Every other action keeps what was typed without validating it.
    result = process_page(view, step, request.POST, ctx, validate=False)
    raw = result.raw
    if action == "back":
        services.draft_save_pending(draft, step.key, raw)
        index = [s.key for s in steps].index(step.key)
        target = (
            _step_url(draft, steps[index - 1])
            if index > 0
            else reverse("filing_restart", args=[draft.pk])
        )
        return redirect(target)
    if action == "save":
        services.draft_save_pending(draft, step.key, raw)
        return redirect("filing_save", draft_id=draft.pk)
    if action == "autosave":  # sent by the browser as the resident leaves the page
        services.draft_save_pending(
            draft, step.key, raw, unless_changed_since=request.POST.get("_seen", "")
        )
        return HttpResponse(status=204)
    if action.startswith("lang:"):
        services.draft_save_pending(draft, step.key, raw)
        response = redirect(request.get_full_path())
        language = action[len("lang:") :]
        if language in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
                secure=settings.LANGUAGE_COOKIE_SECURE,
            )
        return response
    outcome = page_action(
        step, raw, action, postal_allowed=lambda: ratelimit_hit(request, "postal")
    )
    for file_id in outcome.removed_files:
        services.attachment_remove(draft, file_id)
    if outcome.notices:
        request.session["postal_notice"] = outcome.notices
    services.draft_save_pending(draft, step.key, raw)
    url = _step_url(draft, step)
    if request.POST.get("_return") == "confirm":
        url += "?return=confirm"
    return redirect(url + (f"#{outcome.anchor}" if outcome.anchor else ""))


def _raw_from_answers(view: FilingView, step: Step) -> dict:
    from .fields import FIELD_TYPES

    answers = view.answers_of(step.position)
    raw = {}
    for f in step.page.fields:
        value = answers.get(f.id)
        if value is None and f.profile:
            # Once-only in a bundle: asked again (stricter rules here), it starts from the
            # answer given to the earlier procedure.
            twin = view.profile_twin(step.position, f)
            if twin is not None:
                value = view.answers_of(twin[0]).get(twin[1].id)
        if f.type == "group" and value is None:
            value = [{} for _i in range(f.param("repeat_min", 0) or (1 if f.required else 0))]
        raw[f.id] = FIELD_TYPES[f.type].to_raw(f, value)
    return raw


def body_capped(max_bytes: int):
    """Refuse a request whose body is larger than `max_bytes` with 413, before anything
    reads it. CSRF protection would read and parse a POST body before any view
    decorator runs, so the wrapped view is exempt from the middleware and checks CSRF
    itself (`csrf_protect`) once the size is known to be small."""

    def decorator(view_func):
        protected = csrf_protect(view_func)

        @csrf_exempt
        @functools.wraps(view_func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = max_bytes + 1
            if length > max_bytes:
                return JsonResponse({"error": "too_large"}, status=413)
            return protected(request, *args, **kwargs)

        return wrapper

    return decorator


# A postal code (and a CSRF token, when sent in the body) fits many times over.
POSTAL_BODY_MAX_BYTES = 1024


@body_capped(POSTAL_BODY_MAX_BYTES)
@require_POST
def postal_lookup(request: HttpRequest) -> JsonResponse:
    """Postal code -> address candidates for the JavaScript enhancement (POST: a postal code
    is part of an address and stays out of URLs and logs)."""
    from .ratelimit import hit

    if not hit(request, "postal"):
        return JsonResponse({"error": "rate_limited"}, status=429)
    try:
        code = normalize.normalize_postal_code(request.POST.get("code", ""))
    except normalize.Invalid:
        return JsonResponse({"results": [], "error": "invalid"}, status=400)
    return JsonResponse({"results": postal.lookup(code)})


# ---- confirmation and completion --------------------------------------------------------


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
    ctx = Ctx(lang=lang, today=timezone.localdate())
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
    }


@ratelimit("submit")
def _submit(request: HttpRequest, draft_id) -> HttpResponse:
    try:
        services.submission_complete(
            draft_id,
            save_to_profile=request.POST.get("save_to_profile") == "1",
            language=_lang(),
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
    if time.time() > draft.receipt.created_at.timestamp() + STATUS_CODE_SHOWN_SECONDS:
        return None
    return services.status_code_for(draft.receipt.number)


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


# ---- save for later, resume, sign-in ----------------------------------------------------


def _contact_email(draft: m.Draft) -> str:
    view = services.draft_view(draft)
    for position, spec in enumerate(view.specs):
        value = view.answers_of(position).get(spec.contact_email)
        if isinstance(value, str):
            return value
    return draft.resident.email if draft.resident_id else ""


@require_http_methods(["GET", "POST"])
def filing_save(request: HttpRequest, draft_id) -> HttpResponse:
    draft = _draft_for(request, draft_id)
    email = request.POST.get("email", "") if request.method == "POST" else _contact_email(draft)
    error = ""
    if request.method == "POST":
        try:
            email = normalize.normalize_email(email)
        except normalize.Invalid:
            email = email[: normalize.EMAIL_MAX_LENGTH]
            error = _("Enter an email address such as name@example.jp.")
        else:
            from .ratelimit import hit

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


def login_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "forms_engine/login_sent.html", {})


@require_http_methods(["GET", "POST"])
def resume(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not use up the token.
    if request.method == "GET":
        return render(request, "forms_engine/resume.html", {})
    draft = services.draft_resume(token)
    if draft is None:
        return _error(
            request,
            _("This link cannot be used"),
            _(
                "The link has expired or was already used. Start again from the procedure list, or ask for a new link."
            ),
        )
    # A new session key whenever the browser gains a filing: a key planted before (session
    # fixation) or copied earlier must not open it.
    request.session.cycle_key()
    _remember_draft(request, draft)
    return redirect(_continue_url(draft))


@ratelimit("login_link")
@require_http_methods(["GET", "POST"])
def login_request(request: HttpRequest) -> HttpResponse:
    error = ""
    email = ""
    if request.method == "POST":
        email = request.POST.get("email", "")
        try:
            email = normalize.normalize_email(email)
        except normalize.Invalid:
            email = email[: normalize.EMAIL_MAX_LENGTH]
            error = _("Enter an email address such as name@example.jp.")
        else:
            services.resident_login_link_send(email, _lang())
            return redirect("login_sent")
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = ""
    request.session["login_next"] = next_url
    return render(request, "forms_engine/login.html", {"email": email, "error": error})


@require_http_methods(["GET", "POST"])
def login_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        # Say whose account this is: a link someone else forwarded signs in as them.
        email = services.token_email("login", token)
        return render(request, "forms_engine/login_confirm.html", {"email": email})
    resident = services.resident_login(token)
    if resident is None:
        return _error(
            request,
            _("This link cannot be used"),
            _("The sign-in link has expired or was already used. Ask for a new one."),
        )
    # A new session key on every sign-in: a key planted or copied before must not be signed in.
    request.session.cycle_key()
    request.session[SESSION_RESIDENT] = resident.pk
    # Filings started before signing in stay with this browser only: signing in never
    # hands them to an account (the link may be someone else's). New ones are prefilled.
    return redirect(request.session.pop("login_next", "") or "home")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    # flush() deletes the session on the server, so every copy of the cookie stops working
    # (its filings, its sign-in, a status code on screen), and hands out a new empty one.
    request.session.flush()
    return redirect("home")


# ---- status -----------------------------------------------------------------------------


@ratelimit("status")
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    context: dict = {"number": "", "error": ""}
    if request.method == "POST":
        number = request.POST.get("number", "")
        code = request.POST.get("code", "")
        context["number"] = number
        receipt = services.receipt_lookup(number, code) if number.strip() and code.strip() else None
        if not (number.strip() and code.strip()):
            context["error"] = _("Enter the receipt number and the status code.")
        elif receipt is None:
            context["error"] = _("No application matches this receipt number and status code.")
        else:
            lang = _lang()
            context["receipt"] = receipt
            context["submissions"] = [
                {
                    "number": s.number,
                    "title": m.localized(s.procedure_version.title, lang),
                    "status": s.get_status_display(),
                    "submitted_at": s.submitted_at,
                }
                for s in receipt.submissions.select_related("procedure_version").order_by("number")
            ]
    return render(request, "forms_engine/status.html", context)


# ---- health and outages -----------------------------------------------------------------


@never_cache
def healthz_live(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches nothing else (see forms_engine.health)."""
    return JsonResponse({"ok": True})


@never_cache
def healthz_ready(request: HttpRequest) -> HttpResponse:
    """Readiness (and /healthz): 503 naming the dependencies that did not answer."""
    from . import health

    failed = health.readiness_failures()
    return JsonResponse({"ok": not failed, "failed": failed}, status=503 if failed else 200)


# Seconds a resident (or a crawler) is asked to wait after an outage page.
UNAVAILABLE_RETRY_AFTER = 60


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """handler500: an outage of the database (or of the cache the sessions are read
    through) is a 503 page in the resident's language with Retry-After; anything else
    stays Django's 500. Called while the exception is being handled."""
    import sys

    from django.views import defaults

    if _is_outage(sys.exc_info()[1]):
        return service_unavailable(request)
    return defaults.server_error(request, *args, **kwargs)


def _is_outage(exc: BaseException | None) -> bool:
    from django.db import InterfaceError, OperationalError

    outages: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis comes with celery[redis]
        pass
    else:
        outages += (RedisConnectionError, RedisTimeoutError)
    seen = 0
    while exc is not None and seen < 10:  # follow `raise ... from` and implicit chains
        if isinstance(exc, outages):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 page. Rendered without a request context (no context processor, session
    or database), in the language the resident chose with the switch."""
    from django.template import loader
    from django.utils import translation

    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language):
        body = loader.get_template("503.html").render({})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response
