#!/usr/bin/env python
"""`make bench` (page_weight): the bytes a phone downloads for the dog registration's pages,
measured in headless Chromium (Debian's /usr/bin/chromium driven by Playwright, 390x844,
ja-JP) from the network layer: every resource's bytes on the wire (headers and compressed
body, DevTools' "transferred": CDP Network.loadingFinished encodedDataLength), JavaScript
counted apart too.

    page_weight_first       the first page of the dog registration (its owner page, reached
                            from the start page), cold: a first visit, nothing cached.
                            Target: at most 40 kB (40,000 bytes).
    page_weight_first_js    the JavaScript of that page. Target: at most 15 kB.
    page_weight_later       a later page (the declaration, page 3), reached by filling in
                            the pages before it for real in the same browser, as a resident
                            does: what this page adds, the static files already cached.
                            Target: at most 10 kB.
    page_weight_file_field  a page with a file field (the dog page, page 2) with direct
                            upload on, so the uploader (its script, styles and texts) is
                            part of the page; cold, nothing cached. Target: at most 120 kB.

Each page kind gets a fresh browser context (its own empty cache and cookies). The cold
pages are reached by filling in the earlier pages in one context and opening the page in a
new context holding only that context's cookies, so nothing is cached when it loads; a
resource served from a cache there makes the run invalid.

The service runs as deployed: gunicorn serving config.wsgi with DEBUG=0 on its own
PostgreSQL database (named denshi_bench_weight_<pid>, dropped at the end), after
collectstatic into the run's work folder, so WhiteNoise serves the hashed, precompressed
(brotli and gzip) static files; HTML is compressed by the service (COMPRESS_RESPONSES).
Direct upload is on against a SeaweedFS server (as tests/seaweedfs.py starts it), so the
page with a file field carries the uploader. The procedures are the sample procedures
(procedures/, the same as shared/procedures/). The browser sends the Accept-Encoding
Chromium sends to an HTTPS site ("gzip, deflate, br, zstd"); over plain HTTP it would
leave out br.

Baseline, measured in the same run: the same resources uncompressed (their headers plus
their decoded bodies); "ratio" is value / baseline. The targets are absolute bytes.

Prints the environment, a table of every resource, and one JSON line per figure:

    {"bench": NAME, "value": BYTES, "unit": "bytes", "baseline": B, "ratio": R,
     "target": T, "ok": ...}

Exit status: 0 when every figure is on target, 3 when one is missed, 1 when a run is not
valid (a resource answered 4xx/5xx, came from a cache in a cold measurement, or an
expected resource is missing). `--smoke` never fails on a target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run as harness  # noqa: E402

PROCEDURES = ROOT / "procedures"  # the sample procedures (shared/procedures/)
ORG, SLUG = "sample-city", "dog-registration"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ja-JP",
    "timezone_id": "Asia/Tokyo",
}
# What Chromium sends to an HTTPS site (where the service runs); to plain HTTP it sends
# "gzip, deflate" only.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
TIMEOUT_MS = 30_000
KB = 1000

TARGETS = {
    "page_weight_first": 40 * KB,
    "page_weight_first_js": 15 * KB,
    "page_weight_later": 10 * KB,
    "page_weight_file_field": 120 * KB,
}


# ---- what the network layer saw ------------------------------------------------------------


@dataclass
class Resource:
    url: str
    kind: str = ""  # CDP resource type: Document, Stylesheet, Script, Fetch, Ping...
    mime: str = ""
    status: int = 0
    encoding: str = ""  # Content-Encoding
    header_bytes: int = 0
    transferred: int = 0  # headers + body as on the wire (0 when served from a cache)
    decoded: int = 0  # body bytes once decoded
    cached: bool = False
    finished: bool = False
    redirects: int = 0  # bytes of redirect responses on the way (headers + body)

    @property
    def is_js(self) -> bool:
        return self.kind == "Script" or "javascript" in self.mime

    @property
    def uncompressed(self) -> int:
        """The same transfer without compression (0 when nothing was transferred)."""
        if not self.transferred:
            return 0
        return self.header_bytes + self.decoded + self.redirects

    @property
    def short(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


class Recorder:
    """Every request of one page, from Chromium's DevTools protocol."""

    def __init__(self, context, page):
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.send(
            "Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": ACCEPT_ENCODING}}
        )
        self.resources: dict[str, Resource] = {}
        self.on = False
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.dataReceived", self._data)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.requestServedFromCache", self._from_cache)

    def start(self) -> None:
        self.resources = {}
        self.on = True

    def stop(self) -> list[Resource]:
        self.on = False
        return list(self.resources.values())

    def _sent(self, e):
        if not self.on:
            return
        res = self.resources.get(e["requestId"])
        if res is not None and e.get("redirectResponse"):
            res.redirects += int(e["redirectResponse"].get("encodedDataLength", 0))
            res.url = e["request"]["url"]
            return
        url = e["request"]["url"]
        if url.startswith(("data:", "blob:")):
            return  # inside the page already: nothing goes over the network
        self.resources[e["requestId"]] = Resource(url=url, kind=e.get("type", ""))

    def _response(self, e):
        res = self.resources.get(e["requestId"])
        if res is None:
            return
        r = e["response"]
        headers = {k.lower(): v for k, v in r.get("headers", {}).items()}
        res.kind = e.get("type", res.kind)
        res.mime = r.get("mimeType", "")
        res.status = int(r.get("status", 0))
        res.encoding = headers.get("content-encoding", "")
        res.header_bytes = int(r.get("encodedDataLength", 0))
        res.cached = res.cached or bool(r.get("fromDiskCache") or r.get("fromPrefetchCache"))

    def _data(self, e):
        res = self.resources.get(e["requestId"])
        if res is not None:
            res.decoded += int(e.get("dataLength", 0))

    def _finished(self, e):
        res = self.resources.get(e["requestId"])
        if res is not None:
            res.transferred = int(e.get("encodedDataLength", 0)) + res.redirects
            res.finished = True

    def _from_cache(self, e):
        res = self.resources.get(e["requestId"])
        if res is not None:
            res.cached = True


@dataclass
class Measure:
    label: str
    cold: bool
    resources: list[Resource]
    problems: list[str] = field(default_factory=list)

    def total(self, js_only: bool = False) -> int:
        return sum(r.transferred for r in self.resources if r.is_js or not js_only)

    def uncompressed(self, js_only: bool = False) -> int:
        return sum(r.uncompressed for r in self.resources if r.is_js or not js_only)

    def requests(self, js_only: bool = False) -> int:
        return sum(1 for r in self.resources if (r.is_js or not js_only) and r.transferred)

    def check(self, expected: tuple[str, ...]) -> None:
        for r in self.resources:
            if r.status >= 400 or not r.finished:
                self.problems.append(f"{self.label}: {r.short} answered {r.status or 'nothing'}")
            if self.cold and r.cached:
                self.problems.append(f"{self.label}: {r.short} came from a cache on a cold page")
        paths = [r.short for r in self.resources]
        for name in expected:
            if not any(name in p for p in paths):
                self.problems.append(f"{self.label}: no request for {name}")


# ---- the browser ----------------------------------------------------------------------------


def _fill_owner(page) -> None:
    page.fill('[name="f-name-family"]', "山田")
    page.fill('[name="f-name-given"]', "太郎")
    page.fill('[name="f-name-kana_family"]', "ヤマダ")
    page.fill('[name="f-name-kana_given"]', "タロウ")
    page.fill('[name="f-birth_date-year"]', "1985")
    page.fill('[name="f-birth_date-month"]', "4")
    page.fill('[name="f-birth_date-day"]', "1")
    page.fill('[name="f-postal_code"]', "5400008")
    page.select_option('[name="f-address-prefecture"]', "大阪府")
    page.fill('[name="f-address-city"]', "大阪市中央区")
    page.fill('[name="f-address-town"]', "大手前2丁目1-22")
    page.fill('[name="f-phone"]', "09012345678")
    page.fill('[name="f-email"]', "taro@example.jp")


def _fill_dog(page) -> None:
    page.fill('[name="f-dog_name"]', "ポチ")
    page.select_option('[name="f-breed"]', "shiba")
    page.fill('[name="f-dog_birth_date-year"]', "2024")
    page.fill('[name="f-dog_birth_date-month"]', "1")
    page.fill('[name="f-dog_birth_date-day"]', "15")
    page.check('[name="f-sex"][value="female"]')
    # Not vaccinated: the file field stays hidden and optional, so no upload is needed.
    page.check('[name="f-vaccinated"][value="no"]')


def _next(page) -> None:
    with page.expect_navigation():
        page.click('.actions button[name="_action"][value="next"]')


def _settle(page) -> None:
    page.wait_for_load_state("load")
    page.wait_for_load_state("networkidle")


class Browser:
    def __init__(self, base: str):
        from playwright.sync_api import sync_playwright

        self.base = base
        self.pw = sync_playwright().start()
        self.browser = self.pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        self.version = self.browser.version

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            self.pw.stop()

    def context(self, **extra):
        context = self.browser.new_context(**PHONE, **extra)
        context.set_default_timeout(TIMEOUT_MS)
        return context

    @staticmethod
    def done(context) -> None:
        # Offline first: leaving a filing page sends keep.js's beacon.
        context.set_offline(True)
        context.close()

    def walk(self, pages: int):
        """A fresh context from the start page through `pages` filled-in pages; returns
        (context, page, recorder) on the next page, not yet measured."""
        context = self.context()
        page = context.new_page()
        recorder = Recorder(context, page)
        page.goto(f"{self.base}/p/{ORG}/{SLUG}/")
        with page.expect_navigation():
            page.click('form button[type="submit"].button--primary')
        _settle(page)
        for position in range(pages):
            (_fill_owner, _fill_dog)[position](page)
            before = page.url
            _next(page)
            _settle(page)
            if page.url == before:  # the page came back with errors
                errors = page.locator(".field__error").all_inner_texts()
                raise harness.BenchError(f"page {position + 1} not accepted: {errors}")
        return context, page, recorder

    def cold(self, label: str, pages: int, expected: tuple[str, ...]) -> Measure:
        """The page after `pages` filled-in pages, opened in a new context that holds
        only the filing's cookies: a first visit, nothing cached."""
        context, page, _ = self.walk(pages)
        url, state = page.url, context.storage_state()
        self.done(context)
        context = self.context(storage_state=state)
        page = context.new_page()
        recorder = Recorder(context, page)
        recorder.start()
        page.goto(url)
        _settle(page)
        measure = Measure(label, True, recorder.stop())
        measure.check(expected)
        self.done(context)
        return measure

    def later(self, label: str) -> Measure:
        """Page 3, reached by filling in pages 1 and 2 in the same context: the static
        files are cached from the earlier pages, as for every resident who gets there."""
        context, page, recorder = self.walk(1)
        _fill_dog(page)
        recorder.start()
        _next(page)
        _settle(page)
        measure = Measure(label, False, recorder.stop())
        measure.check(("/f/",))
        if "確認事項" not in page.content():
            measure.problems.append(f"{label}: page 3 (確認事項) was not reached: {page.url}")
        self.done(context)
        return measure


# ---- the service ----------------------------------------------------------------------------


def django_setup(db_url: str, workdir: Path, s3) -> dict[str, str]:
    (workdir / "var" / "staticfiles").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": db_url,
            "DEBUG": "0",
            "EMBEDDED": "1",
            "RATE_LIMIT_ENABLED": "0",
            "CELERY_BROKER_URL": "memory://",
            "PROCEDURES_DIR": str(PROCEDURES),
            "VAR_DIR": str(workdir / "var"),
            "LOG_LEVEL": "WARNING",
            "STATIC_MANIFEST": "1",
            "COMPRESS_RESPONSES": os.environ.get("COMPRESS_RESPONSES", "1"),
            "AWS_STORAGE_BUCKET_NAME": s3.bucket,
            "AWS_S3_ENDPOINT_URL": s3.endpoint,
            "AWS_S3_REGION_NAME": s3.region,
            "AWS_ACCESS_KEY_ID": s3.access_key,
            "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "DIRECT_UPLOAD": "1",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from forms_engine import services

    call_command("migrate", interactive=False, verbosity=0)
    report = services.procedures_load(PROCEDURES)
    if report.errors:
        raise harness.BenchError("procedures did not load:\n" + "\n".join(report.errors))
    # Hashed names, and next to each file its .br and .gz (WhiteNoise's storage).
    call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()
    return dict(os.environ)


def static_summary(workdir: Path) -> str:
    root = workdir / "var" / "staticfiles"
    files = [p for p in root.rglob("*") if p.is_file()]
    return (
        f"{sum(1 for p in files if p.suffix == '.br')} .br and "
        f"{sum(1 for p in files if p.suffix == '.gz')} .gz files next to "
        f"{sum(1 for p in files if p.suffix not in ('.br', '.gz'))} collected"
    )


# ---- report ---------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: int
    baseline: int
    problems: list[str]

    @property
    def target(self) -> int:
        return TARGETS[self.name]

    @property
    def ok(self) -> bool:
        return not self.problems and self.value <= self.target

    def json(self) -> str:
        return json.dumps(
            {
                "bench": self.name,
                "value": self.value,
                "unit": "bytes",
                "baseline": self.baseline,
                "ratio": round(self.value / self.baseline, 3) if self.baseline else 0.0,
                "target": self.target,
                "ok": self.ok,
            }
        )


def figures_of(first: Measure, later: Measure, upload: Measure) -> list[Figure]:
    return [
        Figure("page_weight_first", first.total(), first.uncompressed(), first.problems),
        Figure(
            "page_weight_first_js",
            first.total(js_only=True),
            first.uncompressed(js_only=True),
            first.problems,
        ),
        Figure("page_weight_later", later.total(), later.uncompressed(), later.problems),
        Figure("page_weight_file_field", upload.total(), upload.uncompressed(), upload.problems),
    ]


def report(env: list[tuple[str, str]], measures: list[Measure], figures: list[Figure]) -> None:
    print()
    for key, value in env:
        print(f"{key:16} {value}")
    for m in measures:
        print()
        cache = "cold: nothing cached" if m.cold else "static files cached by the pages before"
        print(f"{m.label} ({cache})")
        head = f"  {'resource':58} {'type':10} {'enc':4} {'status':>6} {'bytes':>7} {'uncompr.':>8}"
        print(head)
        print("  " + "-" * (len(head) - 2))
        for r in m.resources:
            where = " (cache)" if r.cached else ""
            print(
                f"  {r.short[:58]:58} {r.kind[:10]:10} {r.encoding[:4]:4} {r.status:6d} "
                f"{r.transferred:7d} {r.uncompressed:8d}{where}"
            )
        print(
            f"  {'total: ' + str(m.requests()) + ' requests transferred':58} {'':10} {'':4} "
            f"{'':6} {m.total():7d} {m.uncompressed():8d}"
        )
        print(
            f"  {'  of which JavaScript: ' + str(m.requests(js_only=True)) + ' requests':58} "
            f"{'':10} {'':4} {'':6} {m.total(js_only=True):7d} {m.uncompressed(js_only=True):8d}"
        )
    print()
    head = f"{'figure':24} {'kB':>7} {'uncompr. kB':>12} {'ratio':>6} {'target kB':>10}  ok"
    print(head)
    print("-" * len(head))
    for f in figures:
        ratio = f.value / f.baseline if f.baseline else 0.0
        print(
            f"{f.name:24} {f.value / KB:7.1f} {f.baseline / KB:12.1f} {ratio:6.2f} "
            f"{f.target / KB:10.0f}  {'yes' if f.ok else 'NO'}"
        )
    problems = sorted({p for m in measures for p in m.problems})
    for problem in problems:
        print(f"  INVALID: {problem}")
    print()
    for f in figures:
        print(f.json(), flush=True)


def environment(browser_version: str, static: str) -> list[tuple[str, str]]:
    from importlib.metadata import version

    import django
    import gunicorn
    from django.conf import settings

    return [
        ("date", time.strftime("%Y-%m-%d %H:%M %Z")),
        ("python / django", f"{platform.python_version()} / {django.get_version()}"),
        ("gunicorn", f"{gunicorn.__version__}, 2 sync workers, DEBUG=0"),
        ("browser", f"Chromium {browser_version} headless, 390x844 @3x, ja-JP"),
        ("accept-encoding", ACCEPT_ENCODING),
        ("static files", f"whitenoise {version('whitenoise')}: {static}"),
        ("html compression", "on" if settings.COMPRESS_RESPONSES else "off (COMPRESS_RESPONSES)"),
    ]


# ---- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="never fail on a target")
    p.add_argument("--database-url")
    p.add_argument("--keep", action="store_true", help="keep the database and work folder")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise harness.BenchError(f"{CHROMIUM} not found (scripts/apt-ensure.sh chromium)")
    signal.signal(signal.SIGTERM, harness._on_sigterm)
    db_url = harness.bench_database_url(
        args.database_url, f"{harness.DB_PREFIX}_weight_{os.getpid()}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="denshi-bench-weight-"))
    weed = server = browser = None
    created = False
    try:
        from tests import seaweedfs

        harness.log("starting SeaweedFS")
        weed, s3 = seaweedfs.start(workdir / "seaweedfs")
        harness.database_recreate(db_url)
        created = True
        env = django_setup(db_url, workdir, s3)
        server = harness.Gunicorn(2, env, workdir / "gunicorn.log")
        server.ready_path = "/healthz/live"
        server.start()
        harness.log(f"gunicorn: 2 workers on {server.base}")
        # Django is done with in this process: Playwright's sync API runs an event loop
        # in this thread from here on.
        browser = Browser(server.base)
        first = browser.cold("first page (page 1 of 3, owner)", 0, ("/f/", ".css", ".js"))
        later = browser.later("later page (page 3 of 3, declaration)")
        upload = browser.cold(
            "page with a file field (page 2 of 3, dog; uploader included)",
            1,
            ("/f/", "uploader.", ".css"),
        )
        version = browser.version
        browser.close()
        browser = None
        server.stop()
        figures = figures_of(first, later, upload)
        report(environment(version, static_summary(workdir)), [first, later, upload], figures)
        if any(f.problems for f in figures):
            return 1
        return 0 if args.smoke or all(f.ok for f in figures) else 3
    except harness.BenchError:
        if server is not None:
            print(f"gunicorn log (last lines):\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        if browser is not None:
            browser.close()
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
            harness.database_drop(db_url)
        if args.keep:
            harness.log(f"kept database {db_url} and {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except harness.BenchError as exc:
        print(f"bench: ERROR: {exc}", file=sys.stderr)
        sys.exit(1)
