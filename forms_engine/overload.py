"""Overload is answered, never a crash: a per-process bound on the requests that run at once.

With `OVERLOAD_MAX_CONCURRENT` set (threaded workers: gunicorn's `gthread`, see
gunicorn.conf.py), a request that finds every slot taken waits up to
`OVERLOAD_WAIT_SECONDS` for one, then gets a tiny translated 429 page with `Retry-After`
at once instead of queuing until it times out. Under gunicorn.conf.py's worker the time a
request waited for a thread counts against that budget too. Its cost is a semaphore; it holds nothing
per request past the response, so memory stays flat however many arrive. The liveness
probe is never refused (a busy worker is alive)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

EXEMPT_PREFIXES = ("/healthz/live",)

# How long the request waited in the server's queue before a thread took it: a WSGI
# environ entry set by gunicorn.conf.py's worker (config/gunicorn_worker.py; absent under
# another server). gunicorn's gthread worker accepts many connections and queues their
# requests for its few threads: that wait comes before this guard, so the guard's own wait
# is what is left of the budget.
QUEUE_WAIT_KEY = "denshi.queue_wait"


def queue_wait(request: HttpRequest) -> float | None:
    waited = request.META.get(QUEUE_WAIT_KEY)
    return float(waited) if isinstance(waited, int | float) else None


class ConcurrencyGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        limit = settings.OVERLOAD_MAX_CONCURRENT
        self.slots = threading.BoundedSemaphore(limit) if limit > 0 else None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.slots is None or request.path.startswith(EXEMPT_PREFIXES):
            return self.get_response(request)
        budget = float(settings.OVERLOAD_WAIT_SECONDS)
        waited = queue_wait(request)
        if waited:
            # Waited in the server's queue already: a free slot is still taken at once,
            # but the guard waits only for what is left of the budget.
            budget = max(0.0, budget - waited)
        if not self.slots.acquire(timeout=budget):
            return too_many_requests(request)
        try:
            return self.get_response(request)
        finally:
            self.slots.release()


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """The 429 page: rendered without the session or the database, in the language the
    resident chose with the switch."""
    from django.template import loader
    from django.utils import translation

    from forms_engine.middleware import chosen_language

    language = chosen_language(request)
    with translation.override(language):
        body = loader.get_template("429.html").render({})
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(settings.OVERLOAD_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response
