"""Celery tasks of the forms engine. They take ids (or nothing), never personal data, and
can run twice or in parallel without doing the work twice."""

import logging

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings

from . import services

log = logging.getLogger(__name__)


def scan_retry_delay(retries: int) -> int:
    """Seconds to wait after the (retries + 1)-th failed attempt in a row: doubling from
    CLAMD_RETRY_FIRST_SECONDS, capped at CLAMD_RETRY_MAX_SECONDS."""
    first, cap = settings.CLAMD_RETRY_FIRST_SECONDS, settings.CLAMD_RETRY_MAX_SECONDS
    return int(min(first * 2 ** min(retries, 20), cap))


@shared_task(acks_late=True)
def resident_mails_send() -> int:
    """Mails about the review of a submission: polled by Celery beat; in-process after
    each workflow event in the embedded default."""
    return services.resident_mails_send()


@shared_task(bind=True, acks_late=True)
def attachment_scan(self, attachment_id: str) -> str:
    """Scan one quarantined file and promote or delete it (services.attachment_scan). Sent
    to the "scans" queue (CELERY_TASK_ROUTES). An unreachable clamd is tried again with
    backoff; the file is never marked clean without a verdict, and past the last attempt
    it stays in quarantine until `manage.py attachments_scan` is run."""
    outcome = services.attachment_scan(attachment_id, attempt=self.request.retries + 1)
    if outcome == services.ScanOutcome.RETRY and not self.request.is_eager:
        # In process (embedded default) a retry would block the request that stored the
        # file: there the file stays in quarantine until `manage.py attachments_scan`.
        try:
            raise self.retry(
                countdown=scan_retry_delay(self.request.retries),
                max_retries=settings.CLAMD_RETRY_ATTEMPTS,
            )
        except MaxRetriesExceededError:
            log.error(
                "attachment %s: no verdict from clamd after %s attempts; it stays in "
                "quarantine (manage.py attachments_scan tries again)",
                attachment_id,
                self.request.retries + 1,
            )
    return str(outcome)


@shared_task(acks_late=True)
def attachments_scan_lost() -> int:
    """Polled by Celery beat: files that have waited in quarantine for an hour without a
    scan attempt (their task was never sent or was lost) are sent to the scanner again."""
    return services.attachments_quarantined_rescan(lost_only=True)


@shared_task(acks_late=True)
def uploads_abort_stale() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): abort direct uploads never completed."""
    return services.uploads_abort_stale()


@shared_task(acks_late=True)
def drafts_abandoned_files_delete() -> int:
    """Nightly: delete the files of drafts abandoned past their resume link."""
    return services.drafts_abandoned_files_delete()


@shared_task(acks_late=True)
def submissions_expired_files_delete() -> int:
    """Nightly: delete the files of submissions past their retention, keeping the rows."""
    return services.submissions_expired_files_delete()


@shared_task(acks_late=True)
def outbox_dispatch(consumer: str | None = None) -> int:
    """Run the due outbox rows of one consumer (all when None): kicked after each emit,
    and by Celery beat (OUTBOX_DISPATCH_SECONDS) for what a lost kick left behind. A full
    batch means more may wait: the consumer is kicked again rather than holding a worker."""
    from .outbox import OUTBOX_BATCH, outbox_dispatch_kick, outbox_kick_started
    from .outbox import outbox_dispatch as dispatch

    # Before reading the rows: a commit from now on kicks again (see outbox_dispatch_kick).
    outbox_kick_started([consumer] if consumer else None)
    full: list[str] = []
    done = dispatch(consumer, limit=OUTBOX_BATCH, full=full)
    # A consumer whose batch was full (counted by rows read, not rows done: a failed row
    # or one another task held still leaves the rest waiting) is kicked again.
    if full and not settings.CELERY_TASK_ALWAYS_EAGER:
        outbox_dispatch_kick(full)
    return done


@shared_task(acks_late=True)
def outbox_dispatch_all() -> int:
    """On the beat schedule: one outbox_dispatch task per registered consumer, so that a
    slow consumer's rows never hold up another's."""
    from .outbox import outbox_consumers, outbox_dispatch_kick_all

    outbox_dispatch_kick_all()
    return len(outbox_consumers())


@shared_task(acks_late=True)
def receipt_document_render(submission_id: str) -> str:
    """Make the receipt PDF of one submission (routed to the `exports` queue: WeasyPrint
    and its fonts live in that worker). Idempotent: made once per submission."""
    return str(services.receipt_document_make(submission_id).pk)
