#!/usr/bin/env python
"""The cost of one webhook delivery, without Celery, in one process: what
`delivery_rate` spends per delivery in a worker thread, split between this process's
Python and the PostgreSQL backend that serves it, with the statements it sends.

    .venv/bin/python benchmarks/profile_delivery.py [--deliveries 400] [--cprofile]

A fresh bench database (dropped afterwards), the procedures, N submissions with a pending
webhook delivery each, a receiver on loopback (the one of `delivery_rate`, verifying each
signature with `standardwebhooks`), then `deliveries_send` on DELIVERY_BATCH (8) at a time,
one after the other. Printed per delivery: SQL statements (by kind), the sending thread's
CPU (the receiver runs in other threads of this process and is left out), the
PostgreSQL backend's CPU (from /proc, the backend of this process's connection), and the
wall time. Both CPU figures are repeatable enough on a busy machine to compare two
versions of the code; the wall time is not. `--cprofile` adds the top functions of the
sending thread by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.delivery_rate import SECRET, Receiver, prepare  # noqa: E402
from benchmarks.run import (  # noqa: E402
    DB_PREFIX,
    BenchError,
    bench_database_url,
    database_drop,
    database_recreate,
    log,
)


def _proc_cpu(pid: int) -> float:
    """Seconds a process has run on a CPU (/proc/PID/schedstat: nanoseconds, exact)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--deliveries", type=int, default=400)
    p.add_argument("--warmup", type=int, default=40, help="deliveries sent before measuring")
    p.add_argument("--cprofile", action="store_true")
    p.add_argument("--sql", action="store_true", help="print one delivery's statements")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--database-url", help=f"bench database (name must start {DB_PREFIX})")
    args = p.parse_args(argv)
    db_url = bench_database_url(args.database_url, f"{DB_PREFIX}_profile_delivery_{os.getpid()}")
    workdir = Path(tempfile.mkdtemp(prefix="denshi-profile-delivery-"))
    receiver = Receiver()
    database_recreate(db_url)
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": db_url,
                "CELERY_BROKER_URL": "",
                "TASKS_IN_BACKGROUND": "0",
                "DELIVERY_ALLOW_LOOPBACK": "1",
                "BENEFITS_URL": receiver.url,
                "BENEFITS_SECRET": SECRET,
                "VAR_DIR": str(workdir / "var"),
                "LOG_LEVEL": "WARNING",
                "EMBEDDED": "1",
            }
        )
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        from integrations.deliveries import deliveries_send
        from integrations.models import Delivery

        log(f"preparing {args.warmup + args.deliveries} submissions with a pending delivery")
        ids = prepare(args.warmup + args.deliveries)
        batch = max(1, settings.DELIVERY_BATCH)
        warm, measured = ids[: args.warmup], ids[args.warmup :]
        for first in range(0, len(warm), batch):
            deliveries_send(warm[first : first + batch])
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]

        statements: Counter[str] = Counter()
        backend_by_kind: Counter[str] = Counter()
        sql_log: list[str] = []

        def count(execute, sql, params, many, context):
            kind = sql.split(None, 1)[0].upper()
            statements[kind] += 1
            if args.sql and len(sql_log) < 12:
                with connection.cursor() as cursor:
                    sql_log.append(cursor.mogrify(sql, params) if params else sql)
            before = _proc_cpu(backend)
            try:
                return execute(sql, params, many, context)
            finally:
                backend_by_kind[kind] += _proc_cpu(backend) - before

        profiler = cProfile.Profile(time.thread_time) if args.cprofile else None
        backend_before = _proc_cpu(backend)
        cpu_before = time.thread_time()
        start = time.perf_counter()
        with connection.execute_wrapper(count):
            if profiler:
                profiler.enable()
            for first in range(0, len(measured), batch):
                deliveries_send(measured[first : first + batch])
            if profiler:
                profiler.disable()
        wall = time.perf_counter() - start
        cpu = time.thread_time() - cpu_before
        backend_cpu = _proc_cpu(backend) - backend_before
        n = len(measured)
        delivered = Delivery.objects.filter(pk__in=measured, state="delivered").count()
        if delivered != n or receiver.bad:
            raise BenchError(f"{delivered} of {n} delivered, {receiver.bad} unverified")
        kinds = ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(statements.items()))
        print(f"{'deliveries':>16}: {n} ({batch} per call, one after the other)")
        print(f"{'statements':>16}: {sum(statements.values()) / n:.2f} per delivery ({kinds})")
        print(f"{'python cpu':>16}: {1000 * cpu / n:.2f} ms per delivery (the sending thread)")
        print(f"{'postgresql cpu':>16}: {1000 * backend_cpu / n:.2f} ms per delivery (its backend)")
        in_statements = sum(backend_by_kind.values())
        split = ", ".join(f"{k} {1000 * v / n:.2f}" for k, v in sorted(backend_by_kind.items()))
        print(
            f"{'':>16}  {1000 * in_statements / n:.2f} ms in the statements ({split}), "
            f"{1000 * (backend_cpu - in_statements) / n:.2f} ms in the rest "
            "(BEGIN, COMMIT: the commit's work)"
        )
        print(f"{'wall':>16}: {1000 * wall / n:.2f} ms per delivery")
        print(f"{'load average':>16}: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT left(regexp_replace(statement, '\\s+', ' ', 'g'), 60), generic_plans,"
                " custom_plans FROM pg_prepared_statements"
            )
            for text, generic, custom in cursor.fetchall():
                print(f"{'prepared':>16}: {text}... generic plans {generic}, custom {custom}")
        for sql in sql_log[: round(sum(statements.values()) / n)]:
            print(sql + ";")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            print(out.getvalue())
        return 0
    finally:
        receiver.close()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # pragma: no cover - Django never set up
            pass
        if args.keep:
            log(f"kept {urlsplit(db_url).path.lstrip('/')}")
            return 0  # noqa: B012 - the database stays for a look
        database_drop(db_url)
        log(f"dropped {urlsplit(db_url).path.lstrip('/')}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"profile_delivery: {exc}", file=sys.stderr)
        sys.exit(1)
