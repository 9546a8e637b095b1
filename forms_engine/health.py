"""Health probes, split the way container platforms expect.

Liveness: the process answers; nothing else is touched, so an outage of the database never
gets healthy workers restarted. Readiness: this instance can serve requests now: the
database, the cache and, when one is configured, the Celery broker answer. A platform stops
sending traffic to an instance that is not ready and sends it again once it is.

Each dependency is asked in a thread of its own, all at once, and what has not answered
within PROBE_TIMEOUT counts as failed: a cache, broker or database that drops packets
holds the probe's thread (until the operating system gives up on the connection), never
the worker that serves the probe.

The broker is part of readiness: a broker outage takes every instance out of the load
balancer, although filings could go on (their outbox rows and receipt mails wait in the
database). That is the choice the issue made: an instance whose tasks cannot be queued is
not counted as ready."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)

# Seconds readiness waits for its dependencies: an answer slower than that is a failure.
PROBE_TIMEOUT = 1.0


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

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=PROBE_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=PROBE_TIMEOUT)


def _probe(name: str, probe: Callable[[], None], results: dict[str, str]) -> None:
    """Runs in its own thread: records "" (answered) or the error's class name."""
    from django.core.cache import caches
    from django.db import connections

    try:
        probe()
        results[name] = ""
    except Exception as exc:  # any failure means not ready; the log says which
        results[name] = exc.__class__.__name__
    finally:
        # The connections this thread opened (Django keeps them per thread).
        connections.close_all()
        caches.close_all()


def readiness_failures() -> list[str]:
    """The names of the dependencies that did not answer within PROBE_TIMEOUT (empty:
    ready)."""
    probes: list[tuple[str, Callable[[], None]]] = [("database", _database), ("cache", _cache)]
    if settings.CELERY_BROKER_URL:
        probes.append(("broker", _broker))
    results: dict[str, str] = {}
    threads = [
        threading.Thread(
            target=_probe, args=(name, probe, results), name=f"readiness-{name}", daemon=True
        )
        for name, probe in probes
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + PROBE_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    answered = dict(results)  # a late thread may still write
    failed = []
    for name, _probe_function in probes:
        error = answered.get(name, f"no answer within {PROBE_TIMEOUT} s")
        if error:
            logger.warning("readiness: %s unavailable: %s", name, error)
            failed.append(name)
    return failed
