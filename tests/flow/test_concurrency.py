"""Capacity under parallel filings, and the outbox row in the same transaction as the
submission. Real concurrency needs real connections: these run on PostgreSQL (make test
sets DATABASE_URL to the local server)."""

from __future__ import annotations

import re
import shutil
import threading

import pytest
from django.conf import settings
from django.db import connection, connections
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
    assert m.OutboxEvent.objects.count() == 3


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

    monkeypatch.setattr(m.OutboxEvent.objects, "create", broken)
    client.raise_request_exception = False
    response = client.post(confirm)
    assert response.status_code == 500
    assert m.Submission.objects.count() == 0
    assert m.Receipt.objects.count() == 0
    draft = m.Draft.objects.get(pk=confirm.split("/")[2])
    assert draft.status == m.Draft.Status.OPEN  # the resident can try again
