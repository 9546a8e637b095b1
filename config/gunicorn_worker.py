"""gunicorn's gthread worker, timing how long each request waits for a thread.

A gthread worker accepts up to `worker_connections` connections and queues their requests
for its few threads. Past capacity that queue, not the overload guard, is where a resident
waits, and without a bound: in a 10x burst on a saturated server first answers took tens
of seconds with few 429s. This worker notes when a connection's request is queued and
when a thread takes it, and hands the wait to the guard (forms_engine/overload.py), which
then waits only for what is left of OVERLOAD_WAIT_SECONDS: a request queued too long is
answered 429 at once (a millisecond of work), so the queue drains and every request gets
an answer within about a second."""

from __future__ import annotations

import time

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

from forms_engine.overload import queue_wait_set


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

    def handle_request(self, req, conn):  # type: ignore[no-untyped-def]
        queued, taken = getattr(conn, "queued_at", None), getattr(conn, "taken_at", None)
        queue_wait_set(taken - queued if queued is not None and taken is not None else None)
        try:
            return super().handle_request(req, conn)
        finally:
            queue_wait_set(None)
