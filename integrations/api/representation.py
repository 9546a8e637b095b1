"""A submission as the pull API shows it (the `Submission` schema of openapi.yaml).

Answers are keyed by field id, as stored (docs/procedure-format.md says each type's
value); `labels` names each field in Japanese, as the procedure version it was filed
under says. Attachments list every file with its state; only files scanned clean (or
openly not scanned) get a download URL, and only in the answer for one submission: each
URL handed out is recorded like a staff download.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from forms_engine import models as m
from forms_engine import storage
from forms_engine.services.downloads import attachment_download_name
from forms_engine.services.procedures import version_spec
from forms_engine.services.selectors import attachment_is_deliverable

from .models import ApiToken, FeedEntry


def _labels(version: m.ProcedureVersion) -> dict[str, str]:
    spec = version_spec(version)
    return {f.id: f.label.get("ja") for f in spec.iter_fields() if f.label is not None}


def _attachment(
    a: m.Attachment, *, request: HttpRequest | None, token: ApiToken | None
) -> dict[str, Any]:
    url = None
    expires_in = None
    if request is not None and token is not None and attachment_is_deliverable(a):
        url, expires_in = _download_url(a, request=request, token=token)
    return {
        "id": str(a.pk),
        "field": a.field_key.split(".", 1)[-1],
        "name": a.original_name,
        "size": a.size,
        "content_type": a.content_type,
        "sha256": a.sha256 or None,
        "status": a.status,
        "download_url": url,
        "download_expires_in": expires_in,
    }


def _download_url(a: m.Attachment, *, request: HttpRequest, token: ApiToken) -> tuple[str, int]:
    from forms_engine.ratelimit import client_address

    seconds = settings.STAFF_DOWNLOAD_URL_SECONDS
    with transaction.atomic():
        m.DownloadAudit.objects.create(
            attachment=a,
            attachment_ref=a.pk,
            submission_number=a.submission.number if a.submission else "",
            user=None,
            username=f"api:{token.pk}:{token.name}"[:150],
            address=client_address(request) or None,
        )
        url = storage.object_store().download_url(
            a.storage_key, attachment_download_name(a), seconds, a.content_type
        )
    return request.build_absolute_uri(url), seconds


def submission_representation(
    entry: FeedEntry,
    *,
    with_downloads: bool = False,
    request: HttpRequest | None = None,
    token: ApiToken | None = None,
) -> dict[str, Any]:
    s = entry.submission
    version = s.procedure_version
    attachments = sorted(s.attachments.all(), key=lambda a: (a.field_key, str(a.pk)))
    return {
        "id": str(s.pk),
        "receipt_number": s.number,
        "organization": s.organization.slug,
        "procedure": {
            "slug": s.procedure.slug,
            "version": version.number,
            "title": version.title.get("ja", "")
            if isinstance(version.title, dict)
            else str(version.title),
        },
        "department": s.department.slug,
        "status": s.status,
        "submitted_at": s.submitted_at.isoformat(),
        "ready_at": entry.ready_at.isoformat(),
        "fee_total": s.fee_total,
        "answers": s.answers,
        "labels": _labels(version),
        "attachments": [
            _attachment(
                a,
                request=request if with_downloads else None,
                token=token if with_downloads else None,
            )
            for a in attachments
        ],
    }
