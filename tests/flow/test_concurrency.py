"""A double tap, capacity under parallel filings, and the outbox row in the same
transaction as the submission. Real concurrency needs real connections: these run on PostgreSQL (make test
sets DATABASE_URL to the local server)."""

from __future__ import annotations

import copy
import re
import shutil
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.models.signals import pre_save
from django.test import Client
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services

from .conftest import walk_to_confirm
from .test_filing_behaviour import iso

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks under concurrency need PostgreSQL"
)


def _tree_with_capacity(tmp_path, capacity: int):
    tree = tmp_path / "procedures"
    shutil.copytree(settings.PROCEDURES_DIR, tree)
    path = tree / "osaka-pref" / "dx-seminar.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"  opens: .*\n", f"  opens: {iso(-1)}\n", text)
    text = re.sub(r"  capacity: .*\n", f"  capacity: {capacity}\n", text)
    path.write_text(text, encoding="utf-8")
    return tree


class FilingRendezvous:
    """Holds each request that is about to write a receipt until every other request has
    either reached that point too or is waiting for a row lock in PostgreSQL.

    With the draft lock, the second tap waits for the lock while the first files, then
    finds the draft submitted; without it, both taps get here with the draft still open,
    and both would file. Waiting for one of those two states (not for a while) makes the
    race happen on every run."""

    def __init__(self):
        self.pids: set[int] = set()
        self.arrived: set[int] = set()
        self.guard = threading.Lock()
        # A connection of its own: pg_locks is read while the requests hold theirs.
        self.watcher = connection.get_new_connection(connection.get_connection_params())
        self.watcher.autocommit = True

    def join(self) -> None:
        """Called by each request's thread before it posts."""
        connection.ensure_connection()
        with self.guard:
            self.pids.add(connection.connection.info.backend_pid)

    def _waits_for_a_lock(self, pid: int) -> bool:
        with self.guard:
            row = self.watcher.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", [pid]
            ).fetchone()
        return bool(row and row[0])

    def hold(self, sender, instance, **kwargs) -> None:
        me = connection.connection.info.backend_pid
        with self.guard:
            self.arrived.add(me)
        deadline = time.monotonic() + 30  # only a guard against a hang, never reached
        while True:
            with self.guard:
                others = self.pids - self.arrived - {me}
            if all(self._waits_for_a_lock(pid) for pid in others):
                return
            assert time.monotonic() < deadline, "the other tap neither arrived nor waited"
            time.sleep(0.005)

    def close(self) -> None:
        self.watcher.close()


@pytest.mark.django_db(transaction=True)
def test_a_double_tap_on_submit_files_once_when_both_taps_arrive_together(settings):
    settings.RATE_LIMIT_ENABLED = False
    services.procedures_load(settings.PROCEDURES_DIR)
    tap = Client()
    confirm = walk_to_confirm(
        tap, reverse("procedure_start", args=["sample-city", "dog-registration"])
    )
    # The same browser: the second request carries the same session cookie.
    double = Client()
    double.cookies = copy.deepcopy(tap.cookies)

    rendezvous = FilingRendezvous()
    both_connected = threading.Barrier(2)
    responses = []

    def submit(client: Client) -> None:
        try:
            rendezvous.join()
            both_connected.wait(timeout=30)
            response = client.post(confirm)
            with rendezvous.guard:
                responses.append(response)
        finally:
            connections.close_all()

    pre_save.connect(rendezvous.hold, sender=m.Receipt, weak=False)
    try:
        threads = [threading.Thread(target=submit, args=[c]) for c in (tap, double)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        pre_save.disconnect(rendezvous.hold, sender=m.Receipt)
        rendezvous.close()

    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {confirm.replace("/confirm/", "/done/")}
    assert m.Receipt.objects.count() == 1
    assert m.Submission.objects.count() == 1
    assert m.OutboxEvent.objects.filter(topic="submission.completed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_capacity_holds_when_filings_complete_at_the_same_moment(tmp_path, settings):
    settings.RATE_LIMIT_ENABLED = False
    report = services.procedures_load(_tree_with_capacity(tmp_path, capacity=3))
    assert report.errors == []

    filers = 8
    clients = [Client() for _ in range(filers)]
    confirms = [
        walk_to_confirm(c, reverse("procedure_start", args=["osaka-pref", "dx-seminar"]))
        for c in clients
    ]
    barrier = threading.Barrier(filers)
    statuses: list[int] = []
    lock = threading.Lock()

    def submit(client: Client, url: str) -> None:
        try:
            barrier.wait(timeout=30)
            response = client.post(url)
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(clients, confirms, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(statuses) == [302, 302, 302, 409, 409, 409, 409, 409]
    assert m.Submission.objects.count() == 3
    assert m.Procedure.objects.get(slug="dx-seminar").filed_count == 3
    assert m.OutboxEvent.objects.filter(topic="submission.completed").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_failing_outbox_write_leaves_no_submission_behind(tmp_path, settings, monkeypatch):
    settings.RATE_LIMIT_ENABLED = False
    services.procedures_load(settings.PROCEDURES_DIR)
    client = Client()
    confirm = walk_to_confirm(
        client, reverse("procedure_start", args=["sample-city", "dog-registration"])
    )

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    # Every way an event is written: one at a time, or several in one statement.
    monkeypatch.setattr(m.OutboxEvent, "save", broken)
    monkeypatch.setattr(m.OutboxEvent.objects, "bulk_create", broken)
    client.raise_request_exception = False
    response = client.post(confirm)
    assert response.status_code == 500
    assert m.Submission.objects.count() == 0
    assert m.Receipt.objects.count() == 0
    draft = m.Draft.objects.get(pk=confirm.split("/")[2])
    assert draft.status == m.Draft.Status.OPEN  # the resident can try again
