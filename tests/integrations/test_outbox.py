"""The outbox: one row per consumer per event, written with the event; each consumer's
progress is its own (a failing consumer never holds up another); no event is skipped
when transactions commit out of id order; a handler's database effect happens once."""

from __future__ import annotations

import os
import threading
import uuid
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
    outbox_dispatch_kick,
    outbox_emit,
    outbox_emit_many,
    outbox_kick_started,
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


def test_events_emitted_together_get_their_rows_in_two_statements_and_one_kick(
    db, consumers, monkeypatch, django_assert_num_queries, django_capture_on_commit_callbacks
):
    consumers("test.a", {"t.one"})
    consumers("test.b", {"t.one", "t.two"})
    consumers("test.c", {"t.three"})
    kicks: list[list[str]] = []
    monkeypatch.setattr("forms_engine.outbox.outbox_dispatch_kick", kicks.append)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with django_assert_num_queries(2):  # the events, then every consumer row
            events = outbox_emit_many(
                [("t.one", None, {"n": 1}), ("t.two", None, {"n": 2}), ("t.none", None, {})]
            )
        assert kicks == []  # not before the commit
    assert [e.topic for e in events] == ["t.one", "t.two", "t.none"]
    assert [e.pk for e in events] == sorted(e.pk for e in events)  # in the order given
    stored = m.OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk")
    assert [(e.topic, e.payload) for e in stored] == [
        ("t.one", {"n": 1}),
        ("t.two", {"n": 2}),
        ("t.none", {}),
    ]
    rows = m.OutboxConsumption.objects.filter(event__in=events)
    assert sorted(rows.values_list("event__topic", "consumer")) == [
        ("t.one", "test.a"),
        ("t.one", "test.b"),
        ("t.two", "test.b"),
    ]
    assert kicks == [["test.a", "test.b"]]  # once, each consumer concerned once
    assert outbox_dispatch("test.b") == 2
    assert SEEN == {"test.b": [events[0].pk, events[1].pk]}


def test_emitting_nothing_writes_nothing(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert outbox_emit_many([]) == []


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


REDIS_URL = os.environ.get("OUTBOX_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def published(settings, monkeypatch):
    """A Redis broker as deployed (flags under a key prefix of this test's own); the
    tasks that a kick publishes are recorded instead of sent."""
    import redis

    from forms_engine import tasks

    # Fails, never skips, without Redis: with flags that cannot be read every kick goes
    # out, and the tests below would pass whatever the flags do.
    redis.Redis.from_url(REDIS_URL).ping()
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr("forms_engine.outbox.OUTBOX_KICK_KEY", f"test-kick-{uuid.uuid4().hex}:")
    sent: list[str] = []
    monkeypatch.setattr(
        tasks.outbox_dispatch, "apply_async", lambda args, **kw: sent.append(args[0])
    )
    yield sent
    outbox_kick_started(["test.a", "test.b"])


def test_a_consumer_whose_kick_is_still_queued_is_not_kicked_again(db, published):
    outbox_dispatch_kick(["test.a", "test.b"])
    assert published == ["test.a", "test.b"]
    outbox_dispatch_kick(["test.a", "test.b"])  # both tasks still queued: they see the rows
    assert published == ["test.a", "test.b"]
    outbox_kick_started(["test.a"])  # its task started: later commits need a new kick
    outbox_dispatch_kick(["test.a", "test.b"])
    assert published == ["test.a", "test.b", "test.a"]


def test_the_dispatch_task_ends_the_pending_kick_before_it_reads_the_rows(db, published):
    from forms_engine import tasks

    outbox_dispatch_kick(["test.a"])
    read: list[str] = []

    def dispatch(consumer, limit, full):
        # A commit now, while the task reads: its kick must go out.
        outbox_dispatch_kick([consumer])
        read.append(consumer)
        return 0

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("forms_engine.outbox.outbox_dispatch", dispatch)
        tasks.outbox_dispatch("test.a")
    assert read == ["test.a"]
    assert published == ["test.a", "test.a"]


def test_the_beat_schedule_kicks_every_consumer_whatever_is_pending(db, published, consumers):
    from forms_engine import tasks

    consumers("test.a", {"t.one"})
    outbox_dispatch_kick(["test.a"])
    tasks.outbox_dispatch_all()
    assert published.count("test.a") == 2  # a lost kick's flag holds nothing up


def test_a_full_batch_is_kicked_again_even_when_a_row_of_it_failed(
    db, published, consumers, monkeypatch
):
    """Whether more rows wait is told by the rows read, not the rows done: a batch with a
    failed row is as full as any (commits meanwhile kicked nothing: the kick was queued)."""
    from forms_engine import tasks

    monkeypatch.setattr("forms_engine.outbox.OUTBOX_BATCH", 3)
    failed = []

    def handler(event):
        if not failed:
            failed.append(event.id)
            raise RuntimeError("the receiver is down")

    consumers("test.a", {"t.one"}, handler)
    for i in range(6):
        outbox_emit("t.one", n=i)
    # The task's own kick goes out as deployed (the fixture above silenced it).
    monkeypatch.setattr("forms_engine.outbox.outbox_dispatch_kick", outbox_dispatch_kick)
    assert tasks.outbox_dispatch("test.a") == 2  # one of the three failed
    assert published == ["test.a"]  # the other three wait: kicked again


def test_a_kick_goes_out_when_the_flags_cannot_be_read(db, published, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    outbox_dispatch_kick(["test.a"])
    outbox_dispatch_kick(["test.a"])
    assert published == ["test.a", "test.a"]
