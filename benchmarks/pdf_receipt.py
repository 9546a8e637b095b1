#!/usr/bin/env python
"""The receipt PDF (申請控え): how long one takes in a warm worker process, and whether the
worker's memory stays flat.

One process plays the PDF worker: it sets Django up on a private SQLite database (migrated
here), loads the test town's procedures, writes one submission of its every-field
procedure (a two-page Japanese receipt, 𠮷 and 神 U+FA19 in the name, a file and a fee),
renders a few receipts to warm up (WeasyPrint's import, fonts, caches), then measures:

- `pdf_receipt`: the median time of the two-page receipt (target < 0.5 s);
- `pdf_receipt_long`: the median time of the same receipt with a 5,000-character answer
  (target < 2 s);
- `pdf_receipt_rss`: the worker's resident memory after 200 more receipts against the
  memory after the warm-up (the ratio; target <= 1.25, i.e. flat: growth is printed);

each against a baseline measured in the same run: a one-line WeasyPrint document in the
same font (the floor of any PDF here). Prints a table and one JSON line per figure:

    {"bench": NAME, "value": V, "unit": U, "baseline": B, "ratio": V/B, "target": T, "ok": ...}

(for the memory line the target is on the ratio). Exit status 3 when a figure misses its
target, 0 otherwise. `--quick` renders fewer (the smoke test in tests/test_bench_smoke.py).

    .venv/bin/python benchmarks/pdf_receipt.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TREE = ROOT / "tests" / "fixtures" / "procedures"
ANSWERS = {
    "title_text": "Annual report",
    "copies": 2,
    "color": "red",
    "extras": ["a"],
    "agree_news": True,
    "who": {"family": "𠮷田", "given": "\ufa19子", "kana_family": "ヨシダ", "kana_given": "ノリコ"},
    "docs": [{"id": "00000000-0000-0000-0000-000000000001", "name": "申請書.pdf", "size": 204800}],
    "ok": True,
}
LONG = ("申請の理由を詳しく書きます。" * 400)[:5000]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def django_setup(folder: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.setdefault("VAR_DIR", str(folder))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def make_submission():
    from forms_engine import models as m
    from forms_engine import services

    report = services.procedures_load(TREE)
    assert report.errors == [], report.errors
    procedure = m.Procedure.objects.get(organization__slug="test-town", slug="every-field")
    version = procedure.live_version
    receipt = m.Receipt.objects.create(number="BNCH-0001-0000", status_code_hash="x")
    draft = m.Draft.objects.create(organization=procedure.organization, status="submitted")
    sub = m.Submission.objects.create(
        receipt=receipt,
        number=receipt.number,
        draft=draft,
        organization=procedure.organization,
        department=version.department,
        procedure=procedure,
        procedure_version=version,
        status=m.Submission.Status.SUBMITTED,
        answers=ANSWERS,
        contact_email="bench@example.jp",
        fee_total=700,
        fee_lines=[
            {"label": "基本料", "amount": 500, "quantity": 1, "subtotal": 500},
            {"label": "部数", "amount": 100, "quantity": 2, "subtotal": 200},
        ],
    )
    m.Attachment.objects.create(
        draft=draft, submission=sub, field_key="docs", file="files/x",
        original_name="申請書.pdf", size=204800, content_type="application/pdf",
        status=m.Attachment.Status.CLEAN,
    )  # fmt: skip
    return sub


def pages(pdf: bytes) -> int:
    """The page count (poppler's pdfinfo; -1 without it)."""
    if shutil.which("pdfinfo") is None:
        return -1
    out = subprocess.run(
        ["pdfinfo", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    match = re.search(r"^Pages:\s+(\d+)", out, re.M)
    return int(match.group(1)) if match else -1


def timed(render, n: int) -> tuple[float, float, bytes]:
    """Median wall-clock and CPU seconds of `n` renders, and the last PDF. On a machine
    shared with other work the CPU time shows what the render itself costs."""
    wall, cpu = [], []
    pdf = b""
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        pdf = render()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), pdf


def line(name: str, value: float, unit: str, baseline: float, target: float, ratio_target=False):
    ratio = value / baseline if baseline else 0.0
    ok = (ratio if ratio_target else value) <= target
    return {
        "bench": name,
        "value": round(value, 4),
        "unit": unit,
        "baseline": round(baseline, 4),
        "ratio": round(ratio, 3),
        "target": target,
        "ok": ok,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few renders only (smoke test)")
    args = p.parse_args(argv)
    runs, long_runs, memory_runs = (3, 1, 10) if args.quick else (30, 5, 200)

    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        django_setup(Path(tmp))
        from forms_engine.documents.pdf import DOCUMENT_FONT, pdf_from_html
        from forms_engine.documents.receipt import receipt_pdf

        sub = make_submission()
        minimal = (
            f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><style>html '
            f'{{ font-family: "{DOCUMENT_FONT}"; }}</style></head><body><p>申請控え</p></body></html>'
        )
        # Warm up: the import, fonts and caches a long-lived worker already holds.
        for _ in range(3):
            pdf_from_html(minimal)
            receipt_pdf(sub, "ja")
        gc.collect()
        rss_start = rss_mb()

        baseline, baseline_cpu, _pdf = timed(lambda: pdf_from_html(minimal), runs)
        receipt, receipt_cpu, pdf = timed(lambda: receipt_pdf(sub, "ja"), runs)
        receipt_pages = pages(pdf)
        sub.answers = {**ANSWERS, "note": LONG}
        long, long_cpu, long_pdf = timed(lambda: receipt_pdf(sub, "ja"), long_runs)
        long_pages = pages(long_pdf)
        sub.answers = ANSWERS

        samples = []
        for i in range(memory_runs):
            receipt_pdf(sub, "ja")
            if (i + 1) % max(1, memory_runs // 4) == 0:
                samples.append((i + 1, rss_mb()))
        rss_end = rss_mb()

    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (wall-clock figures wait for CPU)")
    print(f"{'figure':<36}{'wall':>9}{'cpu':>9}{'baseline':>10}{'ratio':>7}")
    print(f"{'one-line document (baseline)':<36}{baseline:>8.3f}s{baseline_cpu:>8.3f}s")
    for label, wall, cpu in (
        (f"receipt, {receipt_pages} pages, median of {runs}", receipt, receipt_cpu),
        (f"5,000 characters, {long_pages} pages, of {long_runs}", long, long_cpu),
    ):
        print(f"{label:<36}{wall:>8.3f}s{cpu:>8.3f}s{baseline:>9.3f}s{wall / baseline:>7.1f}")
    print(f"{'worker RSS after warm-up':<36}{rss_start:>8.1f}MB")
    for n, mb in samples:
        print(f"{f'  after {n} more receipts':<36}{mb:>8.1f}MB")
    print(f"{f'RSS growth over {memory_runs} receipts':<36}{rss_end - rss_start:>+8.1f}MB")
    lines = [
        line("pdf_receipt", receipt, "s", baseline, 0.5),
        line("pdf_receipt_long", long, "s", baseline, 2.0),
        line("pdf_receipt_rss", rss_end, "MB", rss_start, 1.25, ratio_target=True),
    ]
    for x in lines:
        print(json.dumps(x))
    return 0 if all(x["ok"] for x in lines) else 3


if __name__ == "__main__":
    sys.exit(main())
