"""gunicorn's gthread worker, timing how long each request waits for a thread.

A gthread worker accepts up to `worker_connections` connections and queues their requests
for its few threads. Past capacity that queue, not the overload guard, is where a resident
waits, and without a bound: in a 10x burst on a saturated server first answers took tens
of seconds with few 429s. This worker notes when a connection's request is queued and
when a thread takes it, and hands the wait to the guard (forms_engine/overload.py) in the request's environ, which
then waits only for what is left of OVERLOAD_WAIT_SECONDS: a request queued too long is
answered 429 at once (a millisecond of work), so the queue drains and every request gets
an answer within about a second."""

from __future__ import annotations

import threading
import time

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

# The WSGI environ key the overload guard reads (forms_engine/overload.py). gunicorn's
# master imports this module to find the worker class and keeps it across a HUP reload, so
# it imports nothing of the service: the wait travels in the request's environ.
QUEUE_WAIT_KEY = "denshi.queue_wait"


class QueueTimedWorker(ThreadWorker):  # type: ignore[misc]
    def enqueue_req(self, conn):  # type: ignore[no-untyped-def]
        conn.queued_at = time.monotonic()
        conn.taken_at = None
        super().enqueue_req(conn)

    def handle(self, conn):  # type: ignore[no-untyped-def]
        # In the thread: the end of the queue wait (the wait for the client's first bytes,
        # which handle() may do next, is the client's, not the server's).
        conn.taken_at = time.monotonic()
        return super().handle(conn)

    def load_wsgi(self):  # type: ignore[no-untyped-def]
        super().load_wsgi()
        app, waits = self.wsgi, threading.local()
        self._waits = waits

        def timed(environ, start_response):  # type: ignore[no-untyped-def]
            environ[QUEUE_WAIT_KEY] = getattr(waits, "waited", None)
            return app(environ, start_response)

        self.wsgi = timed

    def handle_request(self, req, conn):  # type: ignore[no-untyped-def]
        queued, taken = getattr(conn, "queued_at", None), getattr(conn, "taken_at", None)
        self._waits.waited = taken - queued if queued is not None and taken is not None else None
        try:
            return super().handle_request(req, conn)
        finally:
            self._waits.waited = None
