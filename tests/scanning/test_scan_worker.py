"""The scan task in a real Celery worker (Redis broker): with clamd down the file is never
marked clean and the task is retried with backoff; once clamd is back a retry scans it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from forms_engine import models as m

from .clamd import ClamdServer
from .conftest import pdf_with, quarantine

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("SCAN_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")
WAIT_SECONDS = 60.0

pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    """The test database as a URL, for the worker process."""
    db = connection.settings_dict
    assert db["ENGINE"].endswith("postgresql"), "the worker test needs PostgreSQL"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def worker(settings, tmp_path, media):
    """A Celery worker on a queue of this test's own (so no other run's worker takes its
    tasks), with the test's database and media folder, and clamd at an address where
    nothing listens yet. Retries come after 1, 2, 2, ... seconds."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database: PostgreSQL only")
    clamd = ClamdServer(tmp_path / "clamd")
    queue = f"scans-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "MEDIA_ROOT": str(media),
        "CLAMD_ADDRESS": clamd.address,
        "CLAMD_RETRY_FIRST_SECONDS": "1",
        "CLAMD_RETRY_MAX_SECONDS": "2",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-Q", queue, "--loglevel=INFO",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    app = Celery(broker=REDIS_URL)

    def send(attachment_id: str) -> None:
        app.send_task("forms_engine.tasks.attachment_scan", args=[attachment_id], queue=queue)

    try:
        yield clamd, send, tmp_path / "worker.log"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        clamd.stop()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def attempts(scan_detail: str) -> int:
    """The attempt count the scan records while clamd is unreachable: "attempt N: ..."."""
    match = re.match(r"attempt (\d+):", scan_detail)
    return int(match[1]) if match else 0


def wait_for(predicate, what: str, log_path: Path):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}; worker log:\n{log_path.read_text(errors='replace')[-3000:]}")


def test_with_clamd_down_the_task_retries_and_scans_once_clamd_is_back(draft, worker):
    clamd, send, log_path = worker
    attachment = quarantine(draft, pdf_with(b"certificate"))

    send(str(attachment.pk))

    def row():
        return m.Attachment.objects.get(pk=attachment.pk)

    # Retried: the detail counts the attempts, and the file is never called clean.
    # (At least three: on a busy machine a poll may miss the moment the third was recorded.)
    wait_for(lambda: attempts(row().scan_detail) >= 3, "no third attempt", log_path)
    assert row().status == m.Attachment.Status.QUARANTINED
    assert "unreachable" in row().scan_detail

    clamd.start()

    wait_for(lambda: row().status == m.Attachment.Status.CLEAN, "never scanned", log_path)
    assert row().storage_key.startswith("files/")
