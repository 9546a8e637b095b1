#!/usr/bin/env python
"""Where the time of one benchmarked request goes: the real views under Django's test
client (the whole middleware stack, CSRF enforced), on a fresh bench database like
benchmarks/run.py makes, in one process, so cProfile sees every Python frame.

    .venv/bin/python benchmarks/profile_views.py filing      # the final POST of a filing
    .venv/bin/python benchmarks/profile_views.py page        # GET of the 40-field page
    .venv/bin/python benchmarks/profile_views.py start       # a newcomer's start page
    options: -n REQUESTS (300), --limit ROWS (35), --sort cumulative|tottime,
             --sql (print the SQL statements of the last timed request),
             --cpu (profile CPU time only: what the load of other processes does not change)

Prints the time per request without the profiler (wall clock, and this process's CPU,
which other work on a shared machine disturbs much less), the SQL queries per request,
then the functions with the largest share of the profiled time. Shares are of the profiled time:
cProfile inflates Python-heavy code relative to waiting on the database.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import run  # noqa: E402 - needs the repository on sys.path first


def _requests_filing(prepare, n: int):
    from django.test import Client

    template, _client = prepare.fill_in(*prepare.FILING)
    drafts = prepare.filing_drafts(template, n)
    cookie, token = prepare.csrf_pair()

    def make():
        for draft_id, session in drafts:
            client = Client(enforce_csrf_checks=True)
            client.cookies["sessionid"] = session
            client.cookies["csrftoken"] = cookie
            yield lambda c=client, d=draft_id: _check(
                c.post(f"/f/{d}/confirm/", {"csrfmiddlewaretoken": token}), 302
            )

    return make()


def _requests_page(prepare, n: int):
    draft, client = prepare.fill_in(*prepare.LONG_PAGE, prepare.LONG_PAGE_INPUTS)
    url = prepare.long_page(client, draft)
    return (lambda: _check(client.get(url), 200) for _i in range(n))


def _requests_start(prepare, n: int):
    """GET of the start page by a newcomer (no cookie), as benchmarks/start_page.py does;
    the cache is CACHE_URL's (Redis there: set CACHE_URL=redis://... to compare)."""
    from django.test import Client

    org, slug = prepare.FILING
    url = f"/p/{org}/{slug}/"
    return (lambda: _check(Client().get(url), 200) for _i in range(n))


def _check(response, status: int) -> None:
    if response.status_code != status:
        raise run.BenchError(f"HTTP {response.status_code}: {response.content[:300]!r}")


def _print_shares(profile: cProfile.Profile, n: int, sort: str, limit: int) -> None:
    stats = pstats.Stats(profile)
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.stats.values())
    key = 3 if sort == "cumulative" else 2
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][key], reverse=True)[:limit]
    print(f"\nprofiled: {total / n * 1000:.2f} ms per request; share of that time by {sort}:")
    print(f"{'cum %':>6} {'own %':>6} {'calls/req':>9}  function")
    root = str(run.ROOT) + "/"
    for (filename, line, name), (_cc, nc, tt, ct, _callers) in rows:
        where = filename.replace(root, "").replace(sys.prefix + "/", "")
        print(f"{ct / total:6.1%} {tt / total:6.1%} {nc / n:9.1f}  {name} ({where}:{line})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["filing", "page", "start"])
    p.add_argument("-n", type=int, default=300)
    p.add_argument("--limit", type=int, default=35)
    p.add_argument("--sort", choices=["cumulative", "tottime"], default="cumulative")
    p.add_argument("--database-url")
    p.add_argument("--sql", action="store_true", help="print the SQL of the last request")
    p.add_argument("--dump", help="also write the profile to this file (pstats)")
    p.add_argument(
        "--cpu",
        action="store_true",
        help="profile CPU time of this process only (waits on the database and the load of "
        "other processes left out)",
    )
    args = p.parse_args(argv)

    db_url = run.bench_database_url(args.database_url, f"{run.DB_PREFIX}_profile_{os.getpid()}")
    workdir = Path(tempfile.mkdtemp(prefix="denshi-profile-"))
    try:
        run.database_recreate(db_url)
        prepare = run.django_setup(db_url, workdir)
        prepare.schema_and_procedures(run.PROCEDURES)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        make = {"filing": _requests_filing, "page": _requests_page, "start": _requests_start}[
            args.what
        ]
        # Three batches of fresh requests: warm-up, timed without the profiler, profiled.
        warm, timed, profiled = (list(make(prepare, args.n)) for _i in range(3))
        for request in warm:
            request()
        started, cpu_started = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            for request in timed:
                request()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        print(
            f"{args.what}: {elapsed / args.n * 1000:.2f} ms per request without the profiler, "
            f"{cpu / args.n * 1000:.2f} ms of this process's CPU (wait on PostgreSQL and on "
            "other processes excluded: the figure to compare on a shared machine)"
        )
        print(
            f"SQL: {len(queries) / args.n:.1f} queries per request, "
            f"{sql_ms / args.n:.2f} ms per request in the database driver"
        )
        if args.sql:
            per_request = len(queries) // args.n
            for q in queries.captured_queries[-per_request:]:
                print(f"  {float(q['time']) * 1000:6.2f} ms  {q['sql'][:300]}")
        profile = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
        profile.enable()
        for request in profiled:
            request()
        profile.disable()
        if args.dump:
            profile.dump_stats(args.dump)
        _print_shares(profile, args.n, args.sort, args.limit)
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        run.database_drop(db_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
