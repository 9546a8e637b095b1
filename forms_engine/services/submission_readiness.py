"""A submission is handed on only once it is settled, in two steps, each an outbox event
written once per submission under the submission's row lock:

- `submission.files_ready`: none of its files is uploading or waits for its scan; written
  in the transaction that settles the last file (or at completion, when no file waits).
- `submission.ready` (the handoff): files ready AND no before-review payment awaited
  (status AWAITING_PAYMENT). Written right after `files_ready` when no fee is awaited, or
  by payments (`submission_handoff_announce`) once the payment settles. Deliveries to the
  back office start from it, never from `submission.completed` (written at completion,
  while files may still be uploading or waiting for their scan, and a fee unpaid).

Exactly once per submission: the submission's row is locked before the check, so a
completion and a scan, two scans of its files, or a scan and a payment that finish at
the same moment write each event once between them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from forms_engine import models as m
from forms_engine.outbox import outbox_emit
from forms_engine.topics import SUBMISSION_FILES_READY, SUBMISSION_READY

from .selectors import submission_files_ready

FILES_READY = SUBMISSION_FILES_READY
READY = SUBMISSION_READY


def submission_files_ready_announce(submission_id: uuid.UUID | str) -> bool:
    """Write the `submission.files_ready` event if no file of the submission is uploading
    or quarantined and it has not been written yet, then the handoff if it is due. Call it
    inside the transaction that changed the submission's files, so that the events commit
    with the change (its own atomic block is then a savepoint). Returns whether
    `files_ready` was written now."""
    with transaction.atomic():
        submission = m.Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None:
            return False
        if m.OutboxEvent.objects.filter(submission=submission, topic=FILES_READY).exists():
            return False
        if not submission_files_ready(submission):
            return False
        outbox_emit(FILES_READY, submission)
        _handoff(submission)
    return True


def submission_new_ready_events(
    submission: m.Submission,
) -> list[tuple[str, m.Submission, dict[str, Any]]]:
    """The events of a submission created in the caller's transaction with no file, for
    `outbox_emit_many`: `files_ready` at once (no file can be waiting), and the handoff
    unless a payment is awaited. No lock and no look-up is needed: nothing else can see
    the submission, or have written an event for it, before that transaction commits.
    A submission with files goes through `submission_files_ready_announce`."""
    events: list[tuple[str, m.Submission, dict[str, Any]]] = [(FILES_READY, submission, {})]
    if submission.status != m.Submission.Status.AWAITING_PAYMENT:
        events.append((READY, submission, _ready_payload(submission)))
    return events


def submission_handoff_announce(submission_id: uuid.UUID | str) -> bool:
    """Write `submission.ready` once, if the submission is settled: its files ready and no
    before-review payment awaited. Payments call it after a payment settles (having moved
    the status on from AWAITING_PAYMENT in the same transaction). Returns whether it was
    written now."""
    with transaction.atomic():
        submission = m.Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None:
            return False
        if not m.OutboxEvent.objects.filter(submission=submission, topic=FILES_READY).exists():
            return False
        return _handoff(submission)


def _handoff(submission: m.Submission) -> bool:
    """Under the submission's row lock."""
    if submission.status == m.Submission.Status.AWAITING_PAYMENT:
        return False
    if m.OutboxEvent.objects.filter(submission=submission, topic=READY).exists():
        return False
    outbox_emit(READY, submission, **_ready_payload(submission))
    return True


def _ready_payload(submission: m.Submission) -> dict[str, Any]:
    return {"procedure_version": submission.procedure_version_id, "status": submission.status}
