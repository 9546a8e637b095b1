"""Health probes, split the way container platforms expect.

Liveness: the process answers; nothing else is touched, so an outage of the database never
gets healthy workers restarted. Readiness: this instance can serve requests now: the
database, the cache and, when one is configured, the Celery broker answer. A platform stops
sending traffic to an instance that is not ready and sends it again once it is."""

from __future__ import annotations

import logging
import secrets

from django.conf import settings

logger = logging.getLogger(__name__)

# Seconds a probe waits for the broker: an answer slower than that is a failure to a probe.
BROKER_TIMEOUT = 2.0


def _database() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    from django.core.cache import cache

    key = f"healthz:{secrets.token_hex(8)}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def _broker() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)


def readiness_failures() -> list[str]:
    """The names of the dependencies that did not answer (empty: ready)."""
    probes = [("database", _database), ("cache", _cache)]
    if settings.CELERY_BROKER_URL:
        probes.append(("broker", _broker))
    failed = []
    for name, probe in probes:
        try:
            probe()
        except Exception as exc:  # any failure means not ready; the log says which
            logger.warning("readiness: %s unavailable: %s", name, exc.__class__.__name__)
            failed.append(name)
    return failed
