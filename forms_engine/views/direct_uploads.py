"""Direct upload endpoints (JSON): the browser's uploader asks for a multipart upload and
its part URLs, sends the parts straight to the object store, and completes it here. Only for
a draft this browser may open, only for file inputs of a visible page of it; CSRF-checked
(header X-CSRFToken) and rate-limited. The work is in services.direct_uploads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from forms_engine import models as m
from forms_engine.ratelimit import hit as ratelimit_hit
from forms_engine.services import direct_uploads as uploads

from .common import _draft_for

# The largest JSON body: a completion lists up to 10,000 parts (about 80 bytes each).
BODY_MAX_BYTES = 1024 * 1024


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _body(request: HttpRequest) -> dict[str, Any]:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > BODY_MAX_BYTES:
        raise uploads.UploadRefused(_("The request is too large."), status=413)
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: deeply nested arrays ("[[[[...") exhaust the parser's stack.
        raise uploads.UploadRefused(_("The request could not be read.")) from None
    if not isinstance(data, dict):
        raise uploads.UploadRefused(_("The request could not be read."))
    return data


def _open_draft(request: HttpRequest, draft_id) -> m.Draft:
    draft = _draft_for(request, draft_id)
    if draft.status != m.Draft.Status.OPEN:
        raise uploads.UploadRefused(_("This application has already been submitted."), 409)
    return draft


def _answer(scope: str, work: Callable[[], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def run(request: HttpRequest) -> HttpResponse:
        if not ratelimit_hit(request, scope):
            response = _json_error(
                _("There were too many requests from your connection. Wait and try again."), 429
            )
            response["Retry-After"] = "60"
            return response
        try:
            return work()
        except uploads.UploadRefused as exc:
            return _json_error(exc.message, exc.status)

    return run


def _result(attachment: m.Attachment) -> dict[str, Any]:
    return {
        "id": str(attachment.pk),
        "name": attachment.original_name,
        "size": attachment.size,
        "status": attachment.status,
        "statusText": uploads.attachment_status_text(attachment),
    }


@never_cache
@require_http_methods(["POST"])
def upload_begin(request: HttpRequest, draft_id) -> HttpResponse:
    def work() -> HttpResponse:
        draft = _open_draft(request, draft_id)
        body = _body(request)
        attachment = uploads.attachment_upload_begin(
            draft,
            str(body.get("page") or ""),
            str(body.get("input") or ""),
            body.get("name"),
            body.get("size"),
            body.get("type"),
        )
        return JsonResponse(
            {
                "id": str(attachment.pk),
                "uploadId": attachment.upload_id,
                "key": attachment.storage_key,
                "partSize": uploads.storage.PART_SIZE,
            },
            status=201,
        )

    return _answer("upload", work)(request)


@never_cache
@require_http_methods(["GET", "POST"])
def upload_parts(request: HttpRequest, draft_id, attachment_id) -> HttpResponse:
    def work() -> HttpResponse:
        draft = _open_draft(request, draft_id)
        if request.method == "GET":
            return JsonResponse({"parts": uploads.attachment_upload_parts(draft, attachment_id)})
        body = _body(request)
        urls = uploads.attachment_upload_sign(draft, attachment_id, body.get("partNumbers"))
        return JsonResponse({"urls": {str(n): url for n, url in urls.items()}})

    return _answer("upload_parts", work)(request)


@never_cache
@require_http_methods(["POST"])
def upload_complete(request: HttpRequest, draft_id, attachment_id) -> HttpResponse:
    def work() -> HttpResponse:
        draft = _open_draft(request, draft_id)
        body = _body(request)
        attachment = uploads.attachment_upload_complete(draft, attachment_id, body.get("parts"))
        return JsonResponse(_result(attachment))

    return _answer("upload", work)(request)


@never_cache
@require_http_methods(["DELETE"])
def upload_cancel(request: HttpRequest, draft_id, attachment_id) -> HttpResponse:
    def work() -> HttpResponse:
        draft = _open_draft(request, draft_id)
        uploads.attachment_upload_cancel(draft, attachment_id)
        return HttpResponse(status=204)

    return _answer("upload", work)(request)
