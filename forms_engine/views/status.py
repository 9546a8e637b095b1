"""The status page: a receipt number and its status code open the filing's submissions;
each submission's own page shows its history and messages from staff, the correction form
when it was returned (only the fields the reviewer named) and withdrawal while allowed.

Access to a submission's page: its receipt was opened with the number and status code in
this browser's session (`SESSION_RECEIPTS`), or the signed-in resident owns it (the
browser that filed gets no lasting access of its own: like the status code on the
completion page, that ends). Nothing else: a submission id alone (it is in
the mail link) opens nothing but the look-up form, whether or not the id exists. Only the
id is in URLs; never the number, the code or an answer.
"""

from __future__ import annotations

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from forms_engine import models as m
from forms_engine import services, uploads
from forms_engine.fields import Ctx
from forms_engine.filing import (
    Step,
    page_action,
    process_page,
    raw_from_answers,
    render_fields,
    text_size,
)
from forms_engine.outbox import topic_label
from forms_engine.ratelimit import hit as ratelimit_hit
from forms_engine.ratelimit import ratelimit
from forms_engine.storage import content_disposition

from .common import SESSION_RESIDENT, _lang, csrf_refusal, payment_context

#: Receipt ids opened with their number and status code in this session.
SESSION_RECEIPTS = "status_receipts"


def _grant(request: HttpRequest, receipt: m.Receipt) -> None:
    granted = [r for r in request.session.get(SESSION_RECEIPTS, []) if r != receipt.pk]
    if not granted:
        # A new session key when the browser first gains a filing (session fixation).
        request.session.cycle_key()
    granted.append(receipt.pk)
    request.session[SESSION_RECEIPTS] = granted[-20:]


def _may_open(request: HttpRequest, submission: m.Submission) -> bool:
    if submission.receipt_id in request.session.get(SESSION_RECEIPTS, []):
        return True
    resident = request.session.get(SESSION_RESIDENT)
    return bool(resident) and submission.draft.resident_id == resident


def _submission_for(request: HttpRequest, submission_id) -> m.Submission | None:
    submission = (
        m.Submission.objects.select_related("draft", "receipt", "procedure_version")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None or not _may_open(request, submission):
        return None
    return submission


@ratelimit("status")
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    context: dict = {"number": "", "error": "", "next": ""}
    if request.method == "POST":
        number = request.POST.get("number", "")
        code = request.POST.get("code", "")
        wanted = request.POST.get("next", "")[:36]
        context["next"] = wanted
        # Only what a receipt number can be goes back into the input.
        context["number"] = number[: services.RECEIPT_INPUT_MAX_LENGTH]
        too_long = max(len(number), len(code)) > services.RECEIPT_INPUT_MAX_LENGTH
        given = not too_long and number.strip() and code.strip()
        receipt = services.receipt_lookup(number, code) if given else None
        if too_long:
            context["error"] = _("No application matches this receipt number and status code.")
        elif not given:
            context["error"] = _("Enter the receipt number and the status code.")
        elif receipt is None:
            context["error"] = _("No application matches this receipt number and status code.")
        else:
            _grant(request, receipt)
            ids = {str(s.pk) for s in receipt.submissions.all()}
            if wanted in ids:
                return redirect("status_submission", submission_id=wanted)  # type: ignore[return-value]
            lang = _lang()
            context["receipt"] = receipt
            context["submissions"] = [
                {
                    "id": s.pk,
                    "number": s.number,
                    "title": m.localized(s.procedure_version.title, lang),
                    "status": s.get_status_display(),
                    "submitted_at": s.submitted_at,
                    **payment_context(s),
                }
                for s in receipt.submissions.select_related("procedure_version").order_by("number")
            ]
    return render(request, "forms_engine/status.html", context)


def _lookup_form(request: HttpRequest, submission_id) -> HttpResponse:
    """The look-up form, coming back to this submission's page once the number and code
    match: what a mail link without a session gets (the same for any id)."""
    return render(
        request,
        "forms_engine/status.html",
        {"number": "", "error": "", "next": str(submission_id)},
    )


def _timeline(submission: m.Submission) -> list[dict]:
    return [
        {"label": topic_label(e.topic), "at": e.created_at}
        for e in submission.events.filter(topic__in=services.RESIDENT_TOPICS).order_by("id")
    ]


def _correction(submission: m.Submission, revision: m.SubmissionRevision):
    view = services.correction_view(submission)
    step = services.correction_step(view.specs[0], revision.fields)
    return view, step


#: The files of a correction form between its posts ({submission id: {field id: [file
#: values]}}): what the resident attached or took back, until the correction is sent.
SESSION_CORRECTION_FILES = "correction_files"


def _files_of(request: HttpRequest, submission: m.Submission, step: Step) -> dict[str, list]:
    pending = request.session.get(SESSION_CORRECTION_FILES, {}).get(str(submission.pk), {})
    files = {}
    for f in step.page.fields:
        if f.type == "file":
            value = pending.get(f.id, submission.answers.get(f.id))
            files[f"f-{f.id}"] = [v for v in value or [] if isinstance(v, dict)]
    return files


def _answer_file_ids(submission: m.Submission) -> set[str]:
    spec = services.submission_spec(submission)
    ids: set[str] = set()
    for f in spec.iter_fields(include_group_children=False):
        if f.type == "file":
            ids.update(
                str(v.get("id")) for v in submission.answers.get(f.id) or [] if isinstance(v, dict)
            )
    return ids


def _files_keep(request: HttpRequest, submission: m.Submission, step: Step, raw: dict) -> None:
    kept = {}
    for f in step.page.fields:
        if f.type == "file":
            value = raw.get(f.id)
            kept[f.id] = list(value.get("kept", [])) if isinstance(value, dict) else []
    if kept:
        state = dict(request.session.get(SESSION_CORRECTION_FILES, {}))
        state[str(submission.pk)] = kept
        request.session[SESSION_CORRECTION_FILES] = state


def _files_forget(request: HttpRequest, submission: m.Submission) -> None:
    state = dict(request.session.get(SESSION_CORRECTION_FILES, {}))
    if state.pop(str(submission.pk), None) is not None:
        request.session[SESSION_CORRECTION_FILES] = state


def _correction_ctx(request: HttpRequest, submission: m.Submission, step: Step) -> Ctx:
    """The context of the correction form: the files it holds now, and for a post the
    uploads, stored through the filing's own upload path."""
    ctx = Ctx(lang=_lang(), today=timezone.localdate())
    ctx.files = _files_of(request, submission, step)
    if any(ctx.files.values()):
        ctx.file_states = services.draft_file_states(submission.draft)
    if request.method == "POST":
        ctx.uploads = {k: request.FILES.getlist(k) for k in request.FILES}
        ctx.refused = getattr(request, "uploads_refused", None) or {}
        ctx.store_upload = lambda f, upload: services.correction_file_store(submission, f, upload)
    return ctx


def _page(
    request: HttpRequest,
    submission: m.Submission,
    *,
    raw=None,
    errors=None,
    error_fields=None,
    page_error: str = "",
    ctx: Ctx | None = None,
    status: int = 200,
) -> HttpResponse:
    lang = _lang()
    revision = services.open_revision(submission)
    fields_html = ""
    multipart = False
    today = timezone.localdate()
    if revision is not None:
        view, step = _correction(submission, revision)
        ctx = ctx or _correction_ctx(request, submission, step)
        today = ctx.today
        if raw is None:
            raw = raw_from_answers(view, step)
            for f in step.page.fields:
                if f.type == "file":
                    raw[f.id] = {"kept": ctx.files.get(f"f-{f.id}", []), "new": []}
        fields_html = render_fields(view, step, raw, errors or {}, ctx)
        multipart = any(f.type == "file" for f in step.page.fields)
    organization = services.organization_get(submission.organization_id)
    context = {
        "submission": submission,
        "title": m.localized(submission.procedure_version.title, lang),
        "status_label": submission.get_status_display(),
        "timeline": _timeline(submission),
        "messages_from_staff": list(submission.messages.order_by("created_at", "id")),
        "revision": revision,
        "fields_html": fields_html,
        "errors": error_fields or [],
        "page_error": page_error,
        "can_withdraw": "withdrawn" in services.allowed_actions(submission.status),
        "organization": organization,
        "today_iso": today.isoformat(),
        "multipart": multipart,
        "just_resubmitted": request.GET.get("done") == "resubmitted",
        **payment_context(submission),
        "receipt_document": services.receipt_document_get(submission.pk),
    }
    return render(request, "forms_engine/status_submission.html", context, status=status)


# No rate limit of its own: nothing here checks a code (the look-up does, limited), and
# without the session's grant a post changes nothing.
@csrf_exempt  # checked below, once the upload guard is in place: the check reads the body
@require_http_methods(["GET", "POST"])
def status_submission(request: HttpRequest, submission_id) -> HttpResponseBase:
    submission = _submission_for(request, submission_id)
    revision = services.open_revision(submission) if submission is not None else None
    if request.method == "POST":
        # Before anything reads the body: file parts only for the named file inputs, within
        # their own limits (none at all when no correction is open).
        step = _correction(submission, revision)[1] if submission and revision else None
        uploads.guard_install(
            request, uploads.page_allowance(step.page) if step else uploads.NOTHING
        )
        refusal = csrf_refusal(request)
        if refusal is not None:
            return refusal
    if submission is None:
        return _lookup_form(request, submission_id)
    if request.method == "GET":
        return _page(request, submission)
    if revision is None:
        # Staff moved it on meanwhile (or it was withdrawn): the page as it is now.
        return _page(
            request,
            submission,
            page_error=_("This application is not waiting for a correction any more."),
            status=409,
        )
    view, step = _correction(submission, revision)
    try:
        return _correction_post(request, submission, revision, view, step)
    except services.AttachmentNotStored:
        return _page(
            request,
            submission,
            page_error=_(
                "The file could not be stored because of a problem on our side. Try again later."
            ),
            status=503,
        )


def _too_much_text() -> str:
    return _(
        "This application cannot hold more text: at most %(max)s characters in all. "
        "What you entered on this page was not saved. Shorten it (or what you entered on "
        "other pages) and send it again."
    ) % {"max": f"{settings.DRAFT_TEXT_MAX_CHARS:,}"}


def _correction_post(request, submission, revision, view, step) -> HttpResponseBase:
    ctx = _correction_ctx(request, submission, step)
    # The filing's whole text budget, as on its pages: the corrected fields' new text plus
    # every other answer, counted before anything is normalised.
    others = {
        k: v for k, v in submission.answers.items() if k not in {f.id for f in step.page.fields}
    }
    room = max(0, settings.DRAFT_TEXT_MAX_CHARS - text_size(others))
    action = request.POST.get("_action", "resubmit")
    if action == "autosave":
        return HttpResponse(status=204)  # nothing is kept half-typed here
    if action != "resubmit":
        # Add or remove a group entry, or the postal look-up: nothing is stored, the
        # form comes back with what was typed.
        result = process_page(view, step, request.POST, ctx, validate=False, text_limit=room)
        if result.too_much_text:
            return _page(request, submission, ctx=ctx, page_error=_too_much_text(), status=413)
        outcome = page_action(
            step, result.raw, action, postal_allowed=lambda: ratelimit_hit(request, "postal")
        )
        # A file taken back is left out of the correction. The submission's own files
        # stay (staff compare with them); one attached for this correction is deleted.
        for file_id in outcome.removed_files:
            if file_id not in _answer_file_ids(submission):
                services.attachment_remove(submission.draft, file_id)
        _files_keep(request, submission, step, result.raw)
        ctx.notices = outcome.notices
        return _page(request, submission, raw=result.raw, ctx=ctx)
    result = process_page(view, step, request.POST, ctx, text_limit=room)
    if result.too_much_text:
        return _page(request, submission, ctx=ctx, page_error=_too_much_text(), status=413)
    _files_keep(request, submission, step, result.raw)
    if result.errors:
        return _page(
            request,
            submission,
            raw=result.raw,
            errors=result.errors,
            error_fields=result.error_fields,
            ctx=ctx,
        )
    # The named fields and their dependents (hidden ones come back as None: dropped).
    corrected = {f.id: result.values.get(f.id) for f in step.page.fields}
    try:
        services.submission_resubmit(submission.pk, corrected)
    except services.ReviewRefused as exc:
        if exc.code == "incomplete":
            message = _(
                "With these answers the application would need other answers too. "
                "Contact the office, or change your answers."
            )
        else:
            message = _("This application is not waiting for a correction any more.")
        return _page(request, submission, raw=result.raw, ctx=ctx, page_error=message, status=409)
    _files_forget(request, submission)
    return redirect(reverse("status_submission", args=[submission.pk]) + "?done=resubmitted")


@require_http_methods(["GET", "POST"])
def status_withdraw(request: HttpRequest, submission_id) -> HttpResponseBase:
    """取下げ, with a confirmation step: GET asks, POST withdraws."""
    submission = _submission_for(request, submission_id)
    if submission is None:
        return _lookup_form(request, submission_id)
    allowed = "withdrawn" in services.allowed_actions(submission.status)
    context = {
        "submission": submission,
        "title": m.localized(submission.procedure_version.title, _lang()),
        "allowed": allowed,
        "status_label": submission.get_status_display(),
    }
    if request.method == "POST" and allowed:
        try:
            services.submission_withdraw(submission.pk)
        except services.ReviewRefused:
            context["allowed"] = False
            return render(request, "forms_engine/status_withdraw.html", context, status=409)
        return redirect("status_submission", submission_id=submission.pk)
    return render(
        request,
        "forms_engine/status_withdraw.html",
        context,
        status=200 if allowed or request.method == "GET" else 409,
    )


@never_cache
@require_GET
def status_receipt_pdf(request: HttpRequest, submission_id) -> HttpResponseBase:
    """The submission's receipt PDF (申請控え), under the status page's access rules: a
    browser without the grant, another resident's filing or an unknown id gets 404."""
    submission = _submission_for(request, submission_id)
    if submission is None:
        raise Http404
    document = services.receipt_document_get(submission.pk)
    if document is None:
        raise Http404
    response = StreamingHttpResponse(
        services.receipt_document_stream(document), content_type="application/pdf"
    )
    response["Content-Length"] = str(document.size)
    response["Content-Disposition"] = content_disposition(
        services.receipt_document_filename(submission, _lang())
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
