"""CSV runs: planned on the entry's cron (Tokyo), based on pending Delivery rows: no gap,
no duplicate, the same run twice gives the same file; a run that fails half-way leaves no
file and is written whole on its next attempt."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from forms_engine import models as m
from forms_engine import services
from forms_engine.outbox import outbox_dispatch
from integrations.api.models import FeedEntry
from integrations.csv_export import runs as runs_module
from integrations.csv_export.columns import TOKYO
from integrations.csv_export.encoding import GETA
from integrations.csv_export.models import CsvRun, CsvSchedule
from integrations.csv_export.runs import csv_run_write, csv_runs_tick
from integrations.deliveries import deliveries_create, delivery_retry
from integrations.models import Delivery
from integrations.tasks import scheduled_runs_tick
from tests.flow.conftest import file_completely

from .conftest import RECORDS, live_version, make_submission, records_answers

# records-disclosure: `schedule: "0 2 * * *"`, cp932, destination env:RECORDS_DROP.
DAY1 = datetime(2026, 12, 1, 1, 0, tzinfo=TOKYO)  # before 02:00 Tokyo
DAY1_RUN = datetime(2026, 12, 1, 2, 0, tzinfo=TOKYO)


@contextlib.contextmanager
def env_var(name: str, value: str | None):
    """os.environ[name] = value (None: unset) for the block; restored after it (the
    session's leak check runs before monkeypatch's own undo)."""
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@pytest.fixture
def drop(tmp_path, settings):
    folder = tmp_path / "drop"
    settings.CSV_LOCAL_ROOTS = [tmp_path]  # the operator lists the drop's root
    with env_var("RECORDS_DROP", str(folder)):
        yield folder


def file_rows(folder, name) -> list[list[str]]:
    return list(csv.reader(io.StringIO((folder / name).read_bytes().decode("cp932"), newline="")))


def submit(version, i, **kw) -> m.Submission:
    sub = make_submission(version, records_answers(i, **kw))
    deliveries_create(sub.pk)
    return sub


CLOCK: dict[str, datetime] = {}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """timezone.now() is what the test's tick says: the writer's delays follow it."""
    real_now = timezone.now
    CLOCK.clear()
    monkeypatch.setattr(timezone, "now", lambda: CLOCK.get("now") or real_now())
    yield CLOCK
    CLOCK.clear()


def tick(now) -> list[int]:
    CLOCK["now"] = now
    return csv_runs_tick(now)


def tick_and_write(now) -> list[str]:
    return [csv_run_write(run_id) for run_id in tick(now)]


@pytest.mark.django_db
def test_runs_write_each_pending_delivery_once_on_the_tokyo_schedule(loaded, drop):
    version = live_version(*RECORDS)
    first = [submit(version, i) for i in range(3)]
    first[1].answers["name"]["family"] = "𠮷田"
    first[1].save()
    assert tick(DAY1) == []  # the schedule is learnt: next 02:00 Tokyo
    assert CsvSchedule.objects.get().next_run_at == DAY1_RUN
    assert tick(DAY1 + timedelta(minutes=59)) == []
    assert tick_and_write(DAY1_RUN) == ["written"]

    run = CsvRun.objects.get()
    assert run.file_name == f"records-disclosure_records-csv_20261201T0200_{run.pk:08d}.csv"
    rows = file_rows(drop, run.file_name)
    assert rows[0][:3] == ["receipt_number", "submitted_at", "requester_type"]
    assert "name.family" in rows[0] and "address.prefecture" in rows[0]
    assert sorted(r[0] for r in rows[1:]) == sorted(s.number for s in first)
    family = rows[0].index("name.family")
    assert f"{GETA}田" in [r[family] for r in rows[1:]]
    manifest = json.loads((drop / (run.file_name + ".manifest.json")).read_text())
    data = (drop / run.file_name).read_bytes()
    assert manifest["rows"] == 3 and manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["encoding"] == "cp932" and manifest["replaced_characters"] == 1
    assert manifest["window"] == {"start": None, "end": DAY1_RUN.astimezone(UTC).isoformat()}
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert {d.csv_run_item.run_id for d in Delivery.objects.all()} == {run.pk}

    # The next day's run has only what came since: nothing twice.
    later = submit(version, 9)
    assert tick_and_write(DAY1_RUN + timedelta(hours=1)) == []
    assert tick_and_write(DAY1_RUN + timedelta(days=1, minutes=3)) == ["written"]
    second = CsvRun.objects.order_by("-id").first()
    assert [r[0] for r in file_rows(drop, second.file_name)[1:]] == [later.number]
    assert second.window_start == run.scheduled_for
    # And a day with nothing new still writes its (header-only) file.
    assert tick_and_write(DAY1_RUN + timedelta(days=2)) == ["written"]
    assert len(file_rows(drop, CsvRun.objects.order_by("-id").first().file_name)) == 1


@pytest.mark.django_db
def test_the_same_run_written_again_gives_the_same_bytes(loaded, drop):
    version = live_version(*RECORDS)
    for i in range(4):
        submit(version, i)
    tick(DAY1)
    tick_and_write(DAY1_RUN)
    run = CsvRun.objects.get()
    data = (drop / run.file_name).read_bytes()
    manifest = (drop / (run.file_name + ".manifest.json")).read_bytes()
    (drop / run.file_name).unlink()
    assert csv_run_write(run.pk) == "written"  # written already: nothing to do
    assert not (drop / run.file_name).exists()
    assert csv_run_write(run.pk, rewrite=True) == "written"
    assert (drop / run.file_name).read_bytes() == data
    assert (drop / (run.file_name + ".manifest.json")).read_bytes() == manifest


@pytest.mark.django_db
def test_a_run_failing_half_way_leaves_no_file_and_its_next_attempt_writes_it_whole(
    loaded, drop, monkeypatch
):
    version = live_version(*RECORDS)
    subs = [submit(version, i) for i in range(1200)]  # more than two blocks of rows
    real_rows = runs_module.run_rows

    def rows_then_crash(run):
        for n, row in enumerate(real_rows(run)):
            if n == 700:
                raise OSError("disk vanished")
            yield row

    monkeypatch.setattr(runs_module, "run_rows", rows_then_crash)
    tick(DAY1)
    assert tick_and_write(DAY1_RUN) == ["failed"]
    run = CsvRun.objects.get()
    assert run.state == "failed" and run.last_error == "OSError" and run.attempts == 1
    # Nothing under the final name, no temporary file either.
    assert list(drop.iterdir()) == []
    assert set(Delivery.objects.values_list("state", flat=True)) == {"retrying"}

    # Meanwhile more filings come; the writer is mended.
    monkeypatch.setattr(runs_module, "run_rows", real_rows)
    late = [submit(version, 2000 + i) for i in range(3)]
    assert tick(DAY1_RUN + timedelta(seconds=5)) == []  # its delay is not over
    due = tick(DAY1_RUN + timedelta(hours=2))
    assert due == [run.pk]
    assert [csv_run_write(r) for r in due] == ["written"]
    rows = file_rows(drop, run.file_name)
    assert sorted(r[0] for r in rows[1:]) == sorted(s.number for s in subs)  # whole, once
    # The new filings go to the next scheduled run, not into the failed one.
    tick_and_write(DAY1_RUN + timedelta(days=1))
    second = CsvRun.objects.order_by("-id").first()
    assert sorted(r[0] for r in file_rows(drop, second.file_name)[1:]) == sorted(
        s.number for s in late
    )
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}


@pytest.mark.django_db
def test_a_destination_not_configured_fails_visibly_and_staff_retry_sends_it(
    loaded, settings, tmp_path
):
    settings.CSV_LOCAL_ROOTS = [tmp_path]
    with env_var("RECORDS_DROP", None):
        _not_configured_then_fixed(settings, tmp_path)


def _not_configured_then_fixed(settings, tmp_path):
    settings.EMBEDDED = False
    settings.DELIVERY_MAX_ATTEMPTS = 1
    version = live_version(*RECORDS)
    sub = submit(version, 1)
    tick(DAY1)
    assert tick_and_write(DAY1_RUN) == ["failed"]
    delivery = Delivery.objects.get()
    assert delivery.state == "dead"
    assert delivery.last_error == "destination: environment variable RECORDS_DROP is not set"
    assert delivery_retry(delivery.pk)
    # A dead delivery sent again by staff makes its run due at the next tick.
    with env_var("RECORDS_DROP", str(tmp_path / "fixed")):
        assert tick_and_write(DAY1_RUN + timedelta(minutes=1)) == ["written"]
    run = CsvRun.objects.get()
    assert [r[0] for r in file_rows(tmp_path / "fixed", run.file_name)[1:]] == [sub.number]


@pytest.mark.django_db(transaction=True)
def test_a_delivery_whose_transaction_commits_after_planning_goes_to_the_next_run(loaded, drop):
    version = live_version(*RECORDS)
    early = submit(version, 1)
    tick(DAY1)
    inside, release = threading.Event(), threading.Event()
    late_holder: list[m.Submission] = []

    def slow_filing():
        try:
            with transaction.atomic():
                late_holder.append(submit(version, 2))
                inside.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_filing)
    thread.start()
    assert inside.wait(10)
    assert tick_and_write(DAY1_RUN) == ["written"]  # planned while the filing is open
    release.set()
    thread.join(10)
    first = CsvRun.objects.get()
    assert [r[0] for r in file_rows(drop, first.file_name)[1:]] == [early.number]
    tick_and_write(DAY1_RUN + timedelta(days=1))
    second = CsvRun.objects.order_by("-id").first()
    assert [r[0] for r in file_rows(drop, second.file_name)[1:]] == [late_holder[0].number]


@pytest.mark.django_db
def test_a_real_filing_reaches_the_csv_through_the_outbox_and_the_beat_task(
    client, loaded, drop, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    draft, _ = file_completely(client, reverse("procedure_start", args=list(RECORDS)))
    sub = draft.submissions.get()
    for attachment in sub.attachments.all():  # the scans its commit starts (no clamd)
        services.attachment_scan(str(attachment.pk))
    outbox_dispatch()  # as beat's outbox-dispatch does
    delivery = Delivery.objects.get(submission=sub)
    # The pull API's feed took it too.
    assert FeedEntry.objects.filter(submission=sub).exists()
    assert (delivery.type, delivery.state) == ("csv", "pending")
    # The beat task (in-process here) plans and writes through the registry's csv type.
    CLOCK["now"] = DAY1
    assert scheduled_runs_tick() == 0
    CLOCK["now"] = DAY1_RUN + timedelta(seconds=20)
    assert scheduled_runs_tick() == 1
    run = CsvRun.objects.get()
    assert run.state == "written"
    rows = file_rows(drop, run.file_name)
    assert [r[0] for r in rows[1:]] == [sub.number]
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.csv_run_item.run == run
