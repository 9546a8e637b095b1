"""The outbox: what happened to submissions, and the one way to consume it.

`outbox_emit(topic, submission=None, **payload)` is the one writer of `OutboxEvent` rows;
call it inside the transaction of the change, so that the event commits (or rolls back)
with it. A consumer is a function registered with `@outbox_consumer("name", topics={...})`
(outer rooms register theirs in `AppConfig.ready()`); `outbox_dispatch` runs them.

Progress per consumer: one `OutboxConsumption` row per (consumer, event), not a cursor.

    `outbox_emit` writes, beside the event and in the same transaction, one row for each
    consumer registered for its topic. A consumer's progress is the state of its own rows:
    it never waits for another consumer, and a failing row is retried with growing
    delays on its own (then marked failed, visible in the admin, `manage.py
    outbox_retry` sends it round again) while the rows after it go on.

    Why not a "last id" cursor: ids are drawn when a row is inserted, but transactions
    commit in any order. Transaction A takes id 7, B takes id 8 and commits first; a
    consumer that reads 8 and moves its cursor to 8 never sees 7 once A commits. A cursor
    needs a safe lag (only read ids older than the longest transaction), which delays
    every event and still fails when a transaction outlives the lag. Rows have no gap to
    fall into: a row is due from the moment its transaction commits, whatever its id, and
    the dispatcher takes due rows with `FOR UPDATE SKIP LOCKED`, so parallel workers
    share the work without taking a row twice. A consumer registered later starts with
    the events written after it is deployed.

Exactly once, for database effects: an atomic consumer (the default) runs inside the
transaction that marks its row done, under the row's lock; its writes and the record that
it consumed the event commit together, or neither does (a failing handler's writes are
rolled back to a savepoint, and the failure is recorded). External effects (a mail, an
HTTP call) cannot be rolled back: they must be idempotent, or be handed to their own task
(a `Delivery` row that a task sends). A consumer registered with `atomic=False` runs
outside any transaction: its row is leased first (no other worker takes it until the
lease ends), then marked done; a worker that dies meanwhile leaves the row to be run
again after the lease, so its effect happens at least once.

Dispatch is Celery: each emit kicks `forms_engine.tasks.outbox_dispatch` for the
consumers concerned once the transaction commits, and Celery beat runs it every few
seconds (`OUTBOX_DISPATCH_SECONDS`) for whatever a lost kick left behind (the broker down
while residents filed, a worker killed). In the embedded default (no broker) the kick runs
the consumers in-process, after the commit.

Topic labels: `register_topic_label(topic, gettext_lazy(...))` names a topic for people
(the inbox timeline, the status page); `topic_label(topic)` reads it.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine.background import run_soon

log = logging.getLogger(__name__)

Handler = Callable[[m.OutboxEvent], None]

#: After a failure, a row waits OUTBOX_RETRY_FIRST doubling up to OUTBOX_RETRY_CAP (with
#: jitter), OUTBOX_MAX_ATTEMPTS times in all (about three days), then is marked failed.
OUTBOX_RETRY_FIRST = timedelta(seconds=30)
OUTBOX_RETRY_CAP = timedelta(hours=1)
OUTBOX_MAX_ATTEMPTS = 80
#: How long a non-atomic consumer holds a row it runs: longer than a run may take.
OUTBOX_LEASE = timedelta(minutes=10)
#: Rows one task runs for one consumer before it hands on to a fresh task.
OUTBOX_BATCH = 200


@dataclass(frozen=True)
class Consumer:
    name: str
    topics: frozenset[str]
    handler: Handler
    atomic: bool
    max_attempts: int
    lease: timedelta


class OutboxRetry(Exception):
    """Raised by a handler that wants its row run again after `after`, on its own
    schedule (the consumer counts its attempts and gives up by itself)."""

    def __init__(self, after: timedelta, error: str = "retry"):
        super().__init__(error)
        self.after = after
        self.error = error


_CONSUMERS: dict[str, Consumer] = {}
_TOPIC_LABELS: dict[str, Any] = {}


def outbox_consumer(
    name: str,
    *,
    topics: Iterable[str],
    atomic: bool = True,
    max_attempts: int = OUTBOX_MAX_ATTEMPTS,
    lease: timedelta = OUTBOX_LEASE,
) -> Callable[[Handler], Handler]:
    """Register `handler(event) -> None` as consumer `name` of `topics`."""

    def register(handler: Handler) -> Handler:
        known = _CONSUMERS.get(name)
        if known is not None and known.handler is not handler:
            qualname = getattr(known.handler, "__qualname__", known.handler)
            raise ValueError(f"outbox consumer {name!r} is already registered ({qualname})")
        _CONSUMERS[name] = Consumer(name, frozenset(topics), handler, atomic, max_attempts, lease)
        return handler

    return register


def outbox_consumers() -> dict[str, Consumer]:
    return dict(_CONSUMERS)


def outbox_consumer_unregister(name: str) -> None:
    """For tests that register a consumer of their own."""
    _CONSUMERS.pop(name, None)


def register_topic_label(topic: str, label: Any) -> None:
    """`label`: a lazy translation (gettext_lazy), rendered in the reader's language."""
    _TOPIC_LABELS[topic] = label


def topic_label(topic: str) -> str:
    """The topic's label for people; the topic itself when none is registered."""
    label = _TOPIC_LABELS.get(topic)
    return str(label) if label is not None else topic


def outbox_emit(
    topic: str, submission: m.Submission | uuid.UUID | str | None = None, **payload: Any
) -> m.OutboxEvent:
    """Write an event (ids and non-personal values only in `payload`) and a row for each
    consumer of its topic, inside the caller's transaction; the consumers are kicked once
    it commits. `payload["submission"]` is filled in when a submission is given."""
    return outbox_emit_many([(topic, submission, payload)])[0]


def outbox_emit_many(
    events: Iterable[tuple[str, m.Submission | uuid.UUID | str | None, dict[str, Any]]],
) -> list[m.OutboxEvent]:
    """`outbox_emit` for several events `(topic, submission, payload)` written together:
    two INSERT statements whatever their number (the events, then every consumer row),
    and one kick on commit. The events keep the order given (ascending ids)."""
    rows = []
    for topic, submission, payload in events:
        submission_id = submission.pk if isinstance(submission, m.Submission) else submission
        payload = dict(payload)
        if submission_id is not None:
            payload.setdefault("submission", str(submission_id))
        rows.append(m.OutboxEvent(topic=topic, submission_id=submission_id, payload=payload))
    if not rows:
        return []
    # Atomic on its own when called outside a transaction; inside the caller's, no
    # savepoint (two round trips fewer): an error here fails the caller's transaction as a
    # whole, which is what the caller's change needs anyway.
    with transaction.atomic(savepoint=False):
        if len(rows) == 1:
            rows[0].save(force_insert=True)
        else:
            # Ids come back from the INSERT (RETURNING, on PostgreSQL and SQLite >= 3.35).
            m.OutboxEvent.objects.bulk_create(rows)
        consumptions = []
        kicked: set[str] = set()
        for event in rows:
            for name in sorted(c.name for c in _CONSUMERS.values() if event.topic in c.topics):
                consumptions.append(m.OutboxConsumption(consumer=name, event=event))
                kicked.add(name)
        if consumptions:
            m.OutboxConsumption.objects.bulk_create(consumptions)
            names = sorted(kicked)
            transaction.on_commit(lambda: outbox_dispatch_kick(names))
    return rows


#: With a Redis broker, a consumer whose last kick is still queued (its task has not
#: started) is not kicked again: that task reads the due rows after it starts, so it sees
#: every row committed before the kick was found pending. In a rush this is one Redis
#: round trip per filing instead of one published task per consumer per filing (each also
#: run by a worker). The flag ends when the task starts, or after this many seconds if the
#: task was lost; the beat schedule's runs are never held back by it.
OUTBOX_KICK_PENDING_SECONDS = 30
OUTBOX_KICK_KEY = "denshi:outbox-kick:"
_kick_redis: tuple[str, Any] | None = None


def _kick_flags() -> Any:
    """A Redis client on the broker's server when the broker is Redis, else None."""
    global _kick_redis
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    if _kick_redis is None or _kick_redis[0] != url:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        _kick_redis = (url, client)
    return _kick_redis[1]


def _kick_claim(names: list[str]) -> list[str]:
    """The consumers among `names` that have no kick queued, now flagged as having one.
    Every name when the flags cannot be read (no Redis broker, Redis down)."""
    flags = _kick_flags()
    if flags is None or not names:
        return names
    try:
        pipe = flags.pipeline(transaction=False)
        for name in names:
            pipe.set(OUTBOX_KICK_KEY + name, "1", nx=True, ex=OUTBOX_KICK_PENDING_SECONDS)
        claimed = pipe.execute()
    except Exception as exc:
        log.warning("outbox kick flags not read (%s); kicking anyway", type(exc).__name__)
        return names
    return [name for name, ok in zip(names, claimed, strict=True) if ok]


def outbox_kick_started(consumers: Iterable[str] | None = None) -> None:
    """Called by the dispatch task as it starts, before it reads the due rows: the next
    commit kicks again. Never raises (the flag then ends on its own)."""
    flags = _kick_flags()
    if flags is None:
        return
    names = list(consumers) if consumers is not None else sorted(_CONSUMERS)
    try:
        if names:
            flags.delete(*(OUTBOX_KICK_KEY + name for name in names))
    except Exception as exc:
        log.warning("outbox kick flags not cleared (%s)", type(exc).__name__)


def outbox_dispatch_kick(consumers: Iterable[str] | None = None) -> None:
    """Have the consumers run now: in-process without a broker, else one task per
    consumer, none for a consumer whose last kick is still queued. Never raises: the rows
    are committed, and beat runs them if this fails."""
    names = list(consumers) if consumers is not None else sorted(_CONSUMERS)
    _kick(names, only_unqueued=True)


def outbox_dispatch_kick_all() -> None:
    """The beat schedule's kick: every consumer, whatever kick is pending (this run is what
    makes up for a lost one)."""
    _kick(sorted(_CONSUMERS), only_unqueued=False)


def _kick(names: list[str], *, only_unqueued: bool) -> None:
    from forms_engine import tasks

    if not settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL:
        return  # no broker to send to (only tests set this): their dispatcher runs it
    if not settings.CELERY_TASK_ALWAYS_EAGER and only_unqueued:
        names = _kick_claim(names)
    for name in names:
        try:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                run_soon(f"outbox_dispatch:{name}", outbox_dispatch, name)
            else:
                tasks.outbox_dispatch.apply_async(args=[name], retry=False)
        except Exception as exc:
            outbox_kick_started([name])  # not queued after all
            log.warning(
                "outbox consumer %s not kicked (%s); the beat schedule runs it",
                name,
                type(exc).__name__,
            )


def outbox_dispatch(
    consumer: str | None = None, *, limit: int = OUTBOX_BATCH, full: list[str] | None = None
) -> int:
    """Run the due rows of `consumer` (every consumer when None), up to `limit` each;
    returns how many were done. Safe to run in parallel and again after a failure.
    `full`, when given, gets the consumers that had `limit` rows due (more may wait), done
    or not: a failed row or one another worker holds still means the batch was full."""
    names = [consumer] if consumer is not None else sorted(_CONSUMERS)
    done = 0
    for name in names:
        registered = _CONSUMERS.get(name)
        if registered is None:  # rows of a consumer this process does not know wait
            continue
        due = list(
            m.OutboxConsumption.objects.filter(
                consumer=name,
                state=m.OutboxConsumption.State.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if full is not None and len(due) >= limit:
            full.append(name)
        for row_id in due:
            if registered.atomic:
                done += _run_atomic(registered, row_id)
            else:
                done += _run_leased(registered, row_id)
    return done


def _claim(row_id: int) -> m.OutboxConsumption | None:
    return (
        m.OutboxConsumption.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("event")
        .filter(
            pk=row_id,
            state=m.OutboxConsumption.State.PENDING,
            next_attempt_at__lte=timezone.now(),
        )
        .first()
    )


def _run_atomic(consumer: Consumer, row_id: int) -> int:
    with transaction.atomic():
        row = _claim(row_id)
        if row is None:
            return 0
        attempts = row.attempts + 1
        try:
            with transaction.atomic():
                consumer.handler(row.event)
        except Exception as exc:
            _failed(consumer, row, attempts, exc)
            return 0
        _update(
            row, state=m.OutboxConsumption.State.DONE, attempts=attempts, done_at=timezone.now()
        )
    return 1


def _run_leased(consumer: Consumer, row_id: int) -> int:
    with transaction.atomic():
        row = _claim(row_id)
        if row is None:
            return 0
        attempts = row.attempts + 1
        _update(row, attempts=attempts, next_attempt_at=timezone.now() + consumer.lease)
    try:
        consumer.handler(row.event)
    except Exception as exc:
        _failed(consumer, row, attempts, exc)
        return 0
    _update(row, state=m.OutboxConsumption.State.DONE, done_at=timezone.now(), last_error="")
    return 1


def outbox_retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure in a row: doubling, capped, with up to a
    fifth of jitter so that rows failing together do not come back together."""
    base = min(OUTBOX_RETRY_FIRST * 2 ** min(attempts - 1, 20), OUTBOX_RETRY_CAP)
    return base * (1 + random.random() / 5)


def _failed(consumer: Consumer, row: m.OutboxConsumption, attempts: int, exc: Exception) -> None:
    error = (exc.error if isinstance(exc, OutboxRetry) else type(exc).__name__)[:100]
    if isinstance(exc, OutboxRetry):
        _update(
            row,
            attempts=attempts,
            last_error=error,
            next_attempt_at=timezone.now() + exc.after,
        )
        return
    if attempts >= consumer.max_attempts:
        _update(row, state=m.OutboxConsumption.State.FAILED, attempts=attempts, last_error=error)
        # Ids and the error's class only: an exception's message may hold personal data.
        log.error(
            "outbox consumer %s failed on event %s (%s, attempt %s); marked failed: "
            "see Outbox consumptions in the admin, then manage.py outbox_retry",
            consumer.name,
            row.event_id,
            error,
            attempts,
        )
        return
    next_attempt = timezone.now() + outbox_retry_delay(attempts)
    _update(row, attempts=attempts, last_error=error, next_attempt_at=next_attempt)
    log.warning(
        "outbox consumer %s failed on event %s (%s, attempt %s); next attempt at %s",
        consumer.name,
        row.event_id,
        error,
        attempts,
        next_attempt.isoformat(timespec="seconds"),
    )


def _update(row: m.OutboxConsumption, **fields: Any) -> None:
    m.OutboxConsumption.objects.filter(pk=row.pk).update(**fields)


def outbox_retry_failed(consumer: str | None = None) -> int:
    """Send the failed rows (of one consumer, or all) round again, due now."""
    rows = m.OutboxConsumption.objects.filter(state=m.OutboxConsumption.State.FAILED)
    if consumer is not None:
        rows = rows.filter(consumer=consumer)
    return rows.update(
        state=m.OutboxConsumption.State.PENDING, attempts=0, next_attempt_at=timezone.now()
    )


def outbox_redo(consumer: str, events: models.QuerySet[m.OutboxEvent]) -> int:
    """Make the rows of `consumer` for `events` due again now (whatever their state)."""
    return m.OutboxConsumption.objects.filter(consumer=consumer, event__in=events).update(
        state=m.OutboxConsumption.State.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        done_at=None,
    )
