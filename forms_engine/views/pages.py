"""One page of a filing: show it, read it, and carry out its actions."""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from forms_engine import models as m
from forms_engine import services, uploads
from forms_engine.filing import (
    FilingView,
    Step,
    page_action,
    process_page,
    raw_from_answers,
    render_fields,
)
from forms_engine.ratelimit import hit as ratelimit_hit

from .common import (
    _ctx,
    _draft_for,
    _lang,
    _step_url,
    csrf_refusal,
    files_removed_notices,
    unpublished_notice,
)


def _progress(view: FilingView, step: Step, steps: list[Step] | None = None) -> dict:
    steps = steps if steps is not None else view.steps()
    keys = [s.key for s in steps]
    index = keys.index(step.key) if step.key in keys else 0
    # A page behind a condition that does not hold now may still be added by a later
    # answer: the total then says so, instead of silently changing from 3 to 4.
    shown = set(keys)
    may_grow = any(
        page.show_if is not None and f"{position}.{page.id}" not in shown
        for position, spec in enumerate(view.specs)
        for page in spec.pages
    )
    return {
        # As text: the page shows each number three times, and Django localises every int
        # a template shows (about 40,000 instructions each, docs/performance.md); these
        # are small counts, which localisation would write the same way.
        "current": str(index + 1),
        "total": str(len(steps) + 1),
        "steps": steps,
        "index": index,
        "may_grow": may_grow,
    }


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
        "unpublished_notice": unpublished_notice(draft),
        "file_notices": files_removed_notices(draft, _page_file_keys(step))
        if any(
            f.type == "file" or any(c.type == "file" for c in f.fields) for f in step.page.fields
        )
        else [],
    }


def _page_file_keys(step: Step) -> dict[str, str]:
    """The attachment field keys of a page's file inputs (a group's children too)."""
    keys = {}
    for f in step.page.fields:
        for c in [f, *f.fields]:
            if c.type == "file":
                keys[f"{step.position}.{c.id}"] = c.id
    return keys


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
        room = services.draft_text_room(draft, step.key)
        result = process_page(view, step, request.POST, ctx, validate=False, text_limit=room)
        if not result.too_much_text:
            try:
                services.draft_save_pending(draft, step.key, result.raw)
            except services.FilingError:
                pass  # past the draft's text budget: the page keeps what it held
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
def filing_page(request: HttpRequest, draft_id, position: int, page_id: str) -> HttpResponseBase:
    draft = _draft_for(request, draft_id, with_unpublished=request.method == "GET")
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
        refusal = csrf_refusal(request)
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
            raw = raw_from_answers(view, step)
        context = _page_context(request, draft, view, step, raw, {}, [], ctx, steps)
        return render(request, "forms_engine/page.html", context)

    action = request.POST.get("_action", "next")
    # The whole draft's text budget, checked on the raw input before anything normalises
    # it (or stores a file of the page): past it, nothing of this post is kept.
    room = services.draft_text_room(draft, step.key)
    try:
        return _post(request, draft, view, step, steps, ctx, action, room)
    except services.FilingError as exc:
        if exc.code != "too_much_text":
            raise
        # Another tab filled the draft meanwhile (the check under the row lock): the page
        # as the draft holds it.
        raw = draft.pending.get(step.key)
        if raw is None:
            raw = raw_from_answers(view, step)
        return _too_much_text(request, draft, view, step, raw, ctx, action)


def _too_much_text(request, draft, view, step, raw, ctx, action) -> HttpResponse:
    if action == "autosave":
        return HttpResponse(status=413)
    context = _page_context(request, draft, view, step, raw, {}, [], ctx)
    context["page_error"] = _(
        "This application cannot hold more text: at most %(max)s characters in all. "
        "What you entered on this page was not saved. Shorten it (or what you entered on "
        "other pages) and send it again."
    ) % {"max": f"{settings.DRAFT_TEXT_MAX_CHARS:,}"}
    return render(request, "forms_engine/page.html", context, status=413)


def _post(request, draft, view, step, steps, ctx, action, room) -> HttpResponse:
    if action == "next":
        result = process_page(view, step, request.POST, ctx, text_limit=room)
        if result.too_much_text:
            return _too_much_text(request, draft, view, step, result.raw, ctx, action)
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
    result = process_page(view, step, request.POST, ctx, validate=False, text_limit=room)
    if result.too_much_text:
        return _too_much_text(request, draft, view, step, result.raw, ctx, action)
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
