"""Celery tasks of the integrations room: ids only, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import deliveries


@shared_task(acks_late=True)
def delivery_send(delivery_id: str) -> str:
    """Try one delivery (queue "deliveries", CELERY_TASK_ROUTES)."""
    return deliveries.delivery_send(delivery_id)


@shared_task(acks_late=True)
def deliveries_enqueue_due() -> int:
    """On the beat schedule (DELIVERY_POLL_SECONDS): queue what is due again."""
    return deliveries.deliveries_enqueue_due()
