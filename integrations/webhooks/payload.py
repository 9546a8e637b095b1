"""The webhook payload, version 1 (docs/webhook-payload.md): the Standard Webhooks
envelope (`type`, `timestamp`, `data`) around the submission, its answers keyed by field
id with their labels, its payment and its files as short-lived download URLs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from django.conf import settings
from django.utils import timezone

from forms_engine import models as fm
from forms_engine import storage
from forms_engine.procedure_format.model import FieldSpec, Text
from forms_engine.services import attachment_download_name, version_spec
from forms_engine.services.selectors import attachment_is_deliverable

if TYPE_CHECKING:
    from integrations.models import Delivery

PAYLOAD_VERSION = "1"
EVENT_TYPE = "submission.ready"


def webhook_payload(delivery: Delivery) -> dict[str, Any]:
    submission = delivery.submission  # loaded with the delivery when it was claimed
    spec = version_spec(delivery.procedure_version)
    answers: dict[str, Any] = {}
    for page in spec.pages:
        for f in page.fields:
            if f.id in submission.answers and f.type != "static":
                answers[f.id] = _answer(f, submission.answers[f.id])
    return {
        "type": EVENT_TYPE,
        "timestamp": _iso(timezone.now()),
        "data": {
            "payload_version": PAYLOAD_VERSION,
            "delivery": {
                "id": str(delivery.pk),
                "integration": delivery.integration_id,
                "webhook_id": delivery.idempotency_key,
            },
            "submission": {
                "id": str(submission.pk),
                "receipt_number": submission.number,
                "submitted_at": _iso(submission.submitted_at),
                "status": submission.status,
                "language": submission.receipt.language,
            },
            "procedure": {
                "organization": submission.procedure.organization.slug,
                "slug": submission.procedure.slug,
                "version": delivery.procedure_version.number,
                "title": dict(delivery.procedure_version.title),
                "department": submission.department.slug,
            },
            "answers": answers,
            "payment": _payment(submission),
            # No query when the claim's read found none (`has_attachments`).
            "attachments": _attachments(submission)
            if getattr(delivery, "has_attachments", True)
            else [],
        },
    }


def _text(text: Text | None) -> dict[str, str] | None:
    return dict(text.values) if text is not None else None


def _answer(f: FieldSpec, value: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"label": _text(f.label), "type": f.type, "value": value}
    if f.options:
        entry["options"] = {o.value: _text(o.label) for o in f.options}
    if f.type == "file":
        entry["value"] = [v["id"] for v in value or [] if isinstance(v, dict) and "id" in v]
    if f.type == "group":
        entry["fields"] = {c.id: {"label": _text(c.label), "type": c.type} for c in f.fields}
        entry["value"] = [
            {
                c.id: _answer(c, item[c.id])["value"]
                for c in f.fields
                if isinstance(item, dict) and c.id in item
            }
            for item in value or []
        ]
    return entry


def _payment(submission: fm.Submission) -> dict[str, Any] | None:
    if submission.fee_total == 0 and submission.payment_status == "none":
        return None
    return {
        "fee_total": submission.fee_total,
        "fee_lines": submission.fee_lines,
        "status": submission.payment_status,
        "paid_amount": submission.paid_amount,
        "paid_at": _iso(submission.paid_at) if submission.paid_at else None,
        "refunded_amount": submission.refunded_amount,
        "currency": "JPY",
    }


def _attachments(submission: fm.Submission) -> list[dict[str, Any]]:
    seconds = settings.DELIVERY_DOWNLOAD_URL_SECONDS
    expires = _iso(timezone.now() + timedelta(seconds=seconds))
    store = storage.object_store()
    files = []
    for attachment in submission.attachments.order_by("created_at", "id"):
        entry: dict[str, Any] = {
            "id": str(attachment.pk),
            "field": attachment.field_key,
            "name": attachment_download_name(attachment),
            "content_type": attachment.content_type,
            "size": attachment.size,
            "sha256": attachment.sha256,
            "status": attachment.status,
            "url": None,
            "url_expires_at": None,
        }
        if attachment_is_deliverable(attachment):
            url = store.download_url(
                attachment.storage_key,
                attachment_download_name(attachment),
                seconds,
                attachment.content_type,
            )
            entry["url"] = urljoin(settings.SITE_URL + "/", url)
            entry["url_expires_at"] = expires
        files.append(entry)
    return files


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.get_fixed_timezone(9 * 60)).isoformat(timespec="seconds")
