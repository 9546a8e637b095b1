"""What every resident view shares: the session's ids, the draft this browser may open, step
URLs and the render context."""

from __future__ import annotations

import functools
import uuid

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from forms_engine import models as m
from forms_engine import normalize, services, storage
from forms_engine.fields import Ctx
from forms_engine.filing import Step
from forms_engine.pk_read import PrimaryKeyRead

# The CSRF check of views that must set things up before the body is read (csrf_protect's
# own check, called by hand).
_CSRF = CsrfViewMiddleware(lambda request: HttpResponse())


def _csrf_checked(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    """Stands for the view in the hand-made check: not marked csrf_exempt, so it is checked."""
    raise AssertionError


def csrf_refusal(request: HttpRequest) -> HttpResponseBase | None:
    """The CSRF failure response for this request, or None when its token is good."""
    return _CSRF.process_view(request, _csrf_checked, (), {})


# The session holds ids only: the drafts this browser started or resumed, and the signed-in
# resident. (Plus, for one redirect each, the sign-in page's return path and a postal notice.)
SESSION_DRAFTS = "drafts"
SESSION_RESIDENT = "resident"


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


class DraftNotFound(Http404):
    """A draft page this browser may not open (or that does not exist): the 404 page says
    how to continue the filing (the resume link, or signing in)."""


# Set on a draft read by _draft_for(..., with_unpublished=True): whether a procedure of
# the filing has been unpublished (see unpublished_notice), read with the draft itself.
_UNPUBLISHED = "procedure_unpublished"


@functools.cache
def _unpublished_sql() -> RawSQL:
    """EXISTS over the draft's pinned versions (DraftVersion) for an unpublished procedure,
    as SQL that PostgreSQL and SQLite both read. Written out rather than built with
    Exists(): compiling that subquery on every page cost more than the second statement
    it saves (docs/performance.md)."""
    dv, pv, p, d = (
        f'"{model._meta.db_table}"'
        for model in (m.DraftVersion, m.ProcedureVersion, m.Procedure, m.Draft)
    )
    return RawSQL(
        f'EXISTS (SELECT 1 FROM {dv} INNER JOIN {pv} ON {pv}."id" = {dv}."version_id" '
        f'INNER JOIN {p} ON {p}."id" = {pv}."procedure_id" '
        f'WHERE {dv}."draft_id" = {d}."id" AND {p}."unpublished_at" IS NOT NULL)',
        (),
        output_field=BooleanField(),
    )


# The draft reads of the resident's pages: statements compiled once per connection by the
# ORM and then only run (forms_engine.pk_read: building the SQL on every page cost more
# than running it).
_DRAFT_READ = PrimaryKeyRead(m.Draft, m.Draft.objects.all, uuid.UUID(int=0))
_DRAFT_READ_WITH_UNPUBLISHED = PrimaryKeyRead(
    m.Draft,
    lambda: m.Draft.objects.annotate(**{_UNPUBLISHED: _unpublished_sql()}),
    uuid.UUID(int=0),
)


def _draft_for(request: HttpRequest, draft_id, *, with_unpublished: bool = False) -> m.Draft:
    """A draft this browser may open: one it started or resumed, or its resident's.
    with_unpublished: the page will say whether the procedure was unpublished; the draft's
    query answers that too (one statement instead of two on every page)."""
    read = _DRAFT_READ_WITH_UNPUBLISHED if with_unpublished else _DRAFT_READ
    draft = read.read(draft_id)
    if draft is None:
        raise DraftNotFound
    allowed = str(draft.pk) in request.session.get(SESSION_DRAFTS, [])
    if not allowed and draft.resident_id:
        allowed = draft.resident_id == request.session.get(SESSION_RESIDENT)
    if not allowed:
        raise DraftNotFound
    return draft


def unpublished_notice(draft: m.Draft) -> str:
    """The message for a draft of a procedure its organization has unpublished since the
    draft was started (it can no longer be submitted), or ''."""
    unpublished = getattr(draft, _UNPUBLISHED, None)
    if unpublished is None:
        unpublished = m.Procedure.objects.filter(
            versions__pk__in=draft.version_ids, unpublished_at__isnull=False
        ).exists()
    if not unpublished:
        return ""
    return _(
        "This procedure has been closed by its organization: this application can no "
        "longer be submitted. Contact the office for what to do instead."
    )


def _error(request, title: str, message: str, status: int = 400) -> HttpResponse:
    return render(
        request, "forms_engine/error.html", {"title": title, "message": message}, status=status
    )


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
    if any(files.values()):
        ctx.file_states = services.draft_file_states(draft)
    if request.method == "POST":
        ctx.refused = getattr(request, "uploads_refused", None) or {}
    if request.method == "GET":
        ctx.notices = request.session.pop("postal_notice", None) or {}
    if step is not None:
        ctx.store_upload = lambda f, upload: services.attachment_store(
            draft, step.position, f, upload
        )
        if storage.direct_upload_enabled():
            ctx.upload_url = reverse("upload_begin", args=[draft.pk])
            ctx.page_key = step.key
    return ctx


def files_removed_notices(
    draft: m.Draft, positions_fields: dict[str, str] | None = None
) -> list[str]:
    """What the resident is told about files the virus check deleted: by the file's own
    name and the field's label. `positions_fields` (field key -> label) limits them to one
    page's fields; None: all of the draft's (the confirmation page)."""
    notices = []
    for attachment in services.draft_files_removed_by_scan(draft):
        if positions_fields is not None and attachment.field_key not in positions_fields:
            continue
        values = {"name": attachment.original_name}
        if attachment.status == m.Attachment.Status.INFECTED:
            notices.append(
                _(
                    "A virus or other malware was found in %(name)s, so the file was deleted. "
                    "Attach another file."
                )
                % values
            )
        else:
            notices.append(
                _(
                    "%(name)s could not be checked for viruses completely, so the file was "
                    "deleted. Attach another file (a smaller one, or one that is not an "
                    "archive inside archives)."
                )
                % values
            )
    return notices


def posted_email(raw: str) -> tuple[str, str]:
    """An address typed into a sign-in or resume form, read by the one validator the email
    fields use: (address, "") or (what was typed, bounded, and the error to show)."""
    try:
        return normalize.normalize_email(raw), ""
    except normalize.Invalid:
        return raw[: normalize.EMAIL_MAX_LENGTH], _(
            "Enter an email address such as name@example.jp."
        )


def same_site_path(url: str) -> bool:
    """A path on this site to send the browser back to; never another site, however it is
    spelled (`//host`, `/\\host`, `https:host`, control characters)."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


def payment_context(s: m.Submission) -> dict:
    """The payment state shown to the resident (status and done pages, the receipt)."""
    if s.payment_status == m.Submission.PaymentStatus.NONE:
        return {"payment": None}
    return {
        "payment": {
            "status": s.payment_status,
            "status_display": s.get_payment_status_display(),
            "due": s.payment_due_amount,
            "paid_amount": s.paid_amount,
            "paid_at": s.paid_at,
            "refunded_amount": s.refunded_amount,
            **services.payment_details(s),
        }
    }
