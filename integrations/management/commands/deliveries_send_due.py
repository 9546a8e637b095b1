"""`manage.py deliveries_send_due`: send now the deliveries that are due (retries whose
time has come, deliveries whose worker died, tasks the broker lost). Celery beat does this
every DELIVERY_POLL_SECONDS; without a broker (the embedded default), the serving
process's background threads do (forms_engine/background.py); this command sends them at
once, here (not in background threads), and returns when they are done."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from integrations.deliveries import deliveries_enqueue_due


class Command(BaseCommand):
    help = "Send (or queue, with a broker) the deliveries that are due now."

    def handle(self, *args: Any, **options: Any) -> None:
        with override_settings(TASKS_IN_BACKGROUND=False):
            count = deliveries_enqueue_due()
        self.stdout.write(f"{count} due deliveries handed on")
