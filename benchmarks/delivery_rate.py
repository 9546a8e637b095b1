#!/usr/bin/env python
"""`make bench` (deliveries): webhook deliveries per second from two Celery worker
processes to a local receiver, none lost and none doubled.

    delivery_rate   N webhook deliveries (the child allowance's `benefits-system` entry)
                    queued at once on the "deliveries" queue of a Redis broker, DELIVERY_BATCH
                    (8) per task as deliveries_enqueue queues them; two worker
                    processes (`celery worker --pool=threads -c 8 -Q deliveries`; set
                    BENCH_DELIVERY_POOL=solo for one delivery at a time), the production
                    code path: claim, payload, Standard Webhooks signature, the address
                    check, the POST, the outcome and its attempt row) send them to a
                    receiver on loopback that verifies each signature with the official
                    `standardwebhooks` library. Deliveries per second from the first task
                    queued to the last delivery recorded in the database. Target: >= 200/s,
                    with lost = doubled = 0 (checked against the receiver and the
                    database; any other count makes the run invalid).
    baseline        the same number of signed POSTs of the same payload size, sent from two
                    plain processes (urllib3, a new connection each: the workers keep theirs open) to
                    the same receiver: the machine's and the receiver's own ceiling.

Each run: a redis-server of its own on a free port, a fresh PostgreSQL database (dropped
afterwards), migrations, the procedures under procedures/, N submissions with one pending
webhook delivery each. Prints the environment, a table, and one JSON line:

    {"bench": "delivery_rate", "value": N, "unit": U, "baseline": B, "ratio": R, "target": T, "ok": ...}

Exit status: 0 when the target is met, 3 when it is missed, 1 when a run is not valid
(a delivery lost or doubled, or not all delivered in time). `--smoke` runs 60 deliveries
and never fails on the target.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import (  # noqa: E402
    DB_PREFIX,
    BenchError,
    bench_database_url,
    cpu_snapshot,
    database_drop,
    database_recreate,
    log,
)

SECRET = "whsec_" + base64.b64encode(b"delivery-rate-bench-secret-32by").decode()
TARGET = 200.0
WORKERS = 2
# Each worker process sends several deliveries at once: a delivery mostly waits (on the
# database, on the receiver), so threads overlap the waits, as a deliveries worker would
# run in production (`celery -A config worker -Q deliveries --pool=threads -c 8`).
POOL = os.environ.get("BENCH_DELIVERY_POOL", "threads")
THREADS = int(os.environ.get("BENCH_DELIVERY_THREADS", "8"))
BATCH = int(os.environ.get("BENCH_DELIVERY_BATCH", os.environ.get("DELIVERY_BATCH", "8")))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="60 deliveries, never fails")
    p.add_argument("--deliveries", type=int, help="deliveries to send (3000)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for all")
    p.add_argument("--database-url", help=f"bench database (name must start {DB_PREFIX})")
    args = p.parse_args(argv)
    if args.deliveries is None:
        args.deliveries = 60 if args.smoke else 3000
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the receiver -------------------------------------------------------------------------


class Receiver:
    """Verifies each request with `standardwebhooks` and counts it by webhook-id."""

    def __init__(self) -> None:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        self.seen: Counter[str] = Counter()
        self.bad = 0
        self.lock = threading.Lock()
        webhook = Webhook(SECRET)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    webhook.verify(body, headers)
                    ok = True
                except WebhookVerificationError:
                    ok = False
                with receiver.lock:
                    if ok:
                        receiver.seen[headers["webhook-id"]] += 1
                    else:
                        receiver.bad += 1
                self.send_response(204 if ok else 401)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/in"

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
            self.bad = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- the baseline: plain signed POSTs from two processes -----------------------------------


def _plain_posts(url: str, body: bytes, count: int, first: int) -> None:
    import urllib3

    parts = urlsplit(url)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    for n in range(first, first + count):
        msg_id = f"msg_baseline_{n}"
        ts = str(int(time.time()))
        sig = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
        pool = urllib3.HTTPConnectionPool(parts.hostname, parts.port, retries=False, maxsize=1)
        response = pool.urlopen(
            "POST",
            parts.path,
            body=body,
            headers={
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": ts,
                "webhook-signature": "v1," + base64.b64encode(sig).decode(),
            },
            retries=False,
            redirect=False,
        )
        assert response.status == 204, response.status
        pool.close()


def baseline(receiver: Receiver, body: bytes, count: int) -> float:
    per = count // WORKERS
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_plain_posts, args=(receiver.url, body, per, i * per))
        for i in range(WORKERS)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise BenchError("a baseline process failed")
    elapsed = time.perf_counter() - start
    if sum(receiver.seen.values()) != per * WORKERS:
        raise BenchError("the baseline's requests did not all arrive")
    return per * WORKERS / elapsed


# ---- the run ------------------------------------------------------------------------------


class Redis:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise BenchError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def prepare(count: int) -> list[str]:
    """N submissions of the child allowance, each with its pending webhook delivery."""
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from forms_engine import models as m
    from forms_engine import services
    from integrations.models import Delivery

    call_command("migrate", interactive=False, verbosity=0)
    report = services.procedures_load(ROOT / "procedures")
    if report.errors:
        raise BenchError("procedures did not load:\n" + "\n".join(report.errors))
    version = m.Procedure.objects.get(slug="child-allowance").live_version
    assert version is not None and settings.DELIVERY_ALLOW_LOOPBACK
    draft = m.Draft.objects.create(
        organization=version.procedure.organization,
        version_ids=[version.pk],
        status=m.Draft.Status.SUBMITTED,
    )
    receipts = m.Receipt.objects.bulk_create(
        [m.Receipt(number=f"BENCH-{n:06d}", status_code_hash="x") for n in range(count)]
    )
    answers = {
        "name": {
            "family": "山田",
            "given": "太郎",
            "kana_family": "ヤマダ",
            "kana_given": "タロウ",
        },
        "email": "taro@example.jp",
        "kids": [{"kid_name": {"family": "山田", "given": "花子"}, "lives_together": "yes"}],
    }
    subs = m.Submission.objects.bulk_create(
        [
            m.Submission(
                receipt=r,
                number=r.number,
                draft=draft,
                organization=version.procedure.organization,
                department=version.department,
                procedure=version.procedure,
                procedure_version=version,
                status=m.Submission.Status.SUBMITTED,
                answers=answers,
                contact_email="taro@example.jp",
            )
            for r in receipts
        ]
    )
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                submission=s,
                procedure_version=version,
                integration_id="benefits-system",
                type="webhook",
                enqueued_at=timezone.now(),
            )
            for s in subs
        ]
    )
    return [str(d.pk) for d in deliveries]


def sample_body(delivery_id: str) -> bytes:
    from integrations.models import Delivery
    from integrations.webhooks.payload import webhook_payload

    payload = webhook_payload(Delivery.objects.get(pk=delivery_id))
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def start_workers(env: dict[str, str], workdir: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for n in range(WORKERS):
        log_file = open(workdir / f"worker-{n}.log", "wb")  # noqa: SIM115 - lives with it
        procs.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "config", "worker",
                    f"--pool={POOL}", f"--concurrency={THREADS}",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "-Q", "deliveries", "-n", f"bench{n}@%h", f"--loglevel={os.environ.get('BENCH_WORKER_LOGLEVEL', 'WARNING')}",
                ],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )  # fmt: skip
    return procs


def wait_workers(app, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= WORKERS:
            return
    raise BenchError("the workers did not answer a ping")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_split() -> dict[str, float]:
    """CPU seconds of the whole machine so far, by kind (/proc/stat): user (and nice),
    system, softirq (loopback TCP is mostly here), steal (taken by the hypervisor)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return {
        "user": (user + nice) / tick,
        "system": (system + irq) / tick,
        "softirq": softirq / tick,
        "steal": steal / tick,
    }


def _sessions() -> int:
    """Connections opened to the bench database so far (PostgreSQL 14+; -1 before)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int >= 140000")
        if not cursor.fetchone()[0]:
            return -1
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    name = f"{DB_PREFIX}_delivery_{os.getpid()}"
    db_url = bench_database_url(args.database_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="denshi-bench-delivery-"))
    log(f"work folder {workdir} (worker logs)")
    redis = Redis(workdir)
    receiver = Receiver()
    workers: list[subprocess.Popen[bytes]] = []
    created = False
    try:
        log(f"database {urlsplit(db_url).path.lstrip('/')}, redis on {redis.port}")
        pg = database_recreate(db_url)
        created = True
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": db_url,
            "CELERY_BROKER_URL": redis.url,
            "DELIVERY_ALLOW_LOOPBACK": "1",
            "BENEFITS_URL": receiver.url,
            "BENEFITS_SECRET": SECRET,
            "VAR_DIR": str(workdir / "var"),
            "LOG_LEVEL": "WARNING",
            "EMBEDDED": "1",
        }
        os.environ.update(env)
        import django

        django.setup()
        log(f"preparing {args.deliveries} submissions with a pending webhook delivery")
        ids = prepare(args.deliveries)
        body = sample_body(ids[0])
        from django.db import connections

        connections.close_all()

        log(f"baseline: {args.deliveries} plain signed POSTs from {WORKERS} processes")
        base = baseline(receiver, body, args.deliveries)
        receiver.reset()

        from celery import Celery

        app = Celery(broker=redis.url)
        workers = start_workers(env, workdir)
        wait_workers(app)
        log(f"delivery_rate: {args.deliveries} deliveries, {WORKERS} worker processes")
        from integrations.models import Delivery

        sessions_before = _sessions()
        split_before = _machine_split()
        cpu_before = sum(_cpu_seconds(p.pid) for p in workers)
        db_name = urlsplit(db_url).path.lstrip("/")
        snap_before = cpu_snapshot(None, db_name)
        own_before = time.process_time()  # the receiver's threads and the counting below
        redis_before = _cpu_seconds(redis.proc.pid)
        start = time.perf_counter()
        # Queued as the poller and the on-commit kick queue them (deliveries_enqueue):
        # DELIVERY_BATCH deliveries per task (BENCH_DELIVERY_BATCH=1: a task each; 0: the
        # one-delivery task `delivery_send`, as the code before batches queued them).
        with app.producer_or_acquire() as producer:
            for delivery_id in ids if BATCH == 0 else ():
                app.send_task(
                    "integrations.tasks.delivery_send",
                    args=[delivery_id],
                    queue="deliveries",
                    producer=producer,
                )
            for first in range(0, len(ids) if BATCH else 0, BATCH or 1):
                app.send_task(
                    "integrations.tasks.deliveries_send",
                    args=[ids[first : first + BATCH]],
                    queue="deliveries",
                    producer=producer,
                )
        deadline = time.monotonic() + args.timeout
        delivered = 0
        while time.monotonic() < deadline:
            delivered = Delivery.objects.filter(state="delivered").count()
            if delivered >= len(ids):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        worker_cpu = sum(_cpu_seconds(p.pid) for p in workers) - cpu_before
        snap_after = cpu_snapshot(None, db_name)
        own_cpu = time.process_time() - own_before
        redis_cpu = _cpu_seconds(redis.proc.pid) - redis_before
        split_after = _machine_split()
        sessions = _sessions() - sessions_before if sessions_before >= 0 else -1
        connections.close_all()
        rate = delivered / elapsed
        time.sleep(0.5)  # any straggling duplicate would arrive now
        stop(workers)
        workers = []

        with receiver.lock:
            received = set(receiver.seen)
            doubled = sum(n - 1 for n in receiver.seen.values())
            bad = receiver.bad
        expected = set(
            Delivery.objects.filter(pk__in=ids).values_list("idempotency_key", flat=True)
        )
        lost = len(expected - received)
        states = Counter(Delivery.objects.values_list("state", flat=True))
        valid = lost == 0 and doubled == 0 and bad == 0 and states == {"delivered": len(ids)}
        ok = valid and rate >= TARGET
        rows = [
            ("python", platform.python_version()),
            ("cpus", str(os.cpu_count())),
            ("postgresql", pg.get("server_version", "?")),
            ("deliveries", str(len(ids))),
            ("payload bytes", str(len(body))),
        ]
        for key, value in rows:
            print(f"{key:>16}: {value}")
        print(f"{'':>16}  {'per second':>12}  {'lost':>6}  {'doubled':>8}  {'bad sig':>8}")
        print(f"{'delivery_rate':>16}  {rate:12.1f}  {lost:6d}  {doubled:8d}  {bad:8d}")
        print(f"{'baseline':>16}  {base:12.1f}")
        print(f"{'states':>16}  {dict(states)}")
        # What limits the figure: the workers' own CPU per delivery (the rest is waiting
        # on PostgreSQL, Redis, the receiver, or for a core on a busy machine).
        per = 1000 * worker_cpu / max(delivered, 1)
        print(f"{'worker cpu':>16}  {per:.1f} ms per delivery ({worker_cpu:.1f} s in all)")
        # PostgreSQL (the bench database's backends and the server's own processes), Redis,
        # and this process (the receiver verifying signatures, and the counting loop).
        n = max(delivered, 1)
        db_ms = 1000 * (snap_after["postgres"] - snap_before["postgres"]) / n
        redis_ms = 1000 * redis_cpu / n
        own_ms = 1000 * own_cpu / n
        total_ms = per + db_ms + redis_ms + own_ms
        machine_ms = 1000 * (snap_after["machine"] - snap_before["machine"]) / n
        print(
            f"{'other cpu':>16}  postgresql {db_ms:.1f}, redis {redis_ms:.1f}, "
            f"receiver+bench {own_ms:.1f} ms per delivery"
        )
        cores = os.cpu_count() or 1
        print(
            f"{'quiet estimate':>16}  {total_ms:.1f} ms of CPU per delivery in all: "
            f"{1000 * cores / total_ms:.0f}/s if {cores} cores did nothing else "
            f"(the machine spent {machine_ms:.1f} ms per delivery)"
        )
        split = ", ".join(
            f"{kind} {1000 * (split_after[kind] - split_before[kind]) / n:.1f}"
            for kind in split_after
        )
        print(f"{'machine':>16}  {split} ms per delivery (every process, the other helpers' too)")
        # A backend that ends during the run is missing from PostgreSQL's figure above:
        # workers that keep their connections open a handful in all.
        print(f"{'db sessions':>16}  {sessions} opened during the run")
        print(f"{'load average':>16}  {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
        print(f"{'per task':>16}  {BATCH} deliveries")
        if not valid:
            print("delivery_rate: INVALID (lost, doubled, unverified or undelivered)")
        print(
            json.dumps(
                {
                    "bench": "delivery_rate",
                    "value": round(rate, 1),
                    "unit": "deliveries/s",
                    "baseline": round(base, 1),
                    "ratio": round(rate / base, 3),
                    "target": TARGET,
                    "ok": ok,
                }
            ),
            flush=True,
        )
        if not valid:
            return 1
        if not args.smoke and not ok:
            return 3
        return 0
    finally:
        stop(workers)
        receiver.close()
        redis.stop()
        if created:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # pragma: no cover - Django never set up
                pass
            database_drop(db_url)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"delivery_rate: {exc}", file=sys.stderr)
        sys.exit(1)
