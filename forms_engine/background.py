"""In-process background work for the embedded default (no broker, TASKS_IN_BACKGROUND).

Without a broker the tasks kicked when a change commits (the outbox's consumers, webhook
deliveries, malware scans, mails) used to run inside the request that made the change:
a back-office receiver that never answers held the resident's completion page for the
webhook timeouts. Here they go to a small pool of threads of the serving process instead,
and a ticker thread runs the periodic jobs that Celery beat runs with a broker (the
outbox's leftovers, deliveries due again), so retries happen without beat.

Everything handed over is safe to run twice and in parallel (each job claims its rows in
the database), so several serving processes each with their own threads are fine, and
work lost with a process is picked up by the periodic jobs of the next one.

With TASKS_IN_BACKGROUND off (the tests, which rely on the work having run when the
request returns; and whenever a broker is configured, where Celery runs it), `run_soon`
runs the work at once in the caller's thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)


@dataclass
class _Periodic:
    name: str
    job: Callable[[], Any]
    last: float = 0.0
    running: bool = field(default=False)


_PERIODIC: dict[str, _Periodic] = {}
_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_ticker: threading.Thread | None = None
_stopping = threading.Event()
_pid: int | None = None


def background_periodic(name: str, job: Callable[[], Any]) -> None:
    """Register a job the ticker runs every BACKGROUND_PERIODIC_SECONDS (apps call this
    from their `ready()`); it is never started again while its last run goes on."""
    _PERIODIC[name] = _Periodic(name, job)


def run_soon(name: str, job: Callable[..., Any], *args: Any) -> None:
    """Run `job(*args)` in a background thread (TASKS_IN_BACKGROUND), else now, here.
    `name` (no personal data) is what a failure is logged under. Never raises in the
    background case; in the other, the job's exception reaches the caller, as before."""
    if not settings.TASKS_IN_BACKGROUND:
        job(*args)
        return
    executor = background_start()
    executor.submit(_run, name, job, args)


def _run(name: str, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        job(*args)
    except Exception as exc:
        # The job's own code logs what it knows; here the name and the kind only.
        log.error("background job %s failed: %s", name, type(exc).__name__)
    finally:
        # A thread of the pool lives on: never keep a connection between jobs.
        connections.close_all()


def background_start() -> ThreadPoolExecutor:
    """Start the pool and the ticker in this process (again after a fork)."""
    global _executor, _ticker, _pid
    with _lock:
        if _executor is None or _pid != os.getpid():
            _stopping.clear()
            _pid = os.getpid()
            # A periodic job queued when the last pool stopped was cancelled before its
            # `finally` could say it ended (or the fork copied a running flag): without
            # this, the ticker of the new pool would never start it again.
            for periodic in _PERIODIC.values():
                periodic.running, periodic.last = False, 0.0
            _executor = ThreadPoolExecutor(
                max_workers=max(1, settings.BACKGROUND_THREADS),
                thread_name_prefix="background",
            )
            _ticker = threading.Thread(target=_tick, name="background-ticker", daemon=True)
            _ticker.start()
        return _executor


def background_stop(wait: bool = True) -> None:
    """Stop the ticker and the pool (tests; a process that ends), waiting for running jobs."""
    global _executor, _ticker
    with _lock:
        executor, ticker = _executor, _ticker
        _executor = _ticker = None
        _stopping.set()
    if ticker is not None and wait:
        ticker.join(timeout=10)
    if executor is not None:
        executor.shutdown(wait=wait, cancel_futures=True)


def _tick() -> None:
    while not _stopping.wait(0.1):
        if not settings.TASKS_IN_BACKGROUND:
            continue
        every = settings.BACKGROUND_PERIODIC_SECONDS
        now = time.monotonic()
        for periodic in list(_PERIODIC.values()):
            if periodic.running or now - periodic.last < every:
                continue
            periodic.running, periodic.last = True, now
            executor = _executor
            if executor is None:
                return
            try:
                executor.submit(_run_periodic, periodic)
            except RuntimeError:  # shut down meanwhile
                return


def _run_periodic(periodic: _Periodic) -> None:
    try:
        _run(periodic.name, periodic.job, ())
    finally:
        periodic.running = False
