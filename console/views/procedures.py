"""The procedures page, writing and checking a file, publishing and unpublishing, the
version history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from console import services
from console.auth import console_org, organization_admin_required
from console.forms import UPLOAD_MAX_BYTES, NewProcedureForm, SourceForm
from console.models import ProcedureDraft, Publication
from forms_engine import models as m
from forms_engine import services as core
from forms_engine import uploads
from forms_engine.procedure_format.model import LoadError
from forms_engine.views.common import csrf_refusal
from inbox.audit import audit_log


def _lang() -> str:
    return (get_language() or "ja").split("-")[0]


def _procedure_or_404(request: HttpRequest, procedure_id: int) -> m.Procedure:
    return get_object_or_404(
        m.Procedure.objects.select_related("live_version"),
        pk=procedure_id,
        organization=console_org(request),
    )


def _draft_or_404(request: HttpRequest, draft_id: int) -> ProcedureDraft:
    return get_object_or_404(
        ProcedureDraft.objects.select_related("organization", "author"),
        pk=draft_id,
        organization=console_org(request),
    )


@never_cache
@organization_admin_required
def procedure_list(request: HttpRequest) -> HttpResponse:
    org = console_org(request)
    lang = _lang()
    rows = []
    procedures = (
        m.Procedure.objects.filter(organization=org)
        .select_related("live_version")
        .annotate(filings=Count("submissions"))
        .order_by("slug")
    )
    for procedure in procedures:
        live = procedure.live_version
        spec = core.version_spec(live) if live is not None else None
        rows.append(
            {
                "procedure": procedure,
                "slug": procedure.slug,
                "title": spec.title.get(lang) if spec else procedure.slug,
                "live": live,
                "state": services.procedure_state(procedure),
                "accepting": spec.accepting if spec else None,
                "filings": procedure.filings,
                "url": reverse("procedure_start", args=[org.slug, procedure.slug]),
            }
        )
    drafts = ProcedureDraft.objects.filter(organization=org).select_related("author")
    # Procedures never published yet: their drafts, in the draft state.
    known = {row["procedure"].slug for row in rows}
    for draft in drafts:
        if draft.slug not in known:
            known.add(draft.slug)
            rows.append(
                {
                    "procedure": None,
                    "slug": draft.slug,
                    "draft": draft,
                    "title": draft.slug,
                    "live": None,
                    "state": "draft",
                    "accepting": None,
                    "filings": 0,
                    "url": "",
                }
            )
    return render(
        request,
        "console/procedure_list.html",
        {"rows": rows, "drafts": drafts, "org": org},
    )


@never_cache
@csrf_exempt  # checked below, once the upload guard is in place: the check reads the body
@require_http_methods(["GET", "POST"])
@organization_admin_required
def procedure_new(request: HttpRequest) -> HttpResponseBase:
    org = console_org(request)
    if request.method == "POST":
        # The one file part this form takes, within its limit; any other is dropped.
        uploads.guard_install(
            request, uploads.UploadAllowance({"upload": UPLOAD_MAX_BYTES}, (), UPLOAD_MAX_BYTES)
        )
        refusal = csrf_refusal(request)
        if refusal is not None:
            return refusal
    form = NewProcedureForm(request.POST or None, request.FILES or None, organization_id=org.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        base = None
        if data["start"] == "copy":
            base = data["copy_of"].live_version
            text = base.source
        elif data["start"] == "upload":
            text = data["upload_text"]
        else:
            text = services.blank_template(org)
        draft = services.draft_create(org, request.user, data["slug"], text)
        audit_log(
            request,
            "console.draft_create",
            draft,
            slug=draft.slug,
            start=data["start"],
            version_hash=services.text_hash(draft.text),
        )
        return HttpResponseRedirect(reverse("console:draft_edit", args=[draft.pk]))
    return render(
        request, "console/procedure_new.html", {"form": form}, status=400 if form.errors else 200
    )


def _numbered(text: str, errors: list[LoadError]) -> list[dict[str, Any]]:
    """The text's lines with their numbers and the errors on each (for the listing beside
    the textarea, which works without JavaScript)."""
    by_line: dict[int, list[LoadError]] = {}
    for error in errors:
        by_line.setdefault(error.line, []).append(error)
    return [
        {"number": i, "text": line, "errors": by_line.get(i, [])}
        for i, line in enumerate(
            text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1
        )
    ]


def _edit_context(
    draft: ProcedureDraft, form: SourceForm, errors: list[LoadError] | None, checked: bool
) -> dict[str, Any]:
    existing = m.Procedure.objects.filter(organization=draft.organization, slug=draft.slug).first()
    text = draft.text if not form.is_bound else source_of(form)
    return {
        "draft": draft,
        "form": form,
        "errors": errors or [],
        "checked": checked,
        "lines": _numbered(text, errors or []) if checked else [],
        "procedure": existing,
        "content_hash": services.text_hash(text),
    }


def source_of(form: SourceForm) -> str:
    return services.source_clean(str(form.data.get("text", "")))


@never_cache
@require_http_methods(["GET", "POST"])
@organization_admin_required
def draft_edit(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _draft_or_404(request, draft_id)
    if request.method == "GET":
        form = SourceForm(initial={"text": draft.text})
        errors = services.draft_check(draft)
        return render(request, "console/draft_edit.html", _edit_context(draft, form, errors, True))
    form = SourceForm(request.POST)
    if not form.is_valid():
        return render(
            request, "console/draft_edit.html", _edit_context(draft, form, None, False), status=400
        )
    action = request.POST.get("_action", "check")
    text = form.cleaned_data["text"]
    # Every action keeps what was typed: a file with errors is saved as a draft.
    services.draft_save(draft, text, request.user)
    audit_log(
        request,
        "console.draft_save",
        draft,
        slug=draft.slug,
        version_hash=services.text_hash(draft.text),
    )
    errors = services.draft_check(draft)
    if action == "publish":
        if errors:
            context = _edit_context(draft, SourceForm(initial={"text": draft.text}), errors, True)
            context["publish_refused"] = True
            return render(request, "console/draft_edit.html", context, status=400)
        try:
            published = services.draft_publish(draft, request.user)
        except core.ProcedureSourceInvalid as exc:  # changed meanwhile (organization.yaml)
            context = _edit_context(
                draft, SourceForm(initial={"text": draft.text}), exc.errors, True
            )
            context["publish_refused"] = True
            return render(request, "console/draft_edit.html", context, status=400)
        version = published.version
        audit_log(
            request,
            "console.publish",
            version,
            slug=draft.slug,
            version=version.number,
            version_hash=version.content_hash,
            changed=published.changed,
        )
        if published.changed:
            messages.success(
                request, _("Published as version %(number)s.") % {"number": version.number}
            )
        else:
            messages.info(
                request,
                _("The text is the same as the live version %(number)s: no new version.")
                % {"number": version.number},
            )
        return HttpResponseRedirect(
            reverse("console:procedure_detail", args=[version.procedure_id])
        )
    if action == "save":
        messages.success(request, _("Saved as a draft."))
        return HttpResponseRedirect(reverse("console:draft_edit", args=[draft.pk]))
    context = _edit_context(draft, SourceForm(initial={"text": draft.text}), errors, True)
    return render(request, "console/draft_edit.html", context)


@require_POST
@organization_admin_required
def draft_delete(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _draft_or_404(request, draft_id)
    audit_log(request, "console.draft_delete", draft, slug=draft.slug)
    draft.delete()
    return HttpResponseRedirect(reverse("console:procedure_list"))


@never_cache
@organization_admin_required
def procedure_detail(request: HttpRequest, procedure_id: int) -> HttpResponse:
    procedure = _procedure_or_404(request, procedure_id)
    versions = list(procedure.versions.order_by("-number"))
    publications = Publication.objects.filter(procedure=procedure)
    published_by: dict[int, Publication] = {}
    for publication in publications.order_by("created_at"):
        if publication.action == Publication.Action.PUBLISH:
            published_by[publication.version_id] = publication
    rows = [{"version": v, "publication": published_by.get(v.pk)} for v in versions]
    spec = core.version_spec(procedure.live_version) if procedure.live_version else None
    return render(
        request,
        "console/procedure_detail.html",
        {
            "procedure": procedure,
            "title": spec.title.get(_lang()) if spec else procedure.slug,
            "state": services.procedure_state(procedure),
            "rows": rows,
            "history": publications,
            "drafts": ProcedureDraft.objects.filter(
                organization=procedure.organization, slug=procedure.slug
            ),
            "in_progress": m.Draft.objects.filter(
                Q(status=m.Draft.Status.OPEN), draft_versions__version__procedure=procedure
            ).count(),
        },
    )


@require_POST
@organization_admin_required
def procedure_edit(request: HttpRequest, procedure_id: int) -> HttpResponse:
    """A draft of the live version (or the newest draft of the procedure, if there is one)."""
    procedure = _procedure_or_404(request, procedure_id)
    draft = ProcedureDraft.objects.filter(
        organization=procedure.organization, slug=procedure.slug
    ).first()
    if draft is None:
        live = procedure.live_version
        if live is None:
            raise Http404
        draft = services.draft_create(
            procedure.organization, request.user, procedure.slug, live.source, base_version=live
        )
        audit_log(
            request,
            "console.draft_create",
            draft,
            slug=draft.slug,
            start="edit",
            version_hash=live.content_hash,
        )
    return HttpResponseRedirect(reverse("console:draft_edit", args=[draft.pk]))


@require_POST
@organization_admin_required
def procedure_unpublish(request: HttpRequest, procedure_id: int) -> HttpResponse:
    procedure = _procedure_or_404(request, procedure_id)
    live = procedure.live_version
    if live is None:
        raise Http404
    changed = services.procedure_unpublish(procedure, request.user)
    audit_log(
        request,
        "console.unpublish",
        live,
        slug=procedure.slug,
        version=live.number,
        version_hash=live.content_hash,
        changed=changed,
    )
    messages.success(request, _("Unpublished: the procedure accepts no new applications."))
    return HttpResponseRedirect(reverse("console:procedure_detail", args=[procedure.pk]))


@require_POST
@organization_admin_required
def procedure_republish(request: HttpRequest, procedure_id: int) -> HttpResponse:
    """Publish the live version again (after an unpublish)."""
    procedure = _procedure_or_404(request, procedure_id)
    live = procedure.live_version
    if live is None:
        raise Http404
    try:
        published = services.procedure_republish(procedure, request.user)
    except core.ProcedureSourceInvalid:
        messages.error(request, _("The live version no longer passes the check: edit it first."))
        return HttpResponseRedirect(reverse("console:procedure_detail", args=[procedure.pk]))
    version, changed = published.version, published.changed
    audit_log(
        request,
        "console.publish",
        version,
        slug=procedure.slug,
        version=version.number,
        version_hash=version.content_hash,
        changed=changed,
    )
    messages.success(request, _("Published again: the procedure accepts applications."))
    return HttpResponseRedirect(reverse("console:procedure_detail", args=[procedure.pk]))


@never_cache
@organization_admin_required
def version_diff(request: HttpRequest, procedure_id: int) -> HttpResponse:
    procedure = _procedure_or_404(request, procedure_id)
    versions = {v.number: v for v in procedure.versions.all()}
    if not versions:
        raise Http404
    # Without a choice: the version before the newest against the newest.
    newest = max(versions)
    try:
        a = versions[int(request.GET.get("a") or max(newest - 1, 1))]
        b = versions[int(request.GET.get("b") or newest)]
    except (KeyError, ValueError):
        raise Http404 from None
    audit_log(request, "console.diff", procedure, a=a.number, b=b.number)
    return render(
        request,
        "console/version_diff.html",
        {
            "procedure": procedure,
            "a": a,
            "b": b,
            "lines": services.version_diff(a, b),
            "numbers": sorted(versions),
        },
    )


@never_cache
@organization_admin_required
def version_source(request: HttpRequest, procedure_id: int, number: int) -> HttpResponse:
    procedure = _procedure_or_404(request, procedure_id)
    version = get_object_or_404(m.ProcedureVersion, procedure=procedure, number=number)
    return render(
        request, "console/version_source.html", {"procedure": procedure, "version": version}
    )
