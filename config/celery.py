"""Celery application. Without CELERY_BROKER_URL tasks run in-process (eager)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every queue, so that a plain `celery -A config worker` consumes them all (settings.py
# says which tasks go where: CELERY_TASK_ROUTES). Declared here rather than in the
# settings: Celery completes these objects in place (exchange, routing key) the first time
# it sends a task.
app.conf.task_queues = tuple(Queue(name) for name in ("celery", "deliveries", "scans", "exports"))
app.autodiscover_tasks()
