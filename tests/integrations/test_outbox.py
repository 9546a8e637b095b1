"""The outbox: one row per consumer per event, written with the event; each consumer's
progress is its own (a failing consumer never holds up another); no event is skipped
when transactions commit out of id order; a handler's database effect happens once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine.outbox import (
    OutboxRetry,
    outbox_consumer,
    outbox_consumer_unregister,
    outbox_dispatch,
    outbox_emit,
    outbox_retry_failed,
    register_topic_label,
    topic_label,
)

SEEN: dict[str, list[int]] = {}


@pytest.fixture
def consumers(monkeypatch):
    # The tests run the dispatcher themselves (as beat would), not on commit.
    monkeypatch.setattr("forms_engine.outbox.outbox_dispatch_kick", lambda names=None: None)
    SEEN.clear()
    names = []

    def add(name, topics, handler=None, **kwargs):
        def record(event):
            SEEN.setdefault(name, []).append(event.pk)

        outbox_consumer(name, topics=topics, **kwargs)(handler or record)
        names.append(name)

    yield add
    for name in names:
        outbox_consumer_unregister(name)


def test_an_emit_writes_one_row_per_consumer_of_the_topic(db, consumers):
    consumers("test.a", {"t.one"})
    consumers("test.b", {"t.one", "t.two"})
    consumers("test.c", {"t.two"})
    event = outbox_emit("t.one", answer_free="yes")
    rows = m.OutboxConsumption.objects.filter(event=event)
    assert sorted(rows.values_list("consumer", flat=True)) == ["test.a", "test.b"]
    assert event.payload == {"answer_free": "yes"}


def test_each_consumer_runs_its_own_rows_once(db, consumers):
    consumers("test.a", {"t.one"})
    consumers("test.b", {"t.one"})
    events = [outbox_emit("t.one").pk for _ in range(3)]
    assert outbox_dispatch("test.a") == 3
    assert SEEN == {"test.a": events}
    assert outbox_dispatch("test.a") == 0  # done: never run twice
    assert outbox_dispatch() == 3  # test.b had its own progress
    assert SEEN["test.b"] == events


def test_a_failing_consumer_never_holds_up_another_and_is_retried_with_backoff(db, consumers):
    def broken(event):
        raise ConnectionError("peer down")

    consumers("test.broken", {"t.one"}, broken)
    consumers("test.fine", {"t.one"})
    first, second = outbox_emit("t.one"), outbox_emit("t.one")
    assert outbox_dispatch() == 2
    assert SEEN["test.fine"] == [first.pk, second.pk]
    row = m.OutboxConsumption.objects.get(consumer="test.broken", event=first)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "ConnectionError")
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert outbox_dispatch("test.broken") == 0  # not due yet: nothing tried


def test_a_handler_that_fails_leaves_none_of_its_writes(db, consumers, loaded):
    def half_done(event):
        m.Organization.objects.create(slug="half-written", name={"ja": "x"})
        raise ValueError("after the write")

    consumers("test.half", {"t.one"}, half_done)
    outbox_emit("t.one")
    assert outbox_dispatch("test.half") == 0
    assert not m.Organization.objects.filter(slug="half-written").exists()


def test_a_consumer_past_its_attempts_is_marked_failed_and_can_be_sent_round_again(
    db, consumers, caplog
):
    def broken(event):
        raise ConnectionError("peer down")

    consumers("test.broken", {"t.one"}, broken, max_attempts=2)
    event = outbox_emit("t.one")
    outbox_dispatch()
    m.OutboxConsumption.objects.update(next_attempt_at=timezone.now())
    outbox_dispatch()
    row = m.OutboxConsumption.objects.get(event=event)
    assert (row.state, row.attempts) == ("failed", 2)
    assert any("test.broken" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    assert outbox_retry_failed("test.broken") == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("pending", 0)


def test_a_handler_may_ask_for_its_own_retry_time(db, consumers):
    def later(event):
        raise OutboxRetry(timedelta(hours=2), "not yet")

    consumers("test.later", {"t.one"}, later)
    event = outbox_emit("t.one")
    outbox_dispatch()
    row = m.OutboxConsumption.objects.get(event=event)
    assert row.last_error == "not yet"
    assert row.next_attempt_at > timezone.now() + timedelta(minutes=119)


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_a_later_one_is_not_skipped(consumers):
    """The classic outbox gap: A takes id n, B takes id n+1 and commits first, the
    consumer runs, then A commits. A cursor at n+1 would never see n."""
    consumers("test.gap", {"t.gap"})
    a_written, release_a = threading.Event(), threading.Event()
    ids = {}

    def transaction_a():
        try:
            with transaction.atomic():
                ids["a"] = outbox_emit("t.gap").pk
                a_written.set()
                release_a.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=transaction_a)
    thread.start()
    assert a_written.wait(10)
    with transaction.atomic():
        ids["b"] = outbox_emit("t.gap").pk
    assert ids["b"] > ids["a"]
    assert outbox_dispatch("test.gap") == 1  # B only: A is not committed
    release_a.set()
    thread.join(10)
    assert outbox_dispatch("test.gap") == 1  # A, with the lower id, is still consumed
    assert SEEN["test.gap"] == [ids["b"], ids["a"]]


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_the_same_row(consumers):
    started, release = threading.Event(), threading.Event()

    def slow(event):
        SEEN.setdefault("slow", []).append(event.pk)
        started.set()
        release.wait(10)

    consumers("test.slow", {"t.one"}, slow)
    outbox_emit("t.one")
    results = []

    def worker():
        try:
            results.append(outbox_dispatch("test.slow"))
        finally:
            connection.close()

    first = threading.Thread(target=worker)
    first.start()
    assert started.wait(10)
    worker()  # a second worker while the first holds the row: skips it
    release.set()
    first.join(10)
    assert sorted(results) == [0, 1]
    assert len(SEEN["slow"]) == 1


def test_topic_labels_are_registered_and_fall_back_to_the_topic(db):
    from django.utils.translation import override

    register_topic_label("t.labelled", "Labelled")
    assert topic_label("t.labelled") == "Labelled"
    assert topic_label("t.unknown") == "t.unknown"
    with override("ja"):
        assert topic_label("submission.completed") != "submission.completed"
