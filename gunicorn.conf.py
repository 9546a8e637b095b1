"""gunicorn settings for the web workers, from the environment (README: "Web workers and
overload"). `gunicorn config.wsgi -c gunicorn.conf.py`.

    WEB_CONCURRENCY         worker processes (default 2 x cores + 1)
    GUNICORN_THREADS        threads per worker (default 4; gthread workers)
    GUNICORN_BIND           address (default 127.0.0.1:8000; behind the TLS proxy)
    GUNICORN_BACKLOG        connections the kernel holds while every worker is busy (256)
    GUNICORN_TIMEOUT        seconds before a stuck worker is restarted (30)
    GUNICORN_MAX_REQUESTS   requests before a worker is replaced (5000, +-10% jitter)
    GUNICORN_WORKER_CONNECTIONS  connections one worker holds open at once (1000)
    GUNICORN_KEEPALIVE      seconds an idle connection is kept (2: under every pause the
                            service asks of a client)

Overload: each worker runs at most OVERLOAD_MAX_CONCURRENT requests at once (default here:
threads - 1); a request that finds no slot within OVERLOAD_WAIT_SECONDS (0.5) gets a 429
with Retry-After rather than a timeout (the waiting room's page is answered before this
guard: forms_engine/views/waiting.py). Memory: nothing per request outlives it, and workers are replaced after
GUNICORN_MAX_REQUESTS requests as a guard against slow growth in libraries.

Database connections: one per thread that served a request, kept CONN_MAX_AGE (60 s) and
health-checked: at most WEB_CONCURRENCY x GUNICORN_THREADS per machine. Keep the sum over
all machines under PostgreSQL's max_connections (100 by default) less what Celery and
administration use; see the README for 2 and 16 cores.
"""

import os

_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * _cores + 1))
worker_class = "config.gunicorn_worker.QueueTimedWorker"  # gthread, queue wait timed
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# gthread: connections one worker holds at once, idle kept-alive ones included (they cost
# a socket in the worker's selector, no thread). Low values make a rush of browsers, each
# holding a connection, wait in the kernel's backlog and time out: keep gunicorn's default.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "256"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Seconds an idle kept-alive connection stays open. Shorter than every pause the service
# asks of a client (the 429's Retry-After and the waiting page's Refresh are at least 5 s,
# its script's polls at least 3 s): a connection is closed well before the client would
# send on it again, never at the same moment. A proxy keeping connections to gunicorn
# (nginx upstream `keepalive`) must close idle ones sooner than this (its
# `keepalive_timeout` under 2 s), or a request crossing a close is a 502. At 5 s the two crossed, and a client that does not resend on a reused connection
# (Locust's; browsers do resend) lost the POST it sent just as gunicorn closed it.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "2"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# The service reads this in settings: leave one thread free to answer 429 at once.
os.environ.setdefault("OVERLOAD_MAX_CONCURRENT", str(max(1, threads - 1)))
