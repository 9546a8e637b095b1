"""Housekeeping of files, run by Celery beat (forms_engine.tasks): incomplete direct
uploads, files of abandoned drafts, files of submissions past their retention.

Each function can run twice, or in parallel with itself, without doing anything twice:
rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED and changed in the same
transaction that removes their objects. A store that fails leaves the row for the next run.
Logs carry ids only: file names are personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine import storage

from .procedures import version_spec

log = logging.getLogger(__name__)

A = m.Attachment.Status
# Statuses whose object may still be in the store.
_STORED = (A.UPLOADING, A.QUARANTINED, A.CLEAN, A.NOT_SCANNED)
BATCH = 200


def uploads_abort_stale(older_than: timedelta | None = None) -> int:
    """Abort multipart uploads begun more than `older_than` ago (UPLOAD_STALE_AFTER_HOURS)
    and never completed: the store's own list (parts the browser left behind, whatever the
    database says) and the `uploading` rows, which are deleted. Returns the uploads aborted."""
    if older_than is None:
        older_than = timedelta(hours=settings.UPLOAD_STALE_AFTER_HOURS)
    store = storage.object_store()
    aborted = 0
    cutoff = timezone.now() - older_than
    while True:
        with transaction.atomic():
            rows = list(
                m.Attachment.objects.select_for_update(skip_locked=True)
                .filter(status=A.UPLOADING, created_at__lt=cutoff)
                .order_by("created_at")[:BATCH]
            )
            done = [row.pk for row in rows if _abort(store, row.storage_key, row.upload_id)]
            m.Attachment.objects.filter(pk__in=done).delete()
        aborted += len(done)
        if len(rows) < BATCH or len(done) < len(rows):
            break
    try:
        stale = store.multipart_list_stale(older_than)
    except storage.StorageError:
        log.warning("could not list the incomplete uploads of the store", exc_info=True)
        return aborted
    for key, upload_id in stale:
        if _abort(store, key, upload_id):
            aborted += 1
    return aborted


def _abort(store: storage.ObjectStore, key: str, upload_id: str) -> bool:
    if not upload_id:
        return True
    try:
        store.multipart_abort(key, upload_id)
    except storage.ObjectMissing:
        pass  # aborted already, or completed and deleted
    except storage.StorageError:
        log.warning("could not abort an incomplete upload", exc_info=True)
        return False
    return True


def drafts_abandoned_files_delete(now: datetime | None = None) -> int:
    """Delete the files of drafts left open and untouched for longer than their resume
    link lives (RESUME_TOKEN_MAX_AGE): no link can bring the resident back to them. The
    attachments go with their files, and out of the draft's answers and pending input;
    what was typed stays. Returns the files deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.RESUME_TOKEN_MAX_AGE)
    store = storage.object_store()
    deleted = 0
    candidates = (
        m.Attachment.objects.filter(
            submission__isnull=True,
            draft__status=m.Draft.Status.OPEN,
            draft__updated_at__lt=cutoff,
        )
        .values_list("draft_id", flat=True)
        .distinct()
    )
    for draft_id in list(candidates):
        with transaction.atomic():
            # Locked as the filing locks it: a resident coming back now waits, or is
            # skipped here (and the draft is touched, so no longer abandoned).
            draft = (
                m.Draft.objects.select_for_update(skip_locked=True)
                .filter(pk=draft_id, status=m.Draft.Status.OPEN, updated_at__lt=cutoff)
                .first()
            )
            if draft is None:
                continue
            attachments = list(draft.attachments.filter(submission__isnull=True))
            gone = [a for a in attachments if _object_delete(store, a)]
            ids = {str(a.pk) for a in gone}
            # What was typed stays; updated_at too: the resident did not touch the draft.
            m.Draft.objects.filter(pk=draft.pk).update(
                answers=_without_files(draft.answers, ids),
                pending=_without_files(draft.pending, ids),
            )
            m.Attachment.objects.filter(pk__in=[a.pk for a in gone]).delete()
            deleted += len(gone)
    return deleted


def submissions_expired_files_delete(now: datetime | None = None) -> int:
    """Delete the files of submissions whose retention (`retention_days` of their
    procedure version, default 1825) has ended. Each attachment row stays, with status
    `deleted` and the time, saying that its file was deleted. Returns the files deleted."""
    now = now or timezone.now()
    store = storage.object_store()
    deleted = 0
    versions = (
        m.Submission.objects.filter(attachments__status__in=_STORED)
        .values_list("procedure_version_id", flat=True)
        .distinct()
    )
    for version in m.ProcedureVersion.objects.filter(pk__in=list(versions)):
        cutoff = now - timedelta(days=version_spec(version).retention_days)
        while True:
            with transaction.atomic():
                rows = list(
                    m.Attachment.objects.select_for_update(skip_locked=True)
                    .filter(
                        status__in=_STORED,
                        submission__procedure_version=version,
                        submission__submitted_at__lt=cutoff,
                    )
                    .order_by("created_at")[:BATCH]
                )
                gone = [a.pk for a in rows if _object_delete(store, a)]
                m.Attachment.objects.filter(pk__in=gone).update(status=A.DELETED, deleted_at=now)
            deleted += len(gone)
            if len(rows) < BATCH or len(gone) < len(rows):
                break
    return deleted


def _object_delete(store: storage.ObjectStore, attachment: m.Attachment) -> bool:
    """Remove an attachment's object (or its unfinished multipart upload)."""
    try:
        if attachment.status == A.UPLOADING and attachment.upload_id:
            if not _abort(store, attachment.storage_key, attachment.upload_id):
                return False
        elif attachment.storage_key and attachment.status in _STORED:
            store.delete(attachment.storage_key)
    except storage.ObjectMissing:
        pass
    except storage.StorageError:
        log.warning("could not delete the file of attachment %s", attachment.pk, exc_info=True)
        return False
    return True


def _without_files(value: Any, ids: set[str]) -> Any:
    """`value` (answers or pending input) without the file values of `ids`, wherever they
    are (a file field's list, or one inside a group entry)."""
    if not ids:
        return value
    if isinstance(value, dict):
        return {k: _without_files(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _without_files(v, ids)
            for v in value
            if not (isinstance(v, dict) and v.get("id") in ids and "size" in v)
        ]
    return value
