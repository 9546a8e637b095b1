"""Direct uploads completed twice at the same moment, or cancelled while they complete,
against SeaweedFS and PostgreSQL with real threads: each request on its own connection."""

from __future__ import annotations

import copy
import threading

import pytest
from django.db import connections
from django.test import Client

from forms_engine import models as m
from forms_engine.storage.s3 import S3Store
from tests.factories import pdf_bytes
from tests.flow.test_concurrency import FilingRendezvous

from .conftest import PAGE_KEY, start_filing
from .helpers import put_part

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]


def _uploaded(filing, input: str) -> tuple[str, list[dict]]:
    """Begun and every part sent: only the completion is left."""
    data = pdf_bytes()
    begun = filing.begin("ledger.pdf", len(data), input=input, type="application/pdf")
    assert begun.status_code == 201, begun.content
    attachment_id = begun.json()["id"]
    url = filing.sign(attachment_id, [1])[1]
    return attachment_id, [{"PartNumber": 1, "ETag": put_part(url, data)}]


def _in_threads(*work) -> list:
    """Run each callable in a thread of its own; their answers, or the exception raised."""
    answers: list = [None] * len(work)

    def run(i, fn):
        try:
            answers[i] = fn()
        except Exception as exc:  # a 500 in the test client
            answers[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=[i, fn]) for i, fn in enumerate(work)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


def _file_ids(value) -> list[str]:
    if isinstance(value, dict):
        return [
            *([value["id"]] if "id" in value and "size" in value else []),
            *(i for v in value.values() for i in _file_ids(v)),
        ]
    if isinstance(value, list):
        return [i for v in value for i in _file_ids(v)]
    return []


# One file per input (a group entry's file) and two (the ledger): either way, once.
@pytest.mark.parametrize("input", ["f-members-0-member_doc", "f-ledger"])
def test_two_completions_at_the_same_moment_join_the_file_once(
    s3_settings, upload_town, input, monkeypatch
):
    filing = start_filing(Client())
    attachment_id, parts = _uploaded(filing, input)
    again = Client()
    again.cookies = copy.deepcopy(filing.client.cookies)
    twin = copy.copy(filing)
    twin.client = again

    # Each completion waits before assembling until the other has got there too, or waits
    # for a lock: without one, both go on with the upload still `uploading`.
    rendezvous = FilingRendezvous()
    assemble = S3Store.multipart_complete

    def held(self, *args, **kwargs):
        rendezvous.hold(None, None)
        return assemble(self, *args, **kwargs)

    monkeypatch.setattr(S3Store, "multipart_complete", held)
    both = threading.Barrier(2)

    def complete(f):
        def go():
            rendezvous.join()
            both.wait(timeout=30)
            return f.complete(attachment_id, parts)

        return go

    try:
        answers = _in_threads(complete(filing), complete(twin))
    finally:
        rendezvous.close()

    _joined_once(filing, attachment_id, answers)


def _joined_once(filing, attachment_id, answers) -> None:
    """Both completions answered with the same file, which joined the page once. The
    first to hold the lock answers `quarantined`; the other answers the file as it is when
    it gets the lock, which is `not_scanned` when the first one's scan (run eagerly on its
    commit in tests, no clamd) got there before it: either answer is the truth."""
    assert [getattr(a, "status_code", a) for a in answers] == [200, 200]
    first, second = (a.json() for a in answers)
    same = ("id", "name", "size")
    assert {k: first[k] for k in same} == {k: second[k] for k in same}
    assert first["id"] == attachment_id
    statuses = sorted(a["status"] for a in (first, second))
    assert statuses in (["quarantined", "quarantined"], ["not_scanned", "quarantined"])
    # Stored (and scanned by now, eagerly in tests), never refused.
    assert m.Attachment.objects.get(pk=attachment_id).status in (
        m.Attachment.Status.QUARANTINED,
        m.Attachment.Status.NOT_SCANNED,
    )
    assert _file_ids(filing.refresh().pending[PAGE_KEY]) == [attachment_id]


def test_a_completion_that_gets_the_lock_after_the_first_ones_scan_joins_nothing_again(
    s3_settings, upload_town, monkeypatch
):
    """The order that made the test above fail now and then under load, made certain: the
    second completion waits for the draft's lock, and reads the upload only once the first
    one's scan (on its commit) has run. It finds the file joined and scanned: it answers
    that, and joins nothing again."""
    from forms_engine import services
    from forms_engine.services import direct_uploads

    filing = start_filing(Client())
    attachment_id, parts = _uploaded(filing, "f-ledger")
    again = Client()
    again.cookies = copy.deepcopy(filing.client.cookies)
    twin = copy.copy(filing)
    twin.client = again

    rendezvous = FilingRendezvous()
    assemble = S3Store.multipart_complete
    scanned = threading.Event()
    scan = services.attachment_scan  # what the scan task calls
    find = direct_uploads._of_draft
    calls: list[int] = []
    guard = threading.Lock()

    def held(self, *args, **kwargs):
        rendezvous.hold(None, None)
        return assemble(self, *args, **kwargs)

    def scan_then_tell(*args, **kwargs):
        try:
            return scan(*args, **kwargs)
        finally:
            scanned.set()

    def find_late(draft, attachment_id, *, lock=False):
        with guard:
            calls.append(1)
            second = len(calls) == 2
        if second:  # holds the draft's lock now, the first one has committed
            assert scanned.wait(timeout=30), "the first completion's scan never ran"
        return find(draft, attachment_id, lock=lock)

    monkeypatch.setattr(S3Store, "multipart_complete", held)
    monkeypatch.setattr(services, "attachment_scan", scan_then_tell)
    monkeypatch.setattr(direct_uploads, "_of_draft", find_late)
    both = threading.Barrier(2)

    def complete(f):
        def go():
            rendezvous.join()
            both.wait(timeout=30)
            return f.complete(attachment_id, parts)

        return go

    try:
        answers = _in_threads(complete(filing), complete(twin))
    finally:
        rendezvous.close()

    assert scanned.is_set() and len(calls) == 2
    assert sorted(a.json()["status"] for a in answers) == ["not_scanned", "quarantined"]
    _joined_once(filing, attachment_id, answers)


def test_a_cancel_while_the_file_is_completed_is_answered_cleanly(
    s3_settings, upload_town, monkeypatch
):
    filing = start_filing(Client())
    attachment_id, parts = _uploaded(filing, "f-ledger")
    other = Client()
    other.cookies = copy.deepcopy(filing.client.cookies)
    canceller = copy.copy(filing)
    canceller.client = other

    # The completion stops once the object is assembled, until the cancel has finished or
    # waits for a lock; the cancel is sent only once the completion has got that far.
    rendezvous = FilingRendezvous()
    assembled = threading.Event()
    measure = S3Store.size

    def held(self, key):
        assembled.set()
        rendezvous.hold(None, None)
        return measure(self, key)

    monkeypatch.setattr(S3Store, "size", held)

    def complete():
        rendezvous.join()
        return filing.complete(attachment_id, parts)

    def cancel():
        rendezvous.join()
        assert assembled.wait(timeout=30)
        try:
            return canceller.cancel(attachment_id)
        finally:
            from django.db import connection

            with rendezvous.guard:
                rendezvous.arrived.add(connection.connection.info.backend_pid)

    try:
        completed, cancelled = _in_threads(complete, cancel)
    finally:
        rendezvous.close()

    assert getattr(cancelled, "status_code", cancelled) == 204
    # The completion ran first (the cancel waited for it) and the cancel then removed it.
    assert getattr(completed, "status_code", completed) in (200, 404)
    assert not m.Attachment.objects.filter(pk=attachment_id).exists()
    assert _file_ids(filing.refresh().pending) == []
