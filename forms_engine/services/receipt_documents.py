"""The receipt PDF (申請控え) of each submission: made once after filing by a task on the
`exports` queue (an outbox consumer of `submission.completed` hands it over), stored in
the object store under a random key, and read back for the resident (status page), the
receipt mail and staff (inbox). Without a broker (the embedded default) it is made
in-process right after the filing commits.

Once per submission: the row is unique per submission; two workers making it at the same
moment both render, one row wins and the loser deletes its stored copy.
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from forms_engine import models as m
from forms_engine.outbox import outbox_consumer
from forms_engine.storage import object_store
from forms_engine.topics import SUBMISSION_COMPLETED

log = logging.getLogger(__name__)

# Sorted before "forms_engine.receipt_mails": in-process, the PDF is made before the mail
# that carries it.
RECEIPT_DOCUMENTS_CONSUMER = "forms_engine.receipt_documents"
RECEIPT_DOCUMENT_PREFIX = "receipts/"


@outbox_consumer(
    RECEIPT_DOCUMENTS_CONSUMER,
    topics={SUBMISSION_COMPLETED},
    atomic=False,
    lease=timedelta(minutes=5),
)
def receipt_document_on_completed(event: m.OutboxEvent) -> None:
    if event.submission_id is None:
        return
    if settings.CELERY_TASK_ALWAYS_EAGER:
        receipt_document_make(event.submission_id)
        return
    from forms_engine import tasks  # noqa: PLC0415 - tasks import the services

    # Raises while the broker is down: the outbox runs this again later.
    tasks.receipt_document_render.apply_async(args=[str(event.submission_id)], retry=False)


def receipt_document_get(submission_id) -> m.ReceiptDocument | None:
    return m.ReceiptDocument.objects.filter(submission_id=submission_id).first()


def receipt_document_make(submission_id) -> m.ReceiptDocument:
    """The submission's receipt PDF, rendered and stored if it is not there yet."""
    existing = receipt_document_get(submission_id)
    if existing is not None:
        return existing
    from forms_engine.documents.receipt import receipt_pdf  # noqa: PLC0415 - WeasyPrint

    submission = m.Submission.objects.select_related("receipt", "procedure_version").get(
        pk=submission_id
    )
    language = submission.receipt.language or "ja"
    pdf = receipt_pdf(submission, language)
    key = f"{RECEIPT_DOCUMENT_PREFIX}{secrets.token_urlsafe(24)}.pdf"
    store = object_store()
    store.upload_stream(key, io.BytesIO(pdf), "application/pdf")
    try:
        with transaction.atomic():
            return m.ReceiptDocument.objects.create(
                submission=submission, key=key, size=len(pdf), language=language
            )
    except IntegrityError:
        # Another worker made it meanwhile: theirs stays, this copy goes.
        store.delete(key)
        winner = receipt_document_get(submission_id)
        if winner is None:
            raise
        return winner


def receipt_document_stream(document: m.ReceiptDocument) -> Iterator[bytes]:
    return object_store().open_stream(document.key)


def receipt_document_bytes(document: m.ReceiptDocument) -> bytes:
    return b"".join(receipt_document_stream(document))


def receipt_document_filename(submission: m.Submission, lang: str) -> str:
    """The download's name: the kind of document and the receipt number only."""
    stem = "申請控え" if lang == "ja" else "application-receipt"
    return f"{stem}-{submission.number}.pdf"
