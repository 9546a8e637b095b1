"""Celery tasks of the forms engine. They take ids (or nothing), never personal data, and
can run twice or in parallel without doing the work twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def receipt_mails_send() -> int:
    """Polled by Celery beat (CELERY_BEAT_SCHEDULE); in-process after each filing in the
    embedded default."""
    return services.receipt_mails_send()


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
