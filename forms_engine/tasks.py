"""Celery tasks of the forms engine. They take ids (or nothing), never personal data, and
can run twice or in parallel without doing the work twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def receipt_mails_send() -> int:
    """Polled by Celery beat (CELERY_BEAT_SCHEDULE); in-process after each filing in the
    embedded default."""
    return services.receipt_mails_send()
