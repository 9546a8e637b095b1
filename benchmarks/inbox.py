#!/usr/bin/env python
"""`make bench` (inbox): the staff inbox's list and the receipt number look-up on a table
of 1,000,000 submissions in PostgreSQL.

    inbox_p95        the inbox list filtered by procedure and status, sorted by date, a
                     page of 50: p95 latency of the list's query function
                     (inbox.selectors.inbox_page: the page's rows and its counts per
                     status) for a reviewer, over many requests (random procedure/status
                     pairs of the reviewer's department, first and deeper pages reached by
                     the list's cursors), with its query count per page. Baseline, same run, same table: the
                     same query with PostgreSQL's index scans switched off (what the page
                     would cost without its indexes). Target: p95 < 100 ms.
    inbox_rows_p95   the same pages without the counts per status (the page's rows alone),
                     to tell which part costs what. Target: p95 < 100 ms.
    inbox_view_p95   the whole list page (/staff/?procedure=..&status=..) through the
                     Django test client (middleware, session, second factor, scope, counts
                     per status, template), signed in as a reviewer; p95, with the same
                     baseline. Target: p95 < 100 ms.
    receipt_lookup   a submission by its receipt number as the inbox's search finds it:
                     within the reviewer's scope, on the number's pattern index, with the
                     list's columns (`lookup_queryset`; without the tabs' counts): p95. Baseline: the same look-up without index scans. Target: < 10 ms.
    receipt_get      the former look-up figure: Submission.objects.select_related("receipt")
                     .get(number=...) over the whole table, unscoped (same target).

The table is made once in a database of its own (`denshi_bench_inbox`, or
`denshi_bench_inbox_smoke` with --smoke) with INSERT ... SELECT generate_series, and
reused while it holds the wanted number of rows (migrations are applied again each run;
--fresh makes it again). Every query's plan is checked with EXPLAIN: an index must serve
the list and the look-up. Prints the environment, the plans, a table and one JSON line per
figure:

    {"bench": NAME, "value": p95 ms, "unit": "ms", "baseline": B, "ratio": R, "target": T, "ok": ...}

Exit status: 0 when every target is met, 3 when one is missed, 1 when a plan uses no
index or the harness failed. `--smoke` (2,000 rows, few requests) never fails on a target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import DB_PREFIX, _admin_connection, bench_database_url  # noqa: E402

ROWS = 1_000_000
SMOKE_ROWS = 2_000
PAGE = 50
LIST_TARGET_MS = 100.0
LOOKUP_TARGET_MS = 10.0
# Rows inserted per statement: each INSERT ... SELECT is one transaction of this size.
BATCH = 200_000


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[inbox] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help=f"{SMOKE_ROWS:,} rows, few requests")
    p.add_argument("--rows", type=int, default=None, help=f"rows (default {ROWS:,})")
    p.add_argument("--requests", type=int, default=None, help="timed requests per figure")
    p.add_argument("--fresh", action="store_true", help="make the table again")
    p.add_argument("--database-url", default=None, help="the bench database (default: "
                   f"{DB_PREFIX}_inbox on the server of DATABASE_URL)")  # fmt: skip
    a = p.parse_args(argv)
    a.rows = a.rows or (SMOKE_ROWS if a.smoke else ROWS)
    a.requests = a.requests or (20 if a.smoke else 400)
    return a


# ---- the database ---------------------------------------------------------------------------


def database_ensure(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin_connection(url) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(db_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": db_url,
            "DEBUG": "0",
            "EMBEDDED": "1",
            "RATE_LIMIT_ENABLED": "0",
            "LOG_LEVEL": "WARNING",
            "PROCEDURES_DIR": str(ROOT / "procedures"),
        }
    )
    import django

    django.setup()


def _sql_default(field) -> str:
    """The SQL of a NOT NULL column's value for generated rows: its model default."""
    from django.db import connection, models

    if isinstance(field, models.UUIDField):
        return "gen_random_uuid()"  # a default uuid4 is one per row
    value = field.get_default()
    if value is None:
        raise BenchError(f"no value for the column {field.column}: add it to COLUMNS")
    db_value = field.get_db_prep_save(value, connection)
    if isinstance(db_value, bool):
        return "true" if db_value else "false"
    if isinstance(db_value, int | float):
        return str(db_value)
    if hasattr(db_value, "dumps"):  # a JSON value (psycopg's Jsonb adapter)
        return "'" + db_value.dumps(db_value.obj).replace("'", "''") + "'::jsonb"
    return "'" + str(db_value).replace("'", "''") + "'"


def insert_columns(model, known: dict[str, str]) -> tuple[list[str], list[str]]:
    """Columns and SQL values of generated rows: `known` expressions, else NULL where
    allowed, else the field's default (so columns other rooms add need no change here)."""
    from django.db import connection

    columns, values = [], []
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.column in known:
            values.append(known[field.column])
        elif field.null:
            values.append("NULL")
        else:
            values.append(_sql_default(field))
    return columns, values


def receipt_number(g: int) -> str:
    digits = f"{g:012d}"
    return f"BN{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def populate(rows: int, fresh: bool) -> None:
    """The submissions table with `rows` rows spread over every procedure of the shipped
    organizations, its statuses and two years of dates; kept when it is there already."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from forms_engine import models as m
    from forms_engine import services

    call_command("migrate", interactive=False, verbosity=0)
    have = m.Submission.objects.count()
    if have == rows and not fresh:
        log(f"reusing {have:,} submissions")
        # A migration may have rewritten rows since (quick when nothing changed).
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE forms_engine_submission")
        return
    log(f"making {rows:,} submissions (had {have:,})")
    with transaction.atomic():
        m.OutboxEvent.objects.all().delete()
        m.Attachment.objects.all().delete()
        m.Submission.objects.all().delete()
        m.Receipt.objects.all().delete()
        m.Draft.objects.all().delete()
    report = services.procedures_load(ROOT / "procedures")
    if report.errors:
        raise BenchError("procedures did not load: " + "; ".join(report.errors))
    versions = list(
        m.ProcedureVersion.objects.filter(
            pk__in=m.Procedure.objects.values("live_version_id")
        ).select_related("procedure")
    )
    org = versions[0].procedure.organization
    draft = m.Draft.objects.create(organization=org, status=m.Draft.Status.SUBMITTED)
    statuses = [s.value for s in m.Submission.Status]
    kinds = [k.value for k in m.Submission.ClientKind]
    # One row of (version, procedure, department, organization) per procedure, chosen by
    # i % count; statuses and device kinds by other moduli, so every pair occurs.
    version_rows = ",".join(
        f"({i},{v.pk},{v.procedure_id},{v.department_id},{v.procedure.organization_id})"
        for i, v in enumerate(versions)
    )
    status_array = "ARRAY[" + ",".join(f"'{s}'" for s in statuses) + "]"
    kind_array = "ARRAY[" + ",".join(f"'{k}'" for k in kinds) + "]"
    digits = "lpad(g::text, 12, '0')"
    number = (
        f"'BN' || substr({digits}, 1, 4) || '-' || substr({digits}, 5, 4) || '-' "
        f"|| substr({digits}, 9, 4)"
    )
    # Filed over two years; decided a few days later for decided states.
    submitted = "now() - (g % 730) * interval '1 day' - (g % 86311) * interval '1 second'"
    status_expr = f"({status_array})[1 + (g / 7) % {len(statuses)}]"
    families = "ARRAY['山田', '佐藤', '鈴木', '高橋', '田中']"
    kanas = "ARRAY['ヤマダ', 'サトウ', 'スズキ', 'タカハシ', 'タナカ']"
    known = {
        "id": "gen_random_uuid()",
        "receipt_id": "r.id",
        "number": number,
        "draft_id": f"'{draft.pk}'::uuid",
        "organization_id": "v.org",
        "department_id": "v.dept",
        "procedure_id": "v.proc",
        "procedure_version_id": "v.ver",
        "status": status_expr,
        "answers": f"""jsonb_build_object('name', jsonb_build_object(
                       'family', ({families})[1 + g % 5], 'given', '太郎' || g,
                       'kana_family', ({kanas})[1 + g % 5], 'kana_given', 'タロウ'),
                       'note', 'bench')""",
        # As completion writes it (forms_engine.normalize.name_search_text).
        "name_search": f"({families})[1 + g % 5] || '太郎' || g || ' ' "
        f"|| ({kanas})[1 + g % 5] || 'タロウ'",
        "contact_email": "'bench' || g || '@example.jp'",
        "fee_total": "(g % 3) * 300",
        "fee_lines": "'[]'::jsonb",
        "submitted_at": submitted,
        "client_kind": f"({kind_array})[1 + (g / 3) % {len(kinds)}]",
        "decided_at": f"""CASE WHEN {status_expr} IN ('accepted', 'rejected')
                       THEN {submitted} + (1 + g % 9) * interval '1 day' END""",
    }
    columns, values = insert_columns(m.Submission, known)
    receipt_columns, receipt_values = insert_columns(
        m.Receipt,
        {
            "id": "{first} + g",
            "number": number,
            "status_code_hash": "'x'",
            "mail_status": "'sent'",
        },
    )
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM forms_engine_receipt")
        first_receipt = cur.fetchone()[0] + 1
        for lo in range(1, rows + 1, BATCH):
            hi = min(rows, lo + BATCH - 1)
            cur.execute(
                f"""INSERT INTO forms_engine_receipt ({", ".join(receipt_columns)})
                    SELECT {", ".join(receipt_values).replace("{first}", str(first_receipt - 1))}
                    FROM generate_series({lo}, {hi}) AS g"""
            )
            cur.execute(
                f"""INSERT INTO forms_engine_submission ({", ".join(columns)})
                    SELECT {", ".join(values)}
                    FROM generate_series({lo}, {hi}) AS g
                    JOIN (VALUES {version_rows}) AS v(i, ver, proc, dept, org)
                      ON v.i = g % {len(versions)}
                    JOIN forms_engine_receipt AS r ON r.id = {first_receipt - 1} + g"""
            )
            log(f"  {hi:,} rows ({time.perf_counter() - started:.0f} s)")
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('forms_engine_receipt', 'id'), "
            "(SELECT max(id) FROM forms_engine_receipt))"
        )
    # As autovacuum leaves a table in use: statistics, and a visibility map for index-only
    # scans (VACUUM cannot run inside a transaction block; Django's cursor autocommits).
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE forms_engine_receipt")
        cur.execute("VACUUM ANALYZE forms_engine_submission")
    log(f"made {rows:,} submissions in {time.perf_counter() - started:.0f} s")


# ---- what is measured -----------------------------------------------------------------------


def timed(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class NoIndex:
    """Within it, PostgreSQL plans without index scans (the baseline)."""

    def __enter__(self):
        from django.db import connection, transaction

        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_indexscan = off")
            cur.execute("SET LOCAL enable_bitmapscan = off")
            cur.execute("SET LOCAL enable_indexonlyscan = off")
        return self

    def __exit__(self, *exc):
        return self.atomic.__exit__(*exc)


def reviewer(department_id: int):
    """The bench's reviewer of one department, with a confirmed TOTP device."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from forms_engine import models as m
    from inbox.models import StaffMembership

    department = m.Department.objects.get(pk=department_id)
    user, _created = get_user_model().objects.get_or_create(username=f"bench-{department.pk}")
    StaffMembership.objects.get_or_create(
        user=user,
        organization_id=department.organization_id,
        department=department,
        role=StaffMembership.Role.REVIEWER,
    )
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return user


def signed_in_client(user):
    """A Django test client signed in as `user` past the second factor (as the inbox's
    tests do: the sign-in itself is not what is measured)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.filter(user=user).first().persistent_id
    session.save()
    return client


def lookup_queryset(user, number: str):
    """A receipt number looked up as the inbox's search does for a full number: within the
    user's scope, `number LIKE 'X%'` on the pattern index (a full number also finds its
    bundle's siblings), with the list's columns and joins. The generated numbers hold
    digits outside the receipt alphabet, so the search's normalisation of the typed text
    (pure Python: inbox.selectors.receipt_query) is skipped; the SQL is the same."""
    from inbox import selectors

    return (
        selectors.inbox_queryset(user, selectors.InboxFilters())
        .filter(number__startswith=number)
        .select_related("procedure_version", "assigned_to")
        .defer("answers", "fee_lines", "procedure_version__source")
        .order_by(*selectors.SORTS[selectors.DEFAULT_SORT])[: PAGE + 1]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_start = os.getloadavg()
    name = f"{DB_PREFIX}_inbox_smoke" if args.smoke else f"{DB_PREFIX}_inbox"
    db_url = bench_database_url(args.database_url, name)
    log(f"database {name} on {urlsplit(db_url).hostname}")
    if args.fresh:
        database_drop(db_url)  # far quicker than deleting a million rows
    database_ensure(db_url)
    django_setup(db_url)
    populate(args.rows, args.fresh)

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from forms_engine import models as m
    from inbox import selectors
    from inbox.scope import submissions_visible

    rng = random.Random(9)
    # The department with the most procedures: its reviewer's list is the busiest.
    procedures = list(m.Procedure.objects.values_list("pk", "live_version__department_id"))
    by_dept: dict[int, list[int]] = {}
    for proc, dept in procedures:
        by_dept.setdefault(dept, []).append(proc)
    dept = max(by_dept, key=lambda d: len(by_dept[d]))
    user = reviewer(dept)
    statuses = [s.value for s in m.Submission.Status]
    depths = [1, 1, 1, 2, 5, 20]

    def filters(proc: int, status: str) -> selectors.InboxFilters:
        return selectors.InboxFilters(procedure_id=proc, status=status)

    def cursor_at(f: selectors.InboxFilters, page: int) -> str:
        cursor = ""
        for _ in range(page - 1):
            _rows, cursor, _counts = selectors.inbox_page(user, f, cursor=cursor, with_counts=False)
            if not cursor:
                break
        return cursor

    cases = []
    for _ in range(args.requests):
        f = filters(rng.choice(by_dept[dept]), rng.choice(statuses))
        cases.append((f, cursor_at(f, rng.choice(depths))))

    def one_list(case) -> None:
        f, cursor = case
        selectors.inbox_page(user, f, cursor=cursor)

    def one_rows(case) -> None:
        f, cursor = case
        selectors.inbox_page(user, f, cursor=cursor, with_counts=False)

    # Plans: an index must serve the list's rows and the look-up.
    sample = filters(by_dept[dept][0], statuses[1])
    plan_list = (
        selectors.inbox_queryset(user, sample)
        .order_by(*selectors.SORTS[selectors.DEFAULT_SORT])[:PAGE]
        .explain(analyze=True)
    )
    sample_numbers = [receipt_number(rng.randint(1, args.rows)) for _ in range(2000)]
    if not m.Submission.objects.filter(number=sample_numbers[0]).exists():
        raise BenchError("the table's receipt numbers are not the generated ones: use --fresh")
    own_number = (
        m.Submission.objects.filter(department_id=dept).values_list("number", flat=True).first()
    )
    plan_lookup = lookup_queryset(user, own_number).explain(analyze=True)
    print("plan, inbox list:\n" + plan_list)
    print("plan, receipt look-up:\n" + plan_lookup)
    plans_ok = all(
        "Index" in plan and "Seq Scan on forms_engine_submission" not in plan
        for plan in (plan_list, plan_lookup)
    )
    # The counts per status: one statement, an index-only scan per status stopped by its
    # LIMIT (COUNT_CAP + 1), never a heap or bitmap scan over the procedure's rows.
    scoped = submissions_visible(user).filter(procedure_id=sample.procedure_id)
    count_sql, count_params = selectors.status_counts_sql(scoped, statuses)
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + count_sql, count_params)
        plan_counts = "\n".join(row[0] for row in cur.fetchall())
    print("plan, counts per status:\n" + plan_counts)
    plans_ok = plans_ok and (
        plan_counts.count("Index Only Scan") == len(statuses)
        and "Bitmap" not in plan_counts
        and "Seq Scan" not in plan_counts
    )

    # Queries per page: the same for the first page and a deep one.
    selectors.inbox_page(user, sample)  # the user's scope, read once per request
    with CaptureQueriesContext(connection) as captured:
        selectors.inbox_page(user, sample)
    q1 = len(captured)
    deep = cursor_at(sample, 20)
    with CaptureQueriesContext(connection) as captured:
        selectors.inbox_page(user, sample, cursor=deep)
    q2 = len(captured)
    reset_queries()

    for case in cases[:10]:  # warm-up: caches, connection, plans
        one_list(case)
    list_ms = [timed(lambda c=c: one_list(c), 1)[0] for c in cases]
    rows_ms = [timed(lambda c=c: one_rows(c), 1)[0] for c in cases]
    with NoIndex():
        base_rows_ms = [timed(lambda c=c: one_rows(c), 1)[0] for c in cases[:10]]
        base_list_ms = [
            timed(lambda c=c: one_list(c), 1)[0] for c in cases[: max(5, len(cases) // 40)]
        ]

    # The whole page through Django (middleware, session, scope, template).
    client = signed_in_client(user)

    def view_url(case) -> str:
        f, cursor = case
        query = f"procedure={f.procedure_id}&status={f.status}"
        return f"/staff/?{query}&after={cursor}" if cursor else f"/staff/?{query}"

    def one_view(case) -> None:
        response = client.get(view_url(case))
        if response.status_code != 200:
            raise BenchError(f"the list page answered {response.status_code}")

    for case in cases[:5]:
        one_view(case)
    with CaptureQueriesContext(connection) as captured:
        one_view(cases[0])
    view_queries = len(captured)
    view_cases = cases[: max(10, len(cases) // 2)]
    view_ms = [timed(lambda c=c: one_view(c), 1)[0] for c in view_cases]
    with NoIndex():
        base_view_ms = [timed(lambda c=c: one_view(c), 1)[0] for c in view_cases[:5]]

    # Receipt numbers of the reviewer's department (what the reviewer can find).
    own_numbers = list(
        m.Submission.objects.filter(department_id=dept)
        .order_by("?")
        .values_list("number", flat=True)[:2000]
    )

    def one_lookup() -> None:
        rows = list(lookup_queryset(user, rng.choice(own_numbers)))
        if len(rows) != 1:
            raise BenchError(f"the look-up found {len(rows)} submissions")

    def one_get() -> None:
        # The former figure: any submission by its number with its receipt, unscoped.
        m.Submission.objects.select_related("receipt").get(number=rng.choice(sample_numbers))

    for _ in range(10):
        one_lookup()
        one_get()
    lookup_ms = timed(one_lookup, args.requests)
    get_ms = timed(one_get, args.requests)
    with NoIndex():
        base_lookup_ms = timed(one_lookup, max(5, args.requests // 40))
        base_get_ms = timed(one_get, max(5, args.requests // 40))

    load_end = os.getloadavg()
    rows = m.Submission.objects.count()
    print(f"load average (1, 5, 15 min): at the start {load_start[0]:.1f} {load_start[1]:.1f} "
          f"{load_start[2]:.1f}, at the end {load_end[0]:.1f} {load_end[1]:.1f} {load_end[2]:.1f}")  # fmt: skip
    print(f"environment: {platform.platform()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, PostgreSQL {connection.pg_version}, {rows:,} submissions; "
          f"reviewer of a department with {len(by_dept[dept])} procedures")  # fmt: skip
    print(f"queries per list page: page 1: {q1}, page 20: {q2}; whole page: {view_queries}")
    print(f"{'figure':<16}{'p50 ms':>10}{'p95 ms':>10}{'baseline p95':>14}{'target':>9}")
    results = []
    for bench, values, base, target in (
        ("inbox_p95", list_ms, base_list_ms, LIST_TARGET_MS),
        ("inbox_rows_p95", rows_ms, base_rows_ms, LIST_TARGET_MS),
        ("inbox_view_p95", view_ms, base_view_ms, LIST_TARGET_MS),
        ("receipt_get", get_ms, base_get_ms, LOOKUP_TARGET_MS),
        ("receipt_lookup", lookup_ms, base_lookup_ms, LOOKUP_TARGET_MS),
    ):
        value, baseline = p(values, 0.95), p(base, 0.95)
        print(f"{bench:<16}{p(values, 0.5):>10.2f}{value:>10.2f}{baseline:>14.2f}{target:>9.0f}")
        results.append(
            {
                "bench": bench,
                "value": round(value, 3),
                "unit": "ms",
                "baseline": round(baseline, 3),
                "ratio": round(value / baseline, 4) if baseline else None,
                "target": target,
                "ok": value < target,
            }
        )
    for line in results:
        print(json.dumps(line))
    if not plans_ok or q1 != q2 or q1 == 0:
        print("INVALID: a plan uses no index, or the query count depends on the page")
        return 1
    if not args.smoke and not all(r["ok"] for r in results):
        return 3
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"inbox bench: {exc}", file=sys.stderr)
        sys.exit(1)
