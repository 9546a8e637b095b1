"""`manage.py deliveries_send_due`: send now the deliveries that are due (retries whose
time has come, deliveries whose worker died, tasks the broker lost). Celery beat does this
every DELIVERY_POLL_SECONDS; without a broker (the embedded default), nothing polls, so
run this command (by hand or from cron) to retry what failed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from integrations.deliveries import deliveries_enqueue_due


class Command(BaseCommand):
    help = "Send (or queue, with a broker) the deliveries that are due now."

    def handle(self, *args: Any, **options: Any) -> None:
        count = deliveries_enqueue_due()
        self.stdout.write(f"{count} due deliveries handed on")
