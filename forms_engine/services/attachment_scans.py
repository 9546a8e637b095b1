"""Quarantine, scan, promote: every stored file waits under `quarantine/` until clamd has
read it whole (`forms_engine.scanning`), then moves to `files/` (clean), or is deleted
(infected, or not scannable). Without CLAMD_ADDRESS a file is promoted as `not_scanned`,
said openly, never called clean. Only `clean` and `not_scanned` files may be opened by
anyone (selectors.attachment_is_deliverable).

`attachment_scan` does one attempt and says what happened; the Celery task of the same
name (forms_engine.tasks) retries an unreachable clamd with backoff. Running it twice, or
twice at once, does the work once: the row is re-read under its lock before anything
changes, and a file that is no longer in quarantine is left alone.

When the scan of a submission's last waiting file ends (clean, infected, refused or not
scanned), the same transaction writes the submission's `submission.files_ready` event
(services.submission_readiness).
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine import scanning
from forms_engine.background import run_soon
from forms_engine.storage import ObjectMissing, object_store

from .submission_readiness import submission_files_ready_announce

log = logging.getLogger(__name__)

Status = m.Attachment.Status


class ScanOutcome(enum.StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"
    # clamd read the file but could not scan it whole: deleted, status refused.
    UNSCANNABLE = "unscannable"
    NOT_SCANNED = "not_scanned"
    # clamd unreachable or without a verdict: still quarantined, try again later.
    RETRY = "retry"
    # Nothing to do: scanned already, removed, or not in quarantine (yet).
    SKIPPED = "skipped"


def attachment_scan_enqueue(attachment: m.Attachment) -> None:
    """Scan the file once the transaction that stored it commits (at once outside one).
    With a broker the task goes to the "scans" queue; in the embedded default it runs in
    process (CELERY_TASK_ALWAYS_EAGER). Either way a failure here (broker or storage down)
    is logged, never the request's error: the file is stored and stays in quarantine, and
    the periodic `attachments_scan_lost` hands it to the scanner later."""
    attachment_id = str(attachment.pk)
    transaction.on_commit(lambda: _scan_send(attachment_id), robust=True)


def _scan_send(attachment_id: str) -> None:
    from forms_engine.tasks import attachment_scan as task

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # In process, without a broker: in a background thread (TASKS_IN_BACKGROUND) or now.
        run_soon("attachment_scan", lambda: task.apply(args=[attachment_id], throw=True))
    else:
        task.delay(attachment_id)


def promoted_key(key: str) -> str:
    """quarantine/<random> -> files/<random>; a key outside quarantine/ gets a new one."""
    prefix = m.Attachment.QUARANTINE_PREFIX
    suffix = key[len(prefix) :] if key.startswith(prefix) else uuid.uuid4().hex
    return m.Attachment.FILES_PREFIX + suffix


def attachment_scan(attachment_id: str, attempt: int = 1) -> ScanOutcome:
    """One attempt at scanning one quarantined file (`attempt` counts them, for staff)."""
    attachment = m.Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or attachment.status != Status.QUARANTINED:
        return ScanOutcome.SKIPPED
    key = attachment.storage_key
    address = scanning.configured_address()
    if address is None:
        return _promote(attachment_id, key, Status.NOT_SCANNED)

    store = object_store()
    target = key
    if not store.exists(key):
        # Moved already by an attempt whose database write was lost: scan it where it is.
        target = promoted_key(key)
        if not store.exists(target):
            return _missing(attachment_id, key)
    try:
        result = scanning.scan_stream(store.open_stream(target, scanning.CHUNK_SIZE), address)
    except ObjectMissing:  # removed while it was read (the resident took it back)
        return _missing(attachment_id, key)
    if result.verdict is scanning.Verdict.CLEAN:
        return _promote(attachment_id, key, Status.CLEAN)
    if result.verdict is scanning.Verdict.INFECTED:
        return _discard(attachment_id, key, Status.INFECTED, result.detail)
    if result.verdict is scanning.Verdict.UNSCANNABLE:
        return _discard(attachment_id, key, Status.REFUSED, result.detail)
    # Never clean without a verdict: it stays in quarantine and the detail says why (staff).
    detail = f"attempt {attempt}: {result.detail}"
    log.warning("attachment %s not scanned yet, %s", attachment_id, detail)
    m.Attachment.objects.filter(pk=attachment_id, status=Status.QUARANTINED).update(
        scan_detail=detail[:255]
    )
    return ScanOutcome.RETRY


def _locked(attachment_id: str, key: str) -> m.Attachment | None:
    """The row under its lock, if it is still the quarantined file that was scanned."""
    attachment = m.Attachment.objects.select_for_update().filter(pk=attachment_id).first()
    if attachment is None or attachment.status != Status.QUARANTINED:
        return None
    if attachment.storage_key != key:
        return None
    return attachment


def _promote(attachment_id: str, key: str, status: str) -> ScanOutcome:
    store = object_store()
    destination = promoted_key(key)
    with transaction.atomic():
        attachment = _locked(attachment_id, key)
        if attachment is None:
            return ScanOutcome.SKIPPED
        if store.exists(key):
            store.move(key, destination)
        elif not store.exists(destination):
            return _missing(attachment_id, key)
        attachment.file.name = destination
        attachment.status = status
        attachment.scan_detail = ""
        attachment.scanned_at = timezone.now() if status == Status.CLEAN else None
        attachment.save(update_fields=["file", "status", "scan_detail", "scanned_at"])
        if attachment.submission_id is not None:
            submission_files_ready_announce(attachment.submission_id)
    log.info("attachment %s %s", attachment_id, status)
    return ScanOutcome.CLEAN if status == Status.CLEAN else ScanOutcome.NOT_SCANNED


def _discard(attachment_id: str, key: str, status: str, detail: str) -> ScanOutcome:
    """Delete the file, keep the row (the resident is told), and take the file out of the
    draft's answers: it no longer counts as attached."""
    store = object_store()
    with transaction.atomic():
        # The draft first, then the file: the order attachment_remove locks them in.
        draft_id = (
            m.Attachment.objects.filter(pk=attachment_id).values_list("draft_id", flat=True).first()
        )
        if draft_id is None:
            return ScanOutcome.SKIPPED
        draft = m.Draft.objects.select_for_update().get(pk=draft_id)
        attachment = _locked(attachment_id, key)
        if attachment is None:
            return ScanOutcome.SKIPPED
        for stale in (key, promoted_key(key)):
            store.delete(stale)
        attachment.status = status
        attachment.scan_detail = detail[:255]
        attachment.scanned_at = timezone.now()
        attachment.save(update_fields=["status", "scan_detail", "scanned_at"])
        if attachment.submission_id is not None:
            submission_files_ready_announce(attachment.submission_id)
        if draft.status == m.Draft.Status.OPEN:
            answers = without_files(draft.answers, {str(attachment.pk)})
            pending = without_files(draft.pending, {str(attachment.pk)})
            m.Draft.objects.filter(pk=draft.pk).update(answers=answers, pending=pending)
    # The signature is for staff; the log has ids only.
    log.warning("attachment %s %s: %s", attachment_id, status, detail)
    return ScanOutcome.INFECTED if status == Status.INFECTED else ScanOutcome.UNSCANNABLE


def _missing(attachment_id: str, key: str) -> ScanOutcome:
    # A quarantined row whose file is gone: the resident removed it (the row goes with it)
    # or the store lost it. Nothing can be scanned; it stays undeliverable.
    log.warning("attachment %s: no file under its key to scan", attachment_id)
    return ScanOutcome.SKIPPED


def without_files(value: Any, attachment_ids: set[str]) -> Any:
    """Answers (or pending input) without the file values of these attachments."""
    if not attachment_ids:
        return value
    if isinstance(value, dict):
        return {k: without_files(v, attachment_ids) for k, v in value.items()}
    if isinstance(value, list):
        return [
            without_files(v, attachment_ids)
            for v in value
            if not (isinstance(v, dict) and v.get("id") in attachment_ids and "size" in v)
        ]
    return value


def _file_ids_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        if "size" in value and isinstance(value.get("id"), str):
            return {value["id"]}
        return set().union(*(_file_ids_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_file_ids_in(v) for v in value))
    return set()


def without_discarded_files(value: Any) -> Any:
    """Answers about to be saved, without files a scan deleted meanwhile: the scan and the
    page's save may cross (the scan of a form-posted file can finish before the page that
    brought it is saved), and a deleted file must never count as attached. Called under
    the draft's lock, which the scan takes too."""
    ids = _file_ids_in(value)
    if not ids:
        return value
    discarded = {
        str(pk)
        for pk in m.Attachment.objects.filter(
            pk__in=ids, status__in=(Status.INFECTED, Status.REFUSED)
        ).values_list("pk", flat=True)
    }
    return without_files(value, discarded)


# A file in quarantine this long without any scan attempt lost its task (a broker outage
# when it was stored, a lost message): the periodic sweep sends it again. Files whose task
# is retrying say so in scan_detail ("attempt N: ...") and are left to it.
# settings.ATTACHMENT_SCAN_LOST_SECONDS (one hour by default).


def attachments_quarantined_rescan(*, lost_only: bool = False, in_process: bool = False) -> int:
    """Hand every file still in quarantine to the scanner again: after a long clamd
    outage (`manage.py attachments_scan`), or, with `lost_only`, those that never had a
    scan attempt (the periodic task). `in_process` scans them here and now. Returns how
    many were handed on."""

    waiting = m.Attachment.objects.filter(status=Status.QUARANTINED)
    if lost_only:
        lost_after = timedelta(seconds=settings.ATTACHMENT_SCAN_LOST_SECONDS)
        waiting = waiting.filter(scan_detail="", created_at__lt=timezone.now() - lost_after)
    ids = [str(pk) for pk in waiting.order_by("created_at").values_list("pk", flat=True)]
    for attachment_id in ids:
        if in_process:
            attachment_scan(attachment_id)
        else:
            _scan_send(attachment_id)
    return len(ids)
