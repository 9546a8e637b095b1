"""Celery application. Without CELERY_BROKER_URL tasks run in-process (eager)."""

import os

from celery import Celery, signals
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


@signals.task_prerun.connect
@signals.task_postrun.connect
def _db_connections_tidy(sender=None, **kwargs):
    """A worker's database connections follow Django's rules, as a request's do: before
    and after each task, close_old_connections() closes a connection past DB_CONN_MAX_AGE
    or left unusable by an error, and the next query health-checks a kept one
    (CONN_HEALTH_CHECKS). Celery's Django fixup would close every connection around every
    task instead (settings.CELERY_DB_REUSE_MAX keeps it from doing so): a new PostgreSQL
    backend per task (started, authenticated, its catalogue caches filled again) and no
    statement prepared for longer than one task (docs/performance.md, Deliveries). Not
    for a task run in-process (eager): that one runs inside a request's or a test's
    transaction, whose connection is not the task's to close."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
