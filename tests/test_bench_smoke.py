"""`make bench` end to end on tiny data (2 connections, 2 s per run): both benchmarks
run against gunicorn and PostgreSQL, the database agrees with what wrk counted, and each
prints its JSON line. The figures themselves mean nothing at this size."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"bench", "value", "unit", "baseline", "ratio", "target", "ok"}


def _bench_lines(script: str, *args: str, timeout: int = 300, exit_codes=(0,)):
    """Run benchmarks/<script> with `args` (default: --smoke); its JSON lines, each with
    every key, and its output. `exit_codes`: 0 by default (--smoke never fails on a
    target: 1 means a run was not valid or the harness failed); (0, 3) for a quick run
    that may miss a target on a loaded machine."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *(args or ("--smoke",))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = f"{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}"
    assert proc.returncode in exit_codes, output
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith('{"bench"')]
    for line in lines:
        assert set(line) == KEYS, line
        assert isinstance(line["ok"], bool), line
    return lines, proc.stdout


def test_both_benchmarks_run_and_report():
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (scripts/apt-ensure.sh wrk)")
    lines, output = _bench_lines("run.py", timeout=180)
    assert [x["bench"] for x in lines] == ["filing_throughput", "page_render"], output
    for line in lines:
        for key in ("value", "baseline", "ratio", "target"):
            assert isinstance(line[key], int | float) and not isinstance(line[key], bool), line
        assert line["value"] > 0 and line["baseline"] > 0, line
    assert "INVALID" not in output, output


def test_the_normalisation_benchmark_runs_and_reports_every_kind():
    # Exit 3 means a ratio was over its target: a figure, not a failure of the harness.
    lines, _output = _bench_lines("normalize.py", "--quick", timeout=180, exit_codes=(0, 3))
    assert {x["bench"].split(":")[0] for x in lines} == {"normalize_linear"}
    assert len(lines) == 5
    for line in lines:
        assert line["value"] > 0 and line["baseline"] > 0, line


def _run(ok: int, sent: int):
    from benchmarks.run import Run

    return Run("insert", ok=ok, bad=0, sent=sent, statuses={"200": ok}, duration_s=2.0,
               socket_errors={}, latency_ms={})  # fmt: skip


def test_work_wrk_sent_but_did_not_count_is_no_discrepancy():
    from benchmarks.run import count_problem

    # The run the reviewer saw: 447 inserts counted, 451 in the database, with 2
    # connections (requests left in flight by the warm-up and at the end of the run).
    assert count_problem("insert", _run(ok=447, sent=451), 451) is None
    assert count_problem("insert", _run(ok=447, sent=451), 447) is None


def test_lost_work_is_still_a_discrepancy():
    from benchmarks.run import count_problem

    problem = count_problem("insert", _run(ok=447, sent=449), 446)
    assert problem == "insert: wrk counted 447 (of 449 sent), the database 446; lost"


def test_work_done_twice_is_still_a_discrepancy():
    from benchmarks.run import count_problem

    problem = count_problem("insert", _run(ok=447, sent=449), 894)
    assert problem == "insert: wrk counted 447 (of 449 sent), the database 894; done twice"
    assert count_problem("insert", _run(ok=447, sent=449), 450) is not None


def test_the_upload_benchmark_runs_both_paths_and_reports_memory_and_throughput():
    # Exit 1 would mean an upload was refused or not stored whole.
    lines, output = _bench_lines("uploads.py")
    assert [x["bench"] for x in lines] == [
        "upload_direct_memory",
        "upload_streamed_throughput",
        "upload_streamed_memory",
    ], output
    for line in lines:
        assert line["value"] >= 0 and line["baseline"] > 0, line
    assert lines[1]["ratio"] > 0 and lines[1]["unit"] == "MB/s"
    assert "INVALID" not in output, output


def test_the_inbox_benchmark_runs_on_a_small_table_and_reports_both_figures():
    # Exit 1 would mean a plan used no index, or the query count changed with the page.
    lines, output = _bench_lines("inbox.py", "--smoke", "--fresh")
    assert [x["bench"] for x in lines[:1] + lines[-1:]] == ["inbox_p95", "receipt_lookup"]
    for line in lines:
        assert line["value"] > 0 and line["baseline"] > 0 and line["unit"] == "ms", line
    assert "Index" in output
    assert re.search(r"queries per list page: page 1: (\d+), page 20: \1\b", output), output


def test_the_delivery_rate_benchmark_runs_and_counts_nothing_lost_or_doubled():
    """Two real worker processes deliver 60 webhooks to the benchmark's receiver; the run
    is valid only when every one arrived once with a good signature."""
    (line,), output = _bench_lines("delivery_rate.py")
    assert line["bench"] == "delivery_rate", line
    assert line["value"] > 0 and line["baseline"] > 0, line
    assert "INVALID" not in output
    assert "delivery_rate  " in output and "{'delivered': 60}" in output, output


def test_the_csv_export_benchmark_writes_a_cp932_run_and_reports_speed_and_memory():
    # Exit 1 would mean a file with the wrong number of rows.
    lines, output = _bench_lines("csv_export.py")
    assert [x["bench"] for x in lines] == [
        "csv_export",
        "csv_run_first",
        "csv_export_memory",
    ], output
    for line in lines:
        assert line["value"] >= 0 and line["baseline"] > 0, line
    assert lines[0]["unit"] == "rows/CPU-s" and lines[0]["ratio"] > 0
    assert "characters replaced (cp932)" in output, output


def test_the_start_page_benchmark_runs_and_reports():
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (scripts/apt-ensure.sh wrk)")
    lines, output = _bench_lines("start_page.py")
    assert [x["bench"] for x in lines] == ["start_page"], output
    assert lines[0]["value"] > 0 and lines[0]["baseline"] > 0 and lines[0]["target"] == 0.5
    assert "INVALID" not in output, output


def test_the_procedure_load_benchmark_loads_every_generated_file():
    lines, output = _bench_lines("procedure_load.py")
    assert [x["bench"] for x in lines] == ["procedure_load"], output
    assert "20 procedure files" in output
    assert lines[0]["unit"] == "s" and lines[0]["value"] > 0 and lines[0]["target"] == 10


def test_the_burst_benchmark_files_through_the_waiting_room_without_errors():
    lines, output = _bench_lines("burst.py", timeout=400)
    assert [x["bench"] for x in lines] == ["burst_2x", "burst_10x"], output
    for line in lines:
        assert line["baseline"] > 0 and line["value"] > 0, line
    # Even the smoke: no 5xx, nobody lost, nothing filed twice (the 1 s answer time is a
    # figure of the full run on a quiet machine, not checked here).
    for burst in output.split("burst ")[1:]:
        assert ", lost 0, doubled 0 (" in burst and "5xx 0," in burst, output
    # At 10x some residents must have queued: the waiting room was really on.
    tenfold = output.split("burst 10x:")[1]
    assert "saw the waiting page 0," not in tenfold, output


def test_the_pdf_receipt_benchmark_runs_and_reports_time_and_memory():
    # Exit 3: a figure over its target (a loaded machine), not a failure of the harness.
    lines, output = _bench_lines("pdf_receipt.py", "--quick", timeout=600, exit_codes=(0, 3))
    assert [x["bench"] for x in lines] == ["pdf_receipt", "pdf_receipt_long", "pdf_receipt_rss"]
    for line in lines:
        assert line["value"] > 0 and line["baseline"] > 0, line
    # The receipt it times is the two-page one, and the long answer really is longer.
    assert "receipt, 2 pages" in output, output
    assert lines[1]["value"] > lines[0]["value"] * 0.5


def test_the_page_weight_benchmark_measures_every_page_in_chromium():
    """Chromium loads the dog registration's pages from gunicorn; every figure is a byte
    count of what went over the network, compressed, below what it would be uncompressed."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is not installed (scripts/apt-ensure.sh chromium)")
    lines, output = _bench_lines("page_weight.py")
    assert [x["bench"] for x in lines] == [
        "page_weight_first",
        "page_weight_first_js",
        "page_weight_later",
        "page_weight_file_field",
    ], output
    for line in lines:
        assert line["unit"] == "bytes" and isinstance(line["value"], int), line
        assert 0 < line["value"] < line["baseline"], line  # compressed, not raw
        assert line["ratio"] == round(line["value"] / line["baseline"], 3), line
    first, first_js, later, upload = lines
    assert [x["target"] for x in lines] == [40000, 15000, 10000, 120000]
    assert 0 < first_js["value"] < first["value"]
    # The uploader makes the file-field page heavier than the first page.
    assert upload["value"] > first["value"]
    assert "INVALID" not in output, output
    # The static files went out brotli-compressed and the page gzipped.
    assert re.search(r"/static/js/uploader\.[0-9a-f]{12}\.js +Script +br ", output), output
    assert re.search(r"/f/[0-9a-f-]{36}/0/owner/ +Document +gzip ", output), output
