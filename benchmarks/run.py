#!/usr/bin/env python
"""`make bench`: the service under gunicorn on PostgreSQL, measured with wrk against
baselines measured in the same run, with the same load generator and settings.

    filing_throughput  complete filings per second: the final POST of a 3-page procedure
                       (every page validated again, submission, outbox row, receipt), each
                       request completing a different prepared draft; baseline: a bare
                       Django view inserting one row per POST. Target: ratio >= 0.5.
    page_render        GETs per second of a page of 40 fields of mixed types; baseline: a
                       bare view rendering a small template without the database.
                       Target: ratio >= 0.2.

Each run: a fresh database (dropped afterwards), migrations, the procedures under
benchmarks/procedures/, prepared drafts and cookies, gunicorn (sync workers, 2 x cores + 1)
on a free port, then per benchmark a short warm-up and a measured wrk run of the baseline
and of the real view. Prints the environment, a table, and one JSON line per benchmark:

    {"bench": NAME, "value": N, "unit": U, "baseline": B, "ratio": R, "target": T, "ok": ...}

Exit status: 0 when every run is valid and meets its target, 3 when a target is missed,
1 when a run is not valid (more than 1% errors, or the database disagrees with wrk).
`--smoke` runs everything on tiny data (2 connections, 2 s) and never fails on a target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
PROCEDURES = BENCH / "procedures"
LUA = BENCH / "wrk_count.lua"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
# A guard for --database-url: this script drops and recreates the database it is given.
DB_PREFIX = "denshi_bench"
MAX_ERROR_SHARE = 0.01

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"bench: {message}", flush=True)


# ---- options ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny run: 2 connections, 2 s")
    p.add_argument("--duration", type=int, help="seconds per measured run (10)")
    p.add_argument("--warmup", type=int, help="seconds of warm-up before each run (2)")
    p.add_argument("--connections", type=int, help="wrk connections (16)")
    p.add_argument("--threads", type=int, help="wrk threads (2)")
    p.add_argument("--drafts", type=int, help="prepared drafts for filing_throughput (30000)")
    p.add_argument("--workers", type=int, help="gunicorn workers (2 x cores + 1)")
    p.add_argument(
        "--only", choices=["filing_throughput", "page_render"], action="append", default=None
    )
    p.add_argument(
        "--database-url",
        help=f"database to (re)create, named {DB_PREFIX}*; default: {DB_PREFIX} on the "
        f"server of DATABASE_URL when it is PostgreSQL, else on {DEFAULT_SERVER}",
    )
    p.add_argument("--keep", action="store_true", help="keep the database and work folder")
    a = p.parse_args(argv)
    smoke = a.smoke
    a.duration = a.duration or (2 if smoke else 10)
    a.warmup = a.warmup if a.warmup is not None else (1 if smoke else 2)
    a.connections = a.connections or (2 if smoke else 16)
    a.threads = min(a.threads or 2, a.connections)
    a.drafts = a.drafts or (1500 if smoke else 30000)
    a.cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    a.workers = a.workers or 2 * a.cores + 1
    a.only = a.only or ["filing_throughput", "page_render"]
    a.gunicorn_pgid = None
    a.db_name = ""
    return a


def bench_database_url(explicit: str | None, name: str = DB_PREFIX) -> str:
    if explicit:
        url = explicit
    else:
        server = DEFAULT_SERVER
        current = os.environ.get("DATABASE_URL", "")
        if current.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(current)
            server = f"postgres://{parts.netloc}"
        url = f"{server}/{name}"
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(rf"{DB_PREFIX}[a-z0-9_]*", name):
        raise BenchError(f"refusing to recreate database {name!r}: its name must start {DB_PREFIX}")
    return url


# ---- the database server ------------------------------------------------------------------


def _admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )


def database_recreate(url: str) -> dict[str, str]:
    """Drop and create the bench database; returns facts about the server."""
    name = urlsplit(url).path.lstrip("/")
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        facts = {}
        for setting in ("server_version", "fsync", "synchronous_commit", "max_connections"):
            facts[setting] = conn.execute(f"SHOW {setting}").fetchone()[0]
    return facts


def database_drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(db_url: str, workdir: Path):
    """Set up Django in this process on the bench database, with the environment gunicorn
    gets too; returns benchmarks.prepare (importable only once Django is set up)."""
    (workdir / "var" / "staticfiles").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": db_url,
            "DEBUG": "0",
            "EMBEDDED": "1",
            "RATE_LIMIT_ENABLED": "0",
            # As deployed: with a broker, receipt mails and the other outbox consumers run
            # in workers, not inside the request. No worker or beat runs during the
            # measurement: a filing kicks its consumers only while no kick of theirs is
            # queued (forms_engine.outbox), so after the first ones a request costs one
            # Redis round trip and publishes nothing, as in a rush with busy workers.
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
            "PROCEDURES_DIR": str(PROCEDURES),
            "VAR_DIR": str(workdir / "var"),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from benchmarks import prepare

    return prepare


# ---- gunicorn -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    #: Answers 200 once the service is up (a subclass may want a probe without dependencies).
    ready_path = "/healthz"
    #: More gunicorn options of a subclass.
    extra_args: tuple[str, ...] = ()

    def __init__(self, workers: int, env: dict[str, str], log_path: Path):
        self.workers = workers
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._log = open(self.log_path, "wb")  # closed in stop()
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--worker-class=sync",
            f"--workers={self.workers}",
            f"--bind=127.0.0.1:{self.port}",
            "--graceful-timeout=15",
            "--log-level=warning",
            # gunicorn.conf.py (read from the working folder) recycles a worker every few
            # thousand requests; a recycled worker's CPU would drop out of the figures.
            "--max-requests=0",
            *self.extra_args,
        ]
        # Its own session, so cleanup can reach the workers through the group id.
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}{self.ready_path}", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer within 60 s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # Graceful: the master lets each worker finish the request in hand, then exits.
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # The master is not reaped yet, so its group id is still ours alone.
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# ---- where the CPU went ---------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: str) -> tuple[str, int, float] | None:
    """(command, process group, CPU seconds) of a process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return comm, int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICK


_CLIENT = re.compile(r".+\(\d+\)|\[local\]")


def _postgres_title(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_snapshot(gunicorn_pgid: int | None, db_name: str) -> dict[str, float]:
    """CPU seconds so far of the gunicorn processes, of PostgreSQL (the backends of the
    bench database, and the server's own processes such as the WAL writer that commits
    need; other databases' backends are left out: other work may share the server), and
    of the whole machine."""
    snap = {"gunicorn": 0.0, "postgres": 0.0, "machine": 0.0}
    if not os.path.isdir("/proc"):
        return snap
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        stat = _proc_stat(pid)
        if stat is None:
            continue
        comm, pgrp, seconds = stat
        if gunicorn_pgid is not None and pgrp == gunicorn_pgid:
            snap["gunicorn"] += seconds
        elif comm == "postgres":
            # Backends are titled "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE".
            title = _postgres_title(pid).split()
            client = next((i for i, t in enumerate(title) if _CLIENT.fullmatch(t)), None)
            if client is None or (client > 0 and title[client - 1] == db_name):
                snap["postgres"] += seconds
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]  # user .. steal
    snap["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / _TICK  # all but idle and iowait
    return snap


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---- wrk ----------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    ok: int
    bad: int
    sent: int  # requests written: the server did the work of at least `ok`, at most `sent`
    statuses: dict[str, int]
    duration_s: float
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds during the run

    @property
    def rate(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    def cpu_ms(self, part: str) -> float:
        """CPU milliseconds of `part` per counted response."""
        return self.cpu.get(part, 0.0) * 1000 / self.ok if self.ok else 0.0

    @property
    def errors(self) -> int:
        return self.bad + sum(self.socket_errors.values())

    @property
    def error_share(self) -> float:
        total = self.ok + self.errors
        return self.errors / total if total else 1.0


def wrk(
    args: argparse.Namespace,
    label: str,
    url: str,
    mode: str,
    extra: tuple[str, ...] = (),
    headers: tuple[str, ...] = (),
    duration: int | None = None,
) -> Run:
    duration = duration or args.duration
    pgid, db = args.gunicorn_pgid, args.db_name
    cpu_before, wrk_before = cpu_snapshot(pgid, db), _children_cpu()
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s"]
    cmd += ["--timeout", "10s", "-s", str(LUA)]
    for h in headers:
        cmd += ["-H", h]
    cmd += [url, "--", mode, str(args.threads), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    cpu_after, wrk_after = cpu_snapshot(pgid, db), _children_cpu()
    # A process that ended during the run takes its CPU time with it: never below zero.
    cpu = {k: max(0.0, cpu_after[k] - cpu_before[k]) for k in cpu_after}
    cpu["wrk"] = wrk_after - wrk_before
    cpu["other"] = max(0.0, cpu["machine"] - cpu["gunicorn"] - cpu["postgres"] - cpu["wrk"])
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(
            f"wrk failed ({label}, exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    data = json.loads(line[len("WRK_RESULT ") :])
    return Run(
        label=label,
        ok=data["ok"],
        bad=data["bad"],
        sent=data["sent"],
        statuses=data["statuses"],
        duration_s=data["duration_us"] / 1e6,
        socket_errors=data["socket_errors"],
        latency_ms=data["latency_ms"],
        cpu=cpu,
    )


def measured(args, label, url, mode, extra=(), headers=(), warm_extra=None, then=None) -> Run:
    """A warm-up run, `then()` (counts taken once the warm-up is over), the measured run."""
    if args.warmup:
        wrk(args, label, url, mode, warm_extra or extra, headers, duration=args.warmup)
    if then is not None:
        then()
    run = wrk(args, label, url, mode, extra, headers)
    log(
        f"{label}: {run.rate:.1f}/s ({run.ok} ok, {run.errors} errors, "
        f"p50 {run.latency_ms['p50']:.1f} ms, p99 {run.latency_ms['p99']:.1f} ms, "
        f"machine {run.cpu['machine'] / run.duration_s / args.cores:.0%} busy)"
    )
    return run


# ---- the benchmarks -----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    real: Run
    baseline: Run
    target: float
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.real.rate / self.baseline.rate if self.baseline.rate else 0.0

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def ok(self) -> bool:
        return self.valid and self.ratio >= self.target

    def json(self) -> str:
        return json.dumps(
            {
                "bench": self.name,
                "value": round(self.real.rate, 1),
                "unit": "req/s",
                "baseline": round(self.baseline.rate, 1),
                "ratio": round(self.ratio, 3),
                "target": self.target,
                "ok": self.ok,
            }
        )


DISTURBED_SHARE = 0.10


def _check_runs(result: Result, cores: int) -> None:
    for run in (result.baseline, result.real):
        other = run.cpu.get("other", 0.0) / (run.duration_s * cores) if run.duration_s else 0.0
        if other > DISTURBED_SHARE:
            # Not a failure (nothing here can stop it), but the figures are not clean.
            result.notes.append(
                f"DISTURBED: other work used {other:.0%} of the machine during {run.label}"
            )
        if run.error_share > MAX_ERROR_SHARE:
            result.problems.append(
                f"{run.label}: {run.errors} errors of {run.ok + run.errors} "
                f"({run.error_share:.1%} > {MAX_ERROR_SHARE:.0%}); statuses {run.statuses}, "
                f"socket errors {run.socket_errors}"
            )
        if run.statuses.get("410"):
            result.problems.append(
                f"{run.label}: the prepared drafts ran out ({run.statuses['410']} requests "
                "after the last one); raise --drafts"
            )


def _settled_counts(prepare, **which) -> dict[str, int]:
    """Counts once the requests wrk left in flight seem to have finished on the server.
    For the notes only: the checks below hold whenever the counts are taken."""
    from django.db import connection

    previous = None
    for _i in range(50):
        current = prepare.counts(**which)
        if current == previous:
            break
        previous = current
        time.sleep(0.2)
    connection.close()
    return current


def count_problem(what: str, run: Run, done: int) -> str | None:
    """Whether the server did the work of `run` once per counted response: `done` (what
    the database holds from this run alone) is at least what wrk counted (each counted
    response was sent after its transaction committed) and at most what wrk sent (when wrk
    stops, requests in flight, or whose answer a socket error lost, may complete on the
    server uncounted, one per connection and per error, however slow the machine).
    Outside those bounds work was lost or done twice."""
    if run.ok <= done <= run.sent:
        return None
    return f"{what}: wrk counted {run.ok} (of {run.sent} sent), the database {done}" + (
        "; lost" if done < run.ok else "; done twice"
    )


def bench_filing(args, server: Gunicorn, prepare, workdir: Path) -> Result:
    log(f"preparing {args.drafts} answered drafts of {'/'.join(prepare.FILING)}")
    started = time.monotonic()
    template, _client = prepare.fill_in(*prepare.FILING)
    drafts = prepare.filing_drafts(template, args.drafts)
    cookie, token = prepare.csrf_pair()
    # Separate drafts for the warm-up: a draft is completed once.
    warm_share = len(drafts) // 6
    warm_file, main_file = workdir / "drafts-warmup.txt", workdir / "drafts.txt"
    warm_file.write_text("".join(f"{d} {s}\n" for d, s in drafts[:warm_share]))
    main_file.write_text("".join(f"{d} {s}\n" for d, s in drafts[warm_share:]))
    main_ids = [d for d, _s in drafts[warm_share:]]
    log(f"prepared in {time.monotonic() - started:.1f} s")

    # The rows of the measured run are tagged: requests the warm-up left in flight, which
    # may complete at any time after it, are never counted as the measured run's.
    baseline = measured(
        args,
        "baseline POST /bench/insert/",
        f"{server.base}/bench/insert/",
        "post",
        extra=("measured",),
        warm_extra=("warmup",),
    )
    rows = _settled_counts(prepare, drafts=[], payload="measured")["bench_rows"]

    # Only the measured run's own drafts are counted, for the same reason.
    real = measured(
        args,
        "POST /f/<draft>/confirm/",
        f"{server.base}/",
        "confirm",
        extra=(str(main_file), cookie, token),
        warm_extra=(str(warm_file), cookie, token),
    )
    after = _settled_counts(prepare, drafts=main_ids, payload="")
    result = Result("filing_throughput", real, baseline, 0.5)
    _check_runs(result, args.cores)

    if not (after["submissions"] == after["outbox"] == after["submitted_drafts"]):
        result.problems.append(f"filing: submissions, outbox events and drafts disagree: {after}")
    for problem in (
        count_problem("filing", real, after["submissions"]),
        count_problem("insert", baseline, rows),
    ):
        if problem:
            result.problems.append(problem)
    result.notes.append(
        f"database: {after['submissions']} submissions, {after['outbox']} outbox events, "
        f"{after['receipts']} receipts for {real.ok} completions counted by wrk of "
        f"{real.sent} sent ({after['submissions'] - real.ok} completed uncounted); "
        f"{rows} bench rows for {baseline.ok} inserts counted of {baseline.sent} sent"
    )
    return result


def bench_page(args, server: Gunicorn, prepare, workdir: Path) -> Result:
    draft, client = prepare.fill_in(*prepare.LONG_PAGE, prepare.LONG_PAGE_INPUTS)
    url = prepare.long_page(client, draft)
    cookie, _token = prepare.csrf_pair()
    session = client.cookies["sessionid"].value
    headers = (f"Cookie: sessionid={session}; csrftoken={cookie}",)
    baseline = measured(args, "baseline GET /bench/hello/", f"{server.base}/bench/hello/", "get")
    real = measured(args, "GET 40-field page", f"{server.base}{url}", "get", headers=headers)
    result = Result("page_render", real, baseline, 0.2)
    _check_runs(result, args.cores)
    result.notes.append(f"page: {url} (answers filled in, as on Back or a change from confirm)")
    return result


# ---- report -------------------------------------------------------------------------------


def environment(args, pg: dict[str, str]) -> list[tuple[str, str]]:
    import django
    import gunicorn

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if "model name" in line), "")
    except OSError:
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    return [
        ("date", time.strftime("%Y-%m-%d %H:%M %Z")),
        ("machine", f"{args.cores} cores ({cpu or platform.machine()}), {platform.system()}"),
        ("postgresql", f"{pg['server_version']} (fsync={pg['fsync']}, "
                       f"synchronous_commit={pg['synchronous_commit']})"),
        ("python / django", f"{platform.python_version()} / {django.get_version()}"),
        ("gunicorn", f"{gunicorn.__version__}, {args.workers} sync workers"),
        ("wrk", f"{(wrk_version.split() or ['?'])[1]}, {args.threads} threads, "
                f"{args.connections} connections, {args.warmup} s warm-up + {args.duration} s"),
    ]  # fmt: skip


def report(args, env: list[tuple[str, str]], results: list[Result]) -> None:
    print()
    for key, value in env:
        print(f"{key:16} {value}")
    print()
    # CPU per counted response: the app (gunicorn), the database, the load generator, and
    # whatever else ran on the machine meanwhile; "busy" is the share of all cores in use.
    head = (
        f"{'run':30} {'ok/s':>8} {'ok':>6} {'err':>4} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'| CPU ms/ok: app':>16} {'db':>5} {'wrk':>5} {'other':>5} {'busy':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        for run in (r.baseline, r.real):
            busy = run.cpu.get("machine", 0.0) / run.duration_s / args.cores
            print(
                f"{run.label[:30]:30} {run.rate:8.1f} {run.ok:6d} {run.errors:4d} "
                f"{run.latency_ms['p50']:7.1f} {run.latency_ms['p99']:7.1f} "
                f"{run.cpu_ms('gunicorn'):16.2f} {run.cpu_ms('postgres'):5.2f} "
                f"{run.cpu_ms('wrk'):5.2f} {run.cpu_ms('other'):5.2f} {busy:5.0%}"
            )
    print()
    head = f"{'benchmark':18} {'value req/s':>12} {'baseline':>10} {'ratio':>7} {'target':>7}  ok"
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.name:18} {r.real.rate:12.1f} {r.baseline.rate:10.1f} {r.ratio:7.3f} "
            f"{r.target:7.2f}  {'yes' if r.ok else 'NO'}"
        )
    for r in results:
        for note in r.notes:
            print(f"  {r.name}: {note}")
        for problem in r.problems:
            print(f"  {r.name}: INVALID: {problem}")
    print()
    for r in results:
        print(r.json(), flush=True)


# ---- main ---------------------------------------------------------------------------------


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (scripts/apt-ensure.sh wrk)")
    signal.signal(signal.SIGTERM, _on_sigterm)
    # A smoke run may overlap a full one (or another smoke run): a name of its own.
    name = f"{DB_PREFIX}_smoke_{os.getpid()}" if args.smoke else DB_PREFIX
    db_url = bench_database_url(args.database_url, name)
    args.db_name = urlsplit(db_url).path.lstrip("/")
    workdir = Path(tempfile.mkdtemp(prefix="denshi-bench-"))
    server: Gunicorn | None = None
    created = False
    prepare_error: type[Exception] = BenchError
    try:
        log(f"database {urlsplit(db_url).path.lstrip('/')} on {urlsplit(db_url).hostname}")
        pg = database_recreate(db_url)
        created = True
        prepare = django_setup(db_url, workdir)

        prepare_error = prepare.PrepareError
        log("migrating and loading benchmarks/procedures")
        prepare.schema_and_procedures(PROCEDURES)
        from django.db import connections

        connections.close_all()

        server = Gunicorn(args.workers, dict(os.environ), workdir / "gunicorn.log")
        log(f"gunicorn: {args.workers} workers on {server.base}")
        server.start()
        args.gunicorn_pgid = server.proc.pid  # its own session: group id == its pid
        results = []
        if "filing_throughput" in args.only:
            results.append(bench_filing(args, server, prepare, workdir))
        if "page_render" in args.only:
            results.append(bench_page(args, server, prepare, workdir))
        server.stop()
        report(args, environment(args, pg), results)
        if not all(r.valid for r in results):
            return 1
        if not args.smoke and not all(r.ok for r in results):
            return 3
        return 0
    except (BenchError, prepare_error) as exc:
        if server is not None and server.proc is not None:
            print(f"gunicorn log (last lines):\n{server.log_tail()}", file=sys.stderr)
        raise BenchError(str(exc)) from exc
    finally:
        if server is not None:
            server.stop()
        if "django" in sys.modules and "DJANGO_SETTINGS_MODULE" in os.environ:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # cleanup goes on whatever Django's state
                pass
        if created and not args.keep:
            database_drop(db_url)
        if args.keep:
            log(f"kept database {db_url} and {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench: ERROR: {exc}", file=sys.stderr)
        sys.exit(1)
