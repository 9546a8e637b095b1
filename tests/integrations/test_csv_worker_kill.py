"""A CSV run in a real Celery worker (Redis broker) killed with SIGKILL half-way through
its file: nothing appears under the file's name, and the run, queued again by the next
tick, writes the whole file once, without duplicates."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from integrations.csv_export.columns import TOKYO
from integrations.csv_export.models import CsvRun
from integrations.csv_export.runs import csv_runs_tick
from integrations.models import Delivery
from tests.scanning.test_scan_worker import database_url

from .conftest import RECORDS, bulk_submissions, live_version, records_answers

REPO = Path(__file__).resolve().parents[2]
# i8b's Redis databases are 4 and 5 (tests/integrations use 5 for this worker).
REDIS_URL = os.environ.get("CSV_TEST_BROKER_URL", "redis://127.0.0.1:6379/5")
ROWS = 40_000

pytestmark = pytest.mark.django_db(transaction=True)


class Worker:
    def __init__(self, queue: str, drop: Path, log: Path):
        if connection.vendor != "postgresql":
            pytest.skip("the worker shares the test database: PostgreSQL only")
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "RECORDS_DROP": str(drop),
            "CSV_LOCAL_ROOTS": str(drop),
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-Q", queue, "--loglevel=INFO",
            ],
            cwd=REPO, env=env, stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()


def wait_for(predicate, what: str, log: Path, seconds: float = 120.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what}; worker log:\n{log.read_text(errors='replace')[-3000:]}")


def test_a_run_killed_half_way_leaves_no_file_and_is_written_whole_after(
    loaded, tmp_path, settings
):
    drop = tmp_path / "drop"
    log = tmp_path / "worker.log"
    version = live_version(*RECORDS)
    numbers = bulk_submissions(version, ROWS, records_answers(1), integration_id="records-csv")
    now = datetime.now(TOKYO)
    csv_runs_tick(now - timedelta(days=1))  # learn the schedule
    (run_id,) = csv_runs_tick(now + timedelta(days=1))  # it has fired: one run, planned
    run = CsvRun.objects.get(pk=run_id)
    assert Delivery.objects.filter(csv_run_item__run=run).count() == ROWS

    queue = f"exports-test-{uuid.uuid4().hex[:8]}"
    app = Celery(broker=REDIS_URL)
    worker = Worker(queue, drop, log)
    try:
        app.send_task("integrations.tasks.scheduled_run_write", args=["csv", run_id], queue=queue)

        def half_written():
            parts = list(drop.glob(".tmp-*.part")) if drop.exists() else []
            return parts and parts[0].stat().st_size > 200_000 and parts[0]

        part = wait_for(half_written, "the worker never began the file", log)
        os.kill(worker.process.pid, 9)  # SIGKILL: no cleanup of any kind
        worker.process.wait(timeout=10)
        assert worker.process.returncode == -9
        assert not (drop / run.file_name).exists(), "the run finished before it was killed"
        assert not (drop / (run.file_name + ".manifest.json")).exists()
        assert part.exists()  # the partial file exists only under its temporary name

        # Its transaction died with it: the run is still planned, its deliveries taken.
        run.refresh_from_db()
        assert run.state == "planned" and run.attempts == 0
        assert set(
            Delivery.objects.filter(csv_run_item__run=run).values_list("state", flat=True)
        ) == {"delivering"}

        # The next tick, once the requeue delay is over, queues it again.
        settings.CSV_RUN_REQUEUE_SECONDS = 0
        worker = Worker(queue, drop, log)
        due = csv_runs_tick(now + timedelta(days=1, seconds=1))
        assert due == [run_id]
        app.send_task("integrations.tasks.scheduled_run_write", args=["csv", run_id], queue=queue)

        def written():
            return CsvRun.objects.filter(pk=run_id, state="written").exists()

        wait_for(written, "the run was not written again", log)
    finally:
        worker.stop()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)

    data = (drop / run.file_name).read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("cp932"), newline="")))
    assert len(rows) == ROWS + 1
    assert sorted(r[0] for r in rows[1:]) == sorted(numbers)  # every one, once
    manifest = json.loads((drop / (run.file_name + ".manifest.json")).read_text())
    assert manifest["rows"] == ROWS and manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert Delivery.objects.filter(state="delivered").count() == ROWS
