"""A submission is handed on only once its files are settled: the core says so with an
outbox event, `submission.files_ready`, written in the transaction that settles the last
file (or at completion, when no file waits). Consumers that hand a submission on start
from it, never from `submission.completed` alone: that one is written at completion,
while files may still be uploading or waiting for their scan.

Exactly once per submission: the submission's row is locked before the check, so a
completion and a scan, or two scans of its files, that finish at the same moment write it
once between them.
"""

from __future__ import annotations

import uuid

from django.db import transaction

from forms_engine import models as m

from .selectors import submission_files_ready

FILES_READY = "submission.files_ready"


def submission_files_ready_announce(submission_id: uuid.UUID | str) -> bool:
    """Write the `submission.files_ready` event if no file of the submission is uploading
    or quarantined and it has not been written yet. Call it inside the transaction that
    changed the submission's files, so that the event commits with the change (its own
    atomic block is then a savepoint). Returns whether it was written now."""
    with transaction.atomic():
        submission = m.Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None:
            return False
        if m.OutboxEvent.objects.filter(submission=submission, topic=FILES_READY).exists():
            return False
        if not submission_files_ready(submission):
            return False
        m.OutboxEvent.objects.create(
            topic=FILES_READY, submission=submission, payload={"submission": str(submission.pk)}
        )
    return True
