"""A submission's files for staff: download (a short-lived URL, audited) and preview of
photos and PDFs in the browser (streamed from the store, audited). Only files scanned
clean, or openly not scanned, are ever handed out; anything else, and any file outside
the user's scope, answers 404."""

from __future__ import annotations

from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forms_engine import storage
from forms_engine.models import Attachment
from forms_engine.ratelimit import client_address
from forms_engine.services import AttachmentNotDeliverable, attachment_download_url
from forms_engine.services.selectors import attachment_is_deliverable
from forms_engine.storage.base import StorageError, content_disposition
from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.scope import submission_for_staff_or_404

# What a browser shows itself (and that cannot run script in our origin).
PREVIEW_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}


def attachment_for_staff_or_404(user: Any, submission_id: Any, attachment_id: Any) -> Attachment:
    submission = submission_for_staff_or_404(user, submission_id)
    try:
        attachment = submission.attachments.get(pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError):
        raise Http404 from None
    attachment.submission = submission
    return attachment


def is_previewable(attachment: Attachment) -> bool:
    return attachment.kind in PREVIEW_TYPES and attachment_is_deliverable(attachment)


@never_cache
@require_POST
@staff_required
def attachment_download(
    request: HttpRequest, submission_id: Any, attachment_id: Any
) -> HttpResponse:
    attachment = attachment_for_staff_or_404(request.user, submission_id, attachment_id)
    try:
        url = attachment_download_url(
            attachment, user=request.user, address=client_address(request)
        )
    except AttachmentNotDeliverable:
        raise Http404 from None
    audit_log(request, "attachment.download", attachment, kind=attachment.kind)
    return HttpResponseRedirect(url)


@never_cache
@require_GET
@staff_required
def attachment_preview(
    request: HttpRequest, submission_id: Any, attachment_id: Any
) -> HttpResponseBase:
    attachment = attachment_for_staff_or_404(request.user, submission_id, attachment_id)
    if not is_previewable(attachment):
        raise Http404
    try:
        chunks = storage.object_store().open_stream(attachment.storage_key)
        first = next(chunks, b"")
    except StorageError:
        raise Http404 from None
    audit_log(request, "attachment.preview", attachment, kind=attachment.kind)

    def body() -> Any:
        yield first
        yield from chunks

    response = StreamingHttpResponse(body(), content_type=PREVIEW_TYPES[attachment.kind])
    response["Content-Disposition"] = content_disposition(
        attachment.original_name or "file"
    ).replace("attachment", "inline", 1)
    # A file of a resident is shown, never run: no script, no plugin, no framing elsewhere.
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        if attachment.kind == "pdf"  # Chromium shows no PDF in a sandboxed document
        else "default-src 'none'; img-src 'self'; sandbox"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
