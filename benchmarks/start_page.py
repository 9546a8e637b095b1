#!/usr/bin/env python
"""`make bench`: the start page of a procedure, where every rush begins, against the bare
template view of benchmarks/baseline_urls.py, under gunicorn on PostgreSQL with Redis as
the shared cache (as deployed), measured with wrk in the same run.

    start_page   GETs per second of /p/bench-city/facility-booking/ (a resident arriving,
                 no cookie; waiting room off); baseline: GET /bench/hello/.
                 Target: ratio >= 0.5.

Prints a table and one JSON line like benchmarks/run.py's. Exit status: 0 when valid and
on target, 3 when the target is missed, 1 when a run is not valid (more than 1% errors).
`--smoke`: 2 connections, 2 s, never fails on the target.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run as harness  # noqa: E402

START = ("bench-city", "facility-booking")
# The shared cache the start page reads (sessions, rate limits, the waiting room's
# config): Redis as in production. Its own database number; BENCH_REDIS_URL to move it.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny run: 2 connections, 2 s")
    p.add_argument("--duration", type=int)
    p.add_argument("--connections", type=int)
    p.add_argument("--workers", type=int)
    p.add_argument("--database-url")
    a = p.parse_args(argv)
    base = ["--smoke"] if a.smoke else []
    for name in ("duration", "connections", "workers"):
        if getattr(a, name):
            base += [f"--{name}", str(getattr(a, name))]
    args = harness.parse_args(base)
    args.database_url = a.database_url
    return args


def bench_start(args, server: harness.Gunicorn) -> harness.Result:
    org, slug = START
    baseline = harness.measured(
        args, "baseline GET /bench/hello/", f"{server.base}/bench/hello/", "get"
    )
    real = harness.measured(args, "GET start page", f"{server.base}/p/{org}/{slug}/", "get")
    result = harness.Result("start_page", real, baseline, 0.5)
    harness._check_runs(result, args.cores)
    result.notes.append(f"page: /p/{org}/{slug}/ (a newcomer: no cookie, waiting room off)")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise harness.BenchError("wrk is not installed (scripts/apt-ensure.sh wrk)")
    signal.signal(signal.SIGTERM, harness._on_sigterm)
    name = f"{harness.DB_PREFIX}_start_{os.getpid()}"
    db_url = harness.bench_database_url(args.database_url, name)
    args.db_name = urlsplit(db_url).path.lstrip("/")
    workdir = Path(tempfile.mkdtemp(prefix="denshi-bench-start-"))
    os.environ["CACHE_URL"] = REDIS_URL
    server = None
    created = False
    try:
        pg = harness.database_recreate(db_url)
        created = True
        prepare = harness.django_setup(db_url, workdir)
        prepare.schema_and_procedures(harness.PROCEDURES)
        from django.core.cache import cache
        from django.db import connections

        cache.clear()
        connections.close_all()
        server = harness.Gunicorn(args.workers, dict(os.environ), workdir / "gunicorn.log")
        harness.log(f"gunicorn: {args.workers} workers on {server.base}")
        server.start()
        args.gunicorn_pgid = server.proc.pid
        result = bench_start(args, server)
        server.stop()
        harness.report(args, harness.environment(args, pg), [result])
        if not result.valid:
            return 1
        return 0 if args.smoke or result.ok else 3
    finally:
        if server is not None:
            server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        if created:
            harness.database_drop(db_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except harness.BenchError as exc:
        print(f"bench: ERROR: {exc}", file=sys.stderr)
        sys.exit(1)
