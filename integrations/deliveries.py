"""Deliveries: created once per submission per `integrations` entry when the submission is
handed on (`submission.ready`), then sent, retried and given up on here. Every state
change of a Delivery goes through these functions.

A delivery is sent outside any transaction (a receiver that takes its time never holds a
row lock or a database transaction): it is claimed in a short transaction (state
`delivering`, leased until `DELIVERY_LEASE_SECONDS` from now), sent, and its outcome
recorded in a second one, only if this worker still holds it. A worker that dies while
sending leaves the delivery leased; once the lease ends the poller queues it again and
another worker sends it again, with the same `webhook-id`, so the receiver can tell the
repeat and apply it once (at-least-once delivery, exactly-once effect).
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from forms_engine import models as fm
from forms_engine.background import run_soon
from forms_engine.outbox import outbox_emit
from forms_engine.services import version_spec

from . import delivery_statements
from .models import Delivery, DeliveryAttempt
from .registry import integration_type, integration_types
from .targets.base import DeliveryError

log = logging.getLogger(__name__)

State = Delivery.State

#: Outbox topics of deliveries, for the submission's history (labels in apps.py).
TOPIC_DELIVERED = "delivery.delivered"
TOPIC_DEAD = "delivery.dead"
TOPIC_RETRIED = "delivery.retried"


def deliveries_create(submission_id: uuid.UUID | str) -> list[Delivery]:
    """One Delivery per `integrations` entry of the submission's own procedure version
    (the one it was filed on), once: an entry that already has its Delivery is left alone.
    Per-submission types are queued for sending when the transaction commits; scheduled
    types (csv) wait, pending, for their run."""
    submission = fm.Submission.objects.select_related("procedure_version").get(pk=submission_id)
    spec = version_spec(submission.procedure_version)
    created: list[Delivery] = []
    for entry in spec.integrations:
        delivery, was_created = Delivery.objects.get_or_create(
            submission=submission,
            integration_id=entry.id,
            defaults={"procedure_version": submission.procedure_version, "type": entry.type},
        )
        if was_created:
            created.append(delivery)
    to_send = [d.pk for d in created if not _scheduled(d.type)]
    if to_send:
        Delivery.objects.filter(pk__in=to_send).update(enqueued_at=timezone.now())
        transaction.on_commit(lambda: deliveries_enqueue(to_send))
    return created


def _scheduled(type_key: str) -> bool:
    try:
        return integration_type(type_key).scheduled
    except KeyError:
        return False


def deliveries_enqueue(ids: list[uuid.UUID]) -> None:
    """Queue send tasks, DELIVERY_BATCH deliveries per task (in-process without a broker).
    Never raises: the rows are committed and the poller queues them again if this fails."""
    from . import tasks

    if not settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL:
        return  # no broker to send to (only tests set this): the poller queues them
    size = max(1, settings.DELIVERY_BATCH)
    for first in range(0, len(ids), size):
        batch = [str(delivery_id) for delivery_id in ids[first : first + size]]
        try:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                run_soon("deliveries_send", deliveries_send, batch)
            else:
                tasks.deliveries_send.apply_async(args=[batch], retry=False)
        except Exception as exc:
            log.warning(
                "%s deliveries not queued (%s); the poller queues them",
                len(batch),
                type(exc).__name__,
            )


def deliveries_enqueue_due(limit: int = 1000) -> int:
    """On the beat schedule: queue the deliveries that are due (a retry whose time has
    come, a lease that ended with its worker, a task the broker lost or never got) and
    were not queued in the last DELIVERY_REQUEUE_SECONDS. Returns how many."""
    now = timezone.now()
    requeue_before = now - timedelta(seconds=settings.DELIVERY_REQUEUE_SECONDS)
    per_submission = _per_submission_types()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                state__in=[State.PENDING, State.RETRYING, State.DELIVERING],
                type__in=per_submission,
                next_attempt_at__lte=now,
            )
            .exclude(enqueued_at__gt=requeue_before)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        Delivery.objects.filter(pk__in=due).update(enqueued_at=now)
    deliveries_enqueue(due)
    return len(due)


def deliveries_send(delivery_ids: Sequence[uuid.UUID | str]) -> dict[str, str]:
    """Try several deliveries, one after the other (a task of the poller's batches: one
    task per DELIVERY_BATCH deliveries spares the broker round trips of one per delivery);
    each is claimed, sent and recorded on its own, exactly as delivery_send does."""
    # Never start one that might not finish before the task's soft time limit: the rest
    # stay queued (enqueued_at), and the poller queues them again.
    budget = settings.CELERY_TASK_SOFT_TIME_LIMIT - (
        settings.DELIVERY_CONNECT_TIMEOUT + settings.DELIVERY_READ_TIMEOUT + 5
    )
    start = time.monotonic()
    results: dict[str, str] = {}
    for delivery_id in delivery_ids:
        if results and time.monotonic() - start > budget:
            results[str(delivery_id)] = "left"
            continue
        results[str(delivery_id)] = delivery_send(delivery_id)
    return results


def delivery_send(delivery_id: uuid.UUID | str) -> str:
    """Try one delivery now if it is due; returns its state afterwards (or "busy" when
    another worker holds it). Safe to run twice or in parallel."""
    claimed = _claim(delivery_id)
    if isinstance(claimed, str):
        return claimed
    delivery, attempt_number = claimed
    started_at = timezone.now()
    start = time.monotonic()
    status: int | None = None
    error: DeliveryError | None = None
    try:
        target = integration_type(delivery.type)
        status = target.deliver(delivery, delivery_config(delivery))
    except DeliveryError as exc:
        error, status = exc, exc.status
    except Exception as exc:  # a fault of ours: retried like an outage, logged with its kind
        error = DeliveryError(type(exc).__name__[:64])
        # The class and where it was raised, never the message (it may hold answers).
        log.error("delivery %s raised %s at %s", delivery.pk, error.kind, _raised_at(exc))
    duration_ms = int((time.monotonic() - start) * 1000)
    return _record(delivery, attempt_number, started_at, duration_ms, status, error)


def _relaxed_commit() -> None:
    """Inside a delivery's short transactions, on PostgreSQL: commit without waiting for
    the disk. Safe by design: a claim or an outcome lost in a database crash only makes the
    delivery go out again, with the same webhook-id the receiver deduplicates by; and it
    takes a wait for the disk off every delivery."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _per_submission_types() -> list[str]:
    return [k for k, t in integration_types().items() if not t.scheduled]


def _claim(delivery_id: uuid.UUID | str) -> tuple[Delivery, int] | str:
    """Take the delivery for this worker if it is due: one conditional UPDATE (its WHERE
    is checked again by PostgreSQL after any row lock it waited for, so two workers can
    never both take it), then one read of what the payload needs. Returns the delivery
    and its attempt number, or why it was not taken ("busy", "scheduled", its state)."""
    now = timezone.now()
    lease = timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    if delivery_statements.usable():
        # PostgreSQL: the same UPDATE and read as below, in one prepared statement.
        claimed = delivery_statements.claim(delivery_id, now, now + lease, _per_submission_types())
        if claimed is None:
            return _not_taken(delivery_id, now)
        return claimed, claimed.attempt_count
    taken = Delivery.objects.filter(
        pk=delivery_id,
        state__in=[State.PENDING, State.RETRYING, State.DELIVERING],
        next_attempt_at__lte=now,
        type__in=_per_submission_types(),
    ).update(
        state=State.DELIVERING,
        attempts=F("attempts") + 1,
        attempt_count=F("attempt_count") + 1,
        next_attempt_at=now + lease,
        # Taken off the queue: if this worker dies, the poller queues it again as soon as
        # the lease ends.
        enqueued_at=None,
    )
    if not taken:
        return _not_taken(delivery_id, now)
    # This worker holds the lease now: nobody else changes the row until it ends (or
    # until this worker records the outcome), so what is read here is this attempt's.
    delivery = (
        Delivery.objects.select_related(
            "procedure_version",
            "submission__procedure__organization",
            "submission__department",
            "submission__receipt",
        )
        .defer("procedure_version__source")  # read only when its spec is not cached
        # Whether the payload has files to list, in the same read: most submissions have
        # none, and the payload then spares a query (webhooks/payload.py).
        .annotate(
            has_attachments=Exists(
                fm.Attachment.objects.filter(submission_id=OuterRef("submission_id"))
            )
        )
        .get(pk=delivery_id)
    )
    return delivery, delivery.attempt_count


def _not_taken(delivery_id: uuid.UUID | str, now: Any) -> str:
    row = (
        Delivery.objects.filter(pk=delivery_id)
        .values_list("state", "type", "next_attempt_at")
        .first()
    )
    if row is None:
        return "busy"
    state, type_key, next_attempt_at = row
    if state in (State.DELIVERED, State.DEAD):
        return str(state)
    if _scheduled(type_key):
        return "scheduled"
    if state == State.DELIVERING:
        # Leased by a worker that is sending it now.
        return "busy"
    return str(state)


def _record(
    delivery: Delivery,
    number: int,
    started_at: Any,
    duration_ms: int,
    status: int | None,
    error: DeliveryError | None,
) -> str:
    now = timezone.now()
    fields: dict[str, Any] = {"last_status": status, "last_error": error.kind if error else ""}
    if error is None:
        fields.update(state=State.DELIVERED, delivered_at=now)
    elif error.permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        fields.update(state=State.DEAD)
    else:
        fields.update(
            state=State.RETRYING,
            next_attempt_at=now + delivery_retry_delay(delivery.attempts, error.retry_after),
            # Not queued any more: the poller queues it as soon as it is due.
            enqueued_at=None,
        )
    with transaction.atomic():
        if delivery_statements.usable():
            # PostgreSQL: the attempt row and the outcome below in one prepared statement.
            owned = delivery_statements.outcome(
                delivery, number, started_at, duration_ms, status, fields["last_error"], fields
            )
        else:
            _relaxed_commit()
            DeliveryAttempt.objects.create(
                delivery=delivery,
                number=number,
                started_at=started_at,
                duration_ms=duration_ms,
                status_code=status,
                error_kind=error.kind if error else "",
            )
            # Only while this worker still holds it (still delivering, and its claim is
            # the last one: `attempt_count` never goes back, unlike `attempts`, which a
            # staff retry resets): a worker whose lease ran out must not overwrite the
            # outcome of the one after it, even in a later round.
            owned = bool(
                Delivery.objects.filter(
                    pk=delivery.pk,
                    state=State.DELIVERING,
                    attempts=delivery.attempts,
                    attempt_count=number,
                ).update(**fields)
            )
        if owned and fields["state"] in (State.DELIVERED, State.DEAD):
            # The submission's history (inbox timeline): ids and kinds only.
            outbox_emit(
                TOPIC_DELIVERED if fields["state"] == State.DELIVERED else TOPIC_DEAD,
                delivery.submission_id,
                delivery=str(delivery.pk),
                integration=delivery.integration_id,
                type=delivery.type,
                attempts=delivery.attempts,
            )
    state = str(fields["state"])
    if not owned:
        return "busy"
    if error is not None:
        # Ids, the kind of error and the status code only: never the payload or the body.
        level = logging.ERROR if state == State.DEAD else logging.WARNING
        log.log(
            level,
            "delivery %s (%s %s) attempt %s failed: %s%s; %s",
            delivery.pk,
            delivery.type,
            delivery.integration_id,
            delivery.attempts,
            error.kind,
            f" (HTTP {status})" if status else "",
            "dead: staff can retry it (manage.py deliveries_retry, the inbox, the admin)"
            if state == State.DEAD
            else f"retried at {fields['next_attempt_at'].isoformat(timespec='seconds')}",
        )
    return state


def _raised_at(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"


def delivery_retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """The wait after the `attempts`-th failure in a row: exponential from
    DELIVERY_RETRY_FIRST_SECONDS, capped at DELIVERY_RETRY_MAX_SECONDS, with "equal
    jitter" (between half and all of it); at least what a Retry-After asked for (capped at
    a day)."""
    first, cap = settings.DELIVERY_RETRY_FIRST_SECONDS, settings.DELIVERY_RETRY_MAX_SECONDS
    base = min(first * 2 ** min(attempts - 1, 30), cap)
    seconds = base / 2 + random.uniform(0, base / 2)
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, 86400.0))
    return timedelta(seconds=seconds)


def delivery_retry(delivery_id: uuid.UUID | str, *, actor: int | None = None) -> bool:
    """Staff send a dead delivery again (after the receiver was fixed): due now, with a
    fresh round of attempts and the same webhook-id. False when it is not dead. `actor`:
    the staff user's id, for the submission's history."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .filter(pk=delivery_id, state=State.DEAD)
            .only("pk", "submission_id", "integration_id", "type")
            .first()
        )
        updated = Delivery.objects.filter(pk=delivery_id, state=State.DEAD).update(
            state=State.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            enqueued_at=timezone.now(),
        )
        if updated and delivery is not None:
            extra: dict[str, Any] = {} if actor is None else {"actor": actor}
            outbox_emit(
                TOPIC_RETRIED,
                delivery.submission_id,
                delivery=str(delivery.pk),
                integration=delivery.integration_id,
                type=delivery.type,
                **extra,
            )
            transaction.on_commit(lambda: deliveries_enqueue([uuid.UUID(str(delivery_id))]))
    return bool(updated)


def delivery_config(delivery: Delivery) -> dict[str, Any]:
    """The integration entry's settings from the delivery's procedure version, with each
    `env:NAME` read from the environment now (secrets never stored)."""
    spec = version_spec(delivery.procedure_version)
    for entry in spec.integrations:
        if entry.id == delivery.integration_id:
            return {key: _resolve(value) for key, value in entry.config.items()}
    raise DeliveryError("integration_removed", permanent=True)


def _resolve(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        resolved = os.environ.get(name)
        if resolved is None:
            # A setup fault an operator fixes: retried meanwhile, dead past the attempts.
            raise DeliveryError(f"env_missing:{name}"[:64])
        return resolved
    if isinstance(value, list | tuple):
        return [_resolve(item) for item in value]
    return value
