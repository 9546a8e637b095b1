#!/usr/bin/env python
"""`make bench` (uploads): a 1 GB file into the object store both ways a resident sends
one, with the application server's memory watched, against a plain boto3 upload of the
same file to the same store measured in the same run.

    upload_direct_memory       the direct path, played as a browser plays it: begin
                               (POST /f/<draft>/uploads/), presigned part URLs, each 8 MiB
                               part PUT straight to SeaweedFS (4 at a time), complete (the
                               content checks read the stored object in ranges). Growth of
                               the gunicorn worker's peak memory (VmHWM) over the upload.
                               Target: < 50 MB.
    upload_streamed_throughput the same file posted with the filing page (multipart/form-data,
                               as without JavaScript): MB/s from the first byte sent to the
                               page's answer, against boto3's `upload_file` of the same file
                               to the same endpoint. Target: ratio >= 0.7.
    upload_streamed_memory     the worker's peak memory growth over that post.
                               Target: < 100 MB.

Each run: a SeaweedFS server (`weed mini`, as the tests start it) and a fresh PostgreSQL
database (dropped afterwards), migrations, the procedures under benchmarks/procedures/,
gunicorn with one sync worker (so one process serves every request and its memory is
the figure), a warm-up of both paths with a small file, then the measured runs: the
baseline and the streamed post run back to back `--repeat` times; the throughput figures
are medians and the ratio is the median of each pair's ratio (other work on the machine
moves both of a pair alike); the memory figure is the largest growth seen.
Prints the environment, a table, and one JSON line per figure:

    {"bench": NAME, "value": N, "unit": U, "baseline": B, "ratio": R, "target": T, "ok": ...}

(for the memory figures, "baseline" is the worker's resident memory before the upload and
"ratio" is null). Exit status: 0 when every target is met, 3 when one is missed, 1 when a
run is not valid (an upload refused or not stored whole). `--smoke` uses a 24 MB file,
one pair, and never fails on a target.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402
from benchmarks.run import (  # noqa: E402
    DB_PREFIX,
    BenchError,
    bench_database_url,
    database_drop,
    database_recreate,
    log,
)

PROCEDURES = ROOT / "benchmarks" / "procedures"
PROCEDURE = ("bench-city", "ledger-upload")
INPUT = "f-ledger"
MB = 1024 * 1024
# A browser's uploader (Uppy) sends a few parts at a time; so does this one.
PART_CONCURRENCY = 4
SIGN_BATCH = 16
BODY_CHUNK = 1 * MB
TARGETS = {
    "upload_direct_memory": 50.0,
    "upload_streamed_throughput": 0.7,
    "upload_streamed_memory": 100.0,
}


# ---- options ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="a 24 MB file, once")
    p.add_argument("--size-mb", type=int, help="size of the file in MiB (1024)")
    p.add_argument("--repeat", type=int, help="baseline/streamed pairs, median kept (3)")
    p.add_argument("--database-url", help=f"database to (re)create, named {DB_PREFIX}*")
    p.add_argument("--keep", action="store_true", help="keep the database and work folder")
    a = p.parse_args(argv)
    a.size_mb = a.size_mb or (24 if a.smoke else 1024)
    a.repeat = a.repeat or (1 if a.smoke else 3)
    a.cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return a


# ---- memory of a process --------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {key} for process {pid}")


class PeakMemory:
    """The peak resident memory of a process over a span, above what it held at the start.

    Linux keeps the peak (VmHWM) and lets its owner (or root) reset it by writing 5 to
    /proc/PID/clear_refs; where that is not allowed the resident size is sampled every
    20 ms instead. Both are taken when both are there (the larger wins)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.start_kb = 0
        self.sampled_kb = 0
        self.hwm_reset = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        self.start_kb = _status_kb(self.pid, "VmRSS")
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.sampled_kb = self.start_kb
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.sampled_kb = max(self.sampled_kb, _status_kb(self.pid, "VmRSS"))
            except (OSError, BenchError):
                return

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_kb = self.sampled_kb
        if self.hwm_reset:
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmHWM"))

    @property
    def start_mb(self) -> float:
        return self.start_kb / 1024

    @property
    def growth_mb(self) -> float:
        return max(0, self.peak_kb - self.start_kb) / 1024


# ---- the services ---------------------------------------------------------------------------


def seaweedfs_start(workdir: Path):
    from tests import seaweedfs

    return seaweedfs.start(workdir / "seaweedfs")


def django_setup(db_url: str, workdir: Path, s3) -> dict[str, str]:
    """Django in this process on the bench database, with the environment gunicorn gets."""
    (workdir / "var" / "staticfiles").mkdir(parents=True, exist_ok=True)
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": db_url,
        "DEBUG": "0",
        "EMBEDDED": "1",
        "RATE_LIMIT_ENABLED": "0",
        # Tasks are published, as deployed, and nothing consumes them: the scan of each
        # upload is a worker's work, not the request's. An in-process broker publishes
        # nowhere outside the worker.
        "CELERY_BROKER_URL": "memory://",
        "PROCEDURES_DIR": str(PROCEDURES),
        "VAR_DIR": str(workdir / "var"),
        "LOG_LEVEL": "WARNING",
        "TMPDIR": str(workdir / "tmp"),
        # The form post may carry the whole file.
        "UPLOAD_FILE_MAX_BYTES": str(4 * 1024 * MB),
        "UPLOAD_REQUEST_MAX_BYTES": str(4 * 1024 * MB),
        "AWS_STORAGE_BUCKET_NAME": s3.bucket,
        "AWS_S3_ENDPOINT_URL": s3.endpoint,
        "AWS_S3_REGION_NAME": s3.region,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "DIRECT_UPLOAD": "1",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from forms_engine import services

    call_command("migrate", interactive=False, verbosity=0)
    report = services.procedures_load(PROCEDURES)
    if report.errors:
        raise BenchError("bench procedures did not load:\n" + "\n".join(report.errors))
    from django.db import connections

    connections.close_all()
    return dict(os.environ)


class Gunicorn(run.Gunicorn):
    """One sync worker: every request of the run is served by the process measured."""

    ready_path = "/healthz/live"
    # A sync worker busy with a 1 GB body must not be taken for a hung one (the later
    # --timeout wins over gunicorn's default).
    extra_args = ("--timeout=900",)

    def __init__(self, env: dict[str, str], log_path: Path):
        super().__init__(1, env, log_path)

    def worker_pid(self) -> int:
        assert self.proc is not None
        path = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
        with open(path) as f:
            children = [int(x) for x in f.read().split()]
        if len(children) != 1:
            raise BenchError(f"expected one gunicorn worker, found {children}")
        return children[0]


# ---- the file -----------------------------------------------------------------------------


def make_file(path: Path, size: int) -> None:
    """A PDF of `size` bytes: its header, incompressible bytes, its end."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    tail = b"\n%%EOF\n"
    with open(path, "wb") as f:
        f.write(head)
        remaining = size - len(head) - len(tail)
        while remaining > 0:
            chunk = os.urandom(min(8 * MB, remaining))
            # No accidental markers the content checks look for in the random bytes.
            chunk = chunk.replace(b"PK\x05\x06", b"PK\x05\x07").replace(b"<", b">")
            f.write(chunk)
            remaining -= len(chunk)
        f.write(tail)


# ---- a browser ------------------------------------------------------------------------------


class Browser:
    """Cookies, the CSRF token, and the requests a resident's browser sends."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(req, timeout=900) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def start(self) -> str:
        """Start a filing of the bench procedure; the URL of its page of files."""
        org, slug = PROCEDURE
        status, _h, page = self.request("GET", f"/p/{org}/{slug}/")
        if status != 200:
            raise BenchError(f"start page: HTTP {status}")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if token is None:
            raise BenchError("start page: no CSRF token")
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1).decode()}).encode()
        status, headers, _b = self.request(
            "POST",
            f"/p/{org}/{slug}/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302:
            raise BenchError(f"starting a filing: HTTP {status}")
        return urllib.parse.urlsplit(headers["Location"]).path

    def json(self, method: str, path: str, data: dict) -> tuple[int, dict]:
        status, _h, body = self.request(
            method,
            path,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken")},
        )
        try:
            return status, json.loads(body or b"{}")
        except ValueError:
            return status, {"raw": body[:300].decode(errors="replace")}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def direct_upload(browser: Browser, page_url: str, path: Path, name: str) -> dict:
    """Begin, sign and PUT every part straight to the store, complete: the uploader's work."""
    draft = page_url.split("/")[2]
    page = ".".join(page_url.strip("/").split("/")[2:4])
    size = path.stat().st_size
    status, begun = browser.json(
        "POST",
        f"/f/{draft}/uploads/",
        {"input": INPUT, "page": page, "name": name, "size": size, "type": "application/pdf"},
    )
    if status != 201:
        raise BenchError(f"begin: HTTP {status} {begun}")
    part_size = begun["partSize"]
    count = -(-size // part_size)

    def put(number: int, url: str) -> dict:
        with open(path, "rb") as f:
            f.seek((number - 1) * part_size)
            data = f.read(part_size)
        target = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
        try:
            conn.request("PUT", f"{target.path}?{target.query}", body=data)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise BenchError(f"PUT part {number}: HTTP {response.status}")
            return {"PartNumber": number, "ETag": response.getheader("ETag")}
        finally:
            conn.close()

    parts: list[dict] = []
    with concurrent.futures.ThreadPoolExecutor(PART_CONCURRENCY) as pool:
        for first in range(1, count + 1, SIGN_BATCH):
            numbers = list(range(first, min(count, first + SIGN_BATCH - 1) + 1))
            status, signed = browser.json(
                "POST", f"/f/{draft}/uploads/{begun['id']}/parts", {"partNumbers": numbers}
            )
            if status != 200:
                raise BenchError(f"sign parts: HTTP {status} {signed}")
            urls = [signed["urls"][str(n)] for n in numbers]
            parts.extend(pool.map(put, numbers, urls))
    status, done = browser.json(
        "POST", f"/f/{draft}/uploads/{begun['id']}/complete", {"parts": parts}
    )
    if status != 200:
        raise BenchError(f"complete: HTTP {status} {done}")
    return done


def streamed_post(browser: Browser, page_url: str, path: Path, name: str) -> None:
    """The page posted with the file, as a browser without JavaScript posts it: one
    multipart/form-data body, read from disk as it is sent."""
    boundary = f"----bench{uuid.uuid4().hex}"
    token = browser.cookie("csrftoken")
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{token}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="_action"\r\n\r\n'
        "next\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="f-email"\r\n\r\n'
        "bench@example.jp\r\n"
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{INPUT}"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)

    def body():
        yield head
        with open(path, "rb") as f:
            while chunk := f.read(BODY_CHUNK):
                yield chunk
        yield tail

    target = urllib.parse.urlsplit(browser.base)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=900)
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.jar)
    try:
        conn.request(
            "POST",
            page_url,
            body=body(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
                "Cookie": cookies,
            },
        )
        response = conn.getresponse()
        text = response.read()
    finally:
        conn.close()
    if response.status != 302:
        errors = re.findall(rb'class="field__error"[^>]*>(.*?)</p>', text, re.S)
        raise BenchError(f"streamed post: HTTP {response.status} {errors or text[:300]}")


def boto3_upload_file(s3, path: Path, key: str) -> None:
    """The baseline: boto3's own managed upload, default settings, same file, same store."""
    import boto3  # noqa: TID251 - the baseline is plain boto3 by definition

    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=s3.region,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
    )
    client.upload_file(str(path), s3.bucket, key)


# ---- measuring ------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float
    ratio: float | None
    target: float
    higher_is_better: bool

    @property
    def ok(self) -> bool:
        measured = self.ratio if self.ratio is not None else self.value
        return measured >= self.target if self.higher_is_better else measured < self.target

    def json(self) -> str:
        return json.dumps(
            {
                "bench": self.name,
                "value": round(self.value, 1),
                "unit": self.unit,
                "baseline": round(self.baseline, 1),
                "ratio": None if self.ratio is None else round(self.ratio, 3),
                "target": self.target,
                "ok": self.ok,
            }
        )


@dataclass
class Runs:
    rows: list[tuple[str, float, float, float]] = field(default_factory=list)  # label, s, MB/s, MB

    def add(self, label: str, seconds: float, size: int, growth_mb: float = float("nan")):
        self.rows.append((label, seconds, size / MB / seconds, growth_mb))


def stored_attachment(name: str):
    from forms_engine import models as m

    return m.Attachment.objects.filter(original_name=name).order_by("-created_at").first()


def forget(s3_store, key: str) -> None:
    try:
        s3_store.delete(key)
    except Exception:  # the store is stopped with the run anyway
        pass


def measure(args, server: Gunicorn, s3, workdir: Path) -> tuple[list[Figure], Runs, list[str]]:
    from forms_engine import storage

    store = storage.object_store()
    problems: list[str] = []
    runs = Runs()
    size = args.size_mb * MB
    big = workdir / "ledger.pdf"
    small = workdir / "warmup.pdf"
    log(f"writing a {args.size_mb} MiB file")
    make_file(big, size)
    make_file(small, 16 * MB)
    worker = server.worker_pid()

    def check_stored(name: str, expected: int) -> None:
        attachment = stored_attachment(name)
        if attachment is None or attachment.size != expected:
            problems.append(f"{name}: not stored whole ({attachment and attachment.size})")
            return
        if store.size(attachment.storage_key) != expected:
            problems.append(f"{name}: the store holds another size")
        forget(store, attachment.storage_key)

    log("warm-up: both paths with 16 MiB")
    browser = Browser(server.base)
    direct_upload(browser, browser.start(), small, "warmup-direct.pdf")
    check_stored("warmup-direct.pdf", small.stat().st_size)
    browser = Browser(server.base)
    streamed_post(browser, browser.start(), small, "warmup-streamed.pdf")
    check_stored("warmup-streamed.pdf", small.stat().st_size)

    log(f"direct upload of {args.size_mb} MiB")
    browser = Browser(server.base)
    page = browser.start()
    with PeakMemory(worker) as direct_memory:
        started = time.perf_counter()
        direct_upload(browser, page, big, "ledger-direct.pdf")
        seconds = time.perf_counter() - started
    runs.add("direct (presigned parts)", seconds, size, direct_memory.growth_mb)
    check_stored("ledger-direct.pdf", size)

    pairs: list[tuple[float, float]] = []  # (baseline MB/s, streamed MB/s), side by side
    streamed_growth = 0.0
    streamed_start = 0.0
    for i in range(args.repeat):
        log(f"boto3 upload_file of {args.size_mb} MiB ({i + 1}/{args.repeat})")
        key = f"bench/{uuid.uuid4()}"
        started = time.perf_counter()
        boto3_upload_file(s3, big, key)
        baseline_seconds = time.perf_counter() - started
        runs.add("baseline boto3 upload_file", baseline_seconds, size)
        forget(store, key)

        log(f"streamed post of {args.size_mb} MiB ({i + 1}/{args.repeat})")
        browser = Browser(server.base)
        page = browser.start()
        name = f"ledger-streamed-{i}.pdf"
        with PeakMemory(worker) as memory:
            started = time.perf_counter()
            streamed_post(browser, page, big, name)
            seconds = time.perf_counter() - started
        runs.add("streamed (form post)", seconds, size, memory.growth_mb)
        pairs.append((size / MB / baseline_seconds, size / MB / seconds))
        if memory.growth_mb >= streamed_growth:
            streamed_growth, streamed_start = memory.growth_mb, memory.start_mb
        check_stored(name, size)

    # Each pair ran back to back, under the same load from whatever else shares the
    # machine: the median of the pairs' ratios, not a ratio of bests taken at other times.
    ratio = statistics.median(streamed / baseline for baseline, streamed in pairs)
    figures = [
        Figure(
            "upload_direct_memory",
            direct_memory.growth_mb,
            "MB",
            direct_memory.start_mb,
            None,
            TARGETS["upload_direct_memory"],
            higher_is_better=False,
        ),
        Figure(
            "upload_streamed_throughput",
            statistics.median(streamed for _b, streamed in pairs),
            "MB/s",
            statistics.median(baseline for baseline, _s in pairs),
            ratio,
            TARGETS["upload_streamed_throughput"],
            higher_is_better=True,
        ),
        Figure(
            "upload_streamed_memory",
            streamed_growth,
            "MB",
            streamed_start,
            None,
            TARGETS["upload_streamed_memory"],
            higher_is_better=False,
        ),
    ]
    if not direct_memory.hwm_reset:
        log("peak memory sampled every 20 ms (VmHWM could not be reset)")
    return figures, runs, problems


# ---- report -------------------------------------------------------------------------------


def environment(args) -> list[tuple[str, str]]:
    import django

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if "model name" in line), "")
    except OSError:
        pass
    weed = subprocess.run(
        [shutil.which("weed") or str(Path(sys.executable).parent / "weed"), "version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return [
        ("date", time.strftime("%Y-%m-%d %H:%M %Z")),
        ("machine", f"{args.cores} cores ({cpu or platform.machine()}), {platform.system()}"),
        ("python / django", f"{platform.python_version()} / {django.get_version()}"),
        ("gunicorn", "1 sync worker (the process measured)"),
        ("object store", weed.splitlines()[0] if weed else "SeaweedFS"),
        ("file", f"{args.size_mb} MiB, {args.repeat} baseline/streamed pair(s), medians"),
    ]


def report(args, env, figures: list[Figure], runs: Runs, problems: list[str]) -> None:
    print()
    for key, value in env:
        print(f"{key:16} {value}")
    print()
    head = f"{'run':30} {'seconds':>8} {'MB/s':>8} {'worker peak +MB':>16}"
    print(head)
    print("-" * len(head))
    for label, seconds, rate, growth in runs.rows:
        growth_text = "" if growth != growth else f"{growth:16.1f}"  # NaN: not watched
        print(f"{label:30} {seconds:8.2f} {rate:8.1f} {growth_text:>16}")
    print()
    head = f"{'figure':28} {'value':>10} {'unit':>5} {'baseline':>9} {'ratio':>7} {'target':>7}  ok"
    print(head)
    print("-" * len(head))
    for f in figures:
        ratio = "" if f.ratio is None else f"{f.ratio:7.3f}"
        target = f"{'>=' if f.higher_is_better else '<'}{f.target:g}"
        print(
            f"{f.name:28} {f.value:10.1f} {f.unit:>5} {f.baseline:9.1f} {ratio:>7} "
            f"{target:>7}  {'yes' if f.ok else 'NO'}"
        )
    print("  (memory baseline: the worker's resident MB before the upload)")
    for problem in problems:
        print(f"  INVALID: {problem}")
    print()
    for f in figures:
        print(f.json(), flush=True)


# ---- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, run._on_sigterm)
    name = f"{DB_PREFIX}_uploads_{os.getpid()}" if args.smoke else f"{DB_PREFIX}_uploads"
    db_url = bench_database_url(args.database_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="denshi-bench-uploads-"))
    weed = server = None
    created = False
    try:
        log("starting SeaweedFS")
        weed, s3 = seaweedfs_start(workdir)
        log(f"database {urllib.parse.urlsplit(db_url).path.lstrip('/')}")
        database_recreate(db_url)
        created = True
        env = django_setup(db_url, workdir, s3)
        server = Gunicorn(env, workdir / "gunicorn.log")
        server.start()
        log(f"gunicorn: 1 worker on {server.base}")
        figures, runs, problems = measure(args, server, s3, workdir)
        server.stop()
        report(args, environment(args), figures, runs, problems)
        if problems:
            return 1
        if not args.smoke and not all(f.ok for f in figures):
            return 3
        return 0
    except BenchError:
        if server is not None:
            print(f"gunicorn log (last lines):\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.stop()
        if "django" in sys.modules and "DJANGO_SETTINGS_MODULE" in os.environ:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # cleanup goes on whatever Django's state
                pass
        if weed is not None:
            from tests import seaweedfs

            seaweedfs.stop(weed)
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
