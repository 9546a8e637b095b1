"""The resident's pages of a draft as a dry run (console.preview holds the logic): at
phone and desktop width side by side (iframes of the same pages), in Japanese and
English, conditions live through the site's own scripts. Nothing is stored but the
session's dry-run answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from console import services
from console.auth import organization_admin_required
from console.models import ProcedureDraft
from console.preview import PreviewState, dry_run_upload
from forms_engine import services as core
from forms_engine import uploads
from forms_engine.fields import Ctx
from forms_engine.filing import (
    FilingView,
    Step,
    display_rows,
    fee_lines,
    page_action,
    process_page,
    raw_from_answers,
    render_fields,
)
from forms_engine.middleware import csp
from forms_engine.procedure_format.model import ProcedureSpec
from forms_engine.ratelimit import hit as ratelimit_hit
from forms_engine.views.common import csrf_refusal
from inbox.audit import audit_log

from .procedures import _draft_or_404

WIDTHS = (390, 1280)


def _framed(response: HttpResponse) -> HttpResponse:
    """The preview pages are shown in the console's own frames (same origin only)."""
    response["Content-Security-Policy"] = csp().replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    return response


def _language(lang: str) -> str:
    if lang not in dict(settings.LANGUAGES):
        raise Http404
    return lang


@never_cache
@organization_admin_required
def preview(request: HttpRequest, draft_id: int) -> HttpResponse:
    """The preview frames: each page at phone and desktop width."""
    draft = _draft_or_404(request, draft_id)
    lang = _language(request.GET.get("lang", "ja"))
    errors = services.draft_check(draft)
    audit_log(request, "console.preview", draft, slug=draft.slug, lang=lang)
    return render(
        request,
        "console/preview.html",
        {
            "draft": draft,
            "errors": errors,
            "lang": lang,
            "languages": settings.LANGUAGES,
            "widths": WIDTHS,
            "src": reverse("console:preview_start", args=[draft.pk, lang]),
        },
    )


def _spec_or_broken(
    request: HttpRequest, draft: ProcedureDraft
) -> tuple[ProcedureSpec | None, HttpResponse | None]:
    spec, errors = core.procedure_source_check(draft.organization, draft.slug, draft.text)
    if spec is None:
        response = render(
            request,
            "console/preview_broken.html",
            {"draft": draft, "errors": errors},
            status=409,
        )
        return None, _framed(response)
    return spec, None


def _page_url(draft: ProcedureDraft, lang: str, step: Step) -> str:
    return reverse("console:preview_page", args=[draft.pk, lang, step.page.id])


@never_cache
@xframe_options_sameorigin
@organization_admin_required
def preview_start(request: HttpRequest, draft_id: int, lang: str) -> HttpResponse:
    draft = _draft_or_404(request, draft_id)
    lang = _language(lang)
    with translation.override(lang):
        spec, broken = _spec_or_broken(request, draft)
        if broken is not None:
            return broken
        assert spec is not None
        if request.GET.get("restart"):
            PreviewState(request, draft.pk, services.text_hash(draft.text)).forget()
        state = PreviewState(request, draft.pk, services.text_hash(draft.text))
        steps = state.view(spec).steps()
        if not steps:  # every page hidden: straight to the check page
            return HttpResponseRedirect(reverse("console:preview_confirm", args=[draft.pk, lang]))
        return HttpResponseRedirect(_page_url(draft, lang, steps[0]))


def _ctx(request: HttpRequest, lang: str) -> Ctx:
    uploads = (
        {k: request.FILES.getlist(k) for k in request.FILES} if request.method == "POST" else {}
    )
    ctx = Ctx(lang=lang, today=timezone.localdate(), uploads=uploads)
    ctx.store_upload = dry_run_upload
    return ctx


def _page_context(
    draft: ProcedureDraft,
    lang: str,
    view: FilingView,
    step: Step,
    raw: dict[str, Any],
    errors: dict[str, list[str]],
    error_fields: list[tuple[str, str]],
    ctx: Ctx,
) -> dict[str, Any]:
    steps = view.steps()
    keys = [s.key for s in steps]
    index = keys.index(step.key) if step.key in keys else 0
    spec = view.specs[0]
    return {
        "draft": draft,
        "lang": lang,
        "spec_title": spec.title.get(lang),
        "page_title": step.page.title.get(lang),
        "fields_html": render_fields(view, step, raw, errors, ctx),
        "errors": error_fields,
        "progress": {"current": index + 1, "total": len(steps) + 1},
        "multipart": any(
            f.type == "file" or any(c.type == "file" for c in f.fields) for f in step.page.fields
        ),
        "today_iso": ctx.today.isoformat(),
        "restart_url": reverse("console:preview_start", args=[draft.pk, lang]) + "?restart=1",
    }


@never_cache
@xframe_options_sameorigin
@csrf_exempt  # checked below, once the upload guard is in place: the check reads the body
@require_http_methods(["GET", "POST"])
@organization_admin_required
def preview_page(request: HttpRequest, draft_id: int, lang: str, page_id: str) -> HttpResponseBase:
    draft = _draft_or_404(request, draft_id)
    lang = _language(lang)
    with translation.override(lang):
        spec, broken = _spec_or_broken(request, draft)
        if broken is not None:
            return broken
        assert spec is not None
        state = PreviewState(request, draft.pk, services.text_hash(draft.text))
        view = state.view(spec)
        step = view.step(0, page_id)
        if step is None:
            raise Http404
        if request.method == "POST":
            # The page's own file inputs within their limits, as on the real page (the
            # files are read for their names only and never stored).
            uploads.guard_install(request, uploads.page_allowance(step.page))
            refusal = csrf_refusal(request)
            if refusal is not None:
                return refusal
        steps = view.steps()
        keys = [s.key for s in steps]
        if step.key not in keys:
            # A page hidden by the answers so far: the first visible one (or the check page).
            if not steps:
                return HttpResponseRedirect(
                    reverse("console:preview_confirm", args=[draft.pk, lang])
                )
            return HttpResponseRedirect(_page_url(draft, lang, steps[0]))
        ctx = _ctx(request, lang)
        if request.method == "GET":
            raw = state.pending.get(step.key)
            if raw is None:
                raw = raw_from_answers(view, step)
            context = _page_context(draft, lang, view, step, raw, {}, [], ctx)
            return _framed(render(request, "console/preview_page.html", context))
        action = request.POST.get("_action", "next")
        if action == "next":
            result = process_page(view, step, request.POST, ctx)
            if result.errors:
                state.save_pending(step.key, result.raw)
                context = _page_context(
                    draft, lang, view, step, result.raw, result.errors, result.error_fields, ctx
                )
                return _framed(render(request, "console/preview_page.html", context))
            state.save_page(step.key, result.values, [f.id for f in step.page.fields])
            view = state.view(spec)
            steps = view.steps()
            keys = [s.key for s in steps]
            index = keys.index(step.key) if step.key in keys else -1
            if index + 1 < len(steps):
                return HttpResponseRedirect(_page_url(draft, lang, steps[index + 1]))
            return HttpResponseRedirect(reverse("console:preview_confirm", args=[draft.pk, lang]))
        result = process_page(view, step, request.POST, ctx, validate=False)
        state.save_pending(step.key, result.raw)
        if action == "back":
            index = keys.index(step.key)
            if index > 0:
                return HttpResponseRedirect(_page_url(draft, lang, steps[index - 1]))
            return HttpResponseRedirect(_page_url(draft, lang, step))
        outcome = page_action(
            step, result.raw, action, postal_allowed=lambda: ratelimit_hit(request, "postal")
        )
        if outcome.notices:
            request.session["postal_notice"] = outcome.notices
        state.save_pending(step.key, result.raw)
        url = _page_url(draft, lang, step)
        return HttpResponseRedirect(url + (f"#{outcome.anchor}" if outcome.anchor else ""))


@never_cache
@xframe_options_sameorigin
@require_http_methods(["GET", "POST"])
@organization_admin_required
def preview_confirm(request: HttpRequest, draft_id: int, lang: str) -> HttpResponse:
    """The check page of the dry run; "submit" shows what filing would do, and files
    nothing."""
    draft = _draft_or_404(request, draft_id)
    lang = _language(lang)
    with translation.override(lang):
        spec, broken = _spec_or_broken(request, draft)
        if broken is not None:
            return broken
        assert spec is not None
        state = PreviewState(request, draft.pk, services.text_hash(draft.text))
        view = state.view(spec)
        ctx = Ctx(lang=lang, today=timezone.localdate())
        problems = core.view_problems(view)
        answers = view.visible_answers(0)
        lines = fee_lines(spec, answers, lang)
        steps = view.steps()
        context = {
            "draft": draft,
            "lang": lang,
            "spec_title": spec.title.get(lang),
            "pages": [
                dict(p, url=_page_url(draft, lang, p["step"])) for p in display_rows(view, 0, ctx)
            ],
            "fee_lines": lines,
            "fee_total": sum(line["subtotal"] for line in lines),
            "fee": spec.fee,
            "problems": problems,
            "back_url": _page_url(draft, lang, steps[-1]) if steps else "",
            "progress": {"current": len(steps) + 1, "total": len(steps) + 1},
            "restart_url": reverse("console:preview_start", args=[draft.pk, lang]) + "?restart=1",
            "submitted": False,
        }
        if request.method == "POST":
            if problems:
                # A page is missing or no longer valid: show it, as the real check page does.
                key = problems[0].partition(":")[0]
                step = next((s for s in steps if s.key == key), steps[0])
                return HttpResponseRedirect(_page_url(draft, lang, step))
            context["submitted"] = True
            audit_log(request, "console.preview_dry_run", draft, slug=draft.slug, lang=lang)
        return _framed(render(request, "console/preview_confirm.html", context))
