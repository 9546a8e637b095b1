"""Celery tasks of the integrations room: ids only, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import deliveries


@shared_task(acks_late=True)
def delivery_send(delivery_id: str) -> str:
    """Try one delivery (queue "deliveries", CELERY_TASK_ROUTES)."""
    return deliveries.delivery_send(delivery_id)


@shared_task(acks_late=True)
def deliveries_send(delivery_ids: list[str]) -> dict[str, str]:
    """Try a batch of deliveries, each on its own (queue "deliveries"): what the poller and
    the on-commit kick queue (DELIVERY_BATCH per task)."""
    return deliveries.deliveries_send(delivery_ids)


@shared_task(acks_late=True)
def deliveries_enqueue_due() -> int:
    """On the beat schedule (DELIVERY_POLL_SECONDS): queue what is due again."""
    return deliveries.deliveries_enqueue_due()


@shared_task(acks_late=True)
def scheduled_runs_tick() -> int:
    """Every minute on the beat schedule: for each scheduled integration type (csv), plan
    the runs whose cron fired and queue each run to write now (new, failed and due
    again, or lost with its worker). Returns how many were queued."""
    from django.utils import timezone

    from .registry import integration_types

    now = timezone.now()
    queued = 0
    for key, target in integration_types().items():
        if not target.scheduled:
            continue
        for run_id in target.scheduled_runs_due(now):
            scheduled_run_write.apply_async(args=[key, run_id], retry=False)
            queued += 1
    return queued


@shared_task(acks_late=True)
def scheduled_run_write(type_key: str, run_id: int) -> str:
    """Write one run of a scheduled type (queue "exports", CELERY_TASK_ROUTES); safe to run
    twice."""
    from .registry import integration_type

    return integration_type(type_key).scheduled_run_write(run_id)
