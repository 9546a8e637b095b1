"""A delivery's claim and outcome: the prepared statements of PostgreSQL read and write
exactly what the ORM steps do, each statement is prepared once per connection (or never,
with DB_PREPARED_STATEMENTS off), and on both paths a worker never sends a delivery
another holds nor overwrites the outcome of the worker after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from integrations import deliveries
from integrations.models import Delivery, DeliveryAttempt


def _snapshot(delivery: Delivery) -> dict:
    """Everything the payload and the target can read from a claimed delivery."""
    sub = delivery.submission
    related = {
        "delivery": delivery,
        "submission": sub,
        "receipt": sub.receipt,
        "department": sub.department,
        "procedure": sub.procedure,
        "organization": sub.procedure.organization,
        "version": delivery.procedure_version,
    }
    found = {}
    for name, obj in related.items():
        # The version's YAML is not read with the claim on either path (deferred).
        deferred = obj.get_deferred_fields()
        assert deferred == ({"source"} if name == "version" else set())
        found[name] = {
            f.attname: getattr(obj, f.attname)
            for f in obj._meta.concrete_fields
            if f.attname not in deferred
        }
    found["has_attachments"] = delivery.has_attachments
    return found


def _unclaim(delivery: Delivery, attempts: int = 0) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        state="pending",
        attempts=attempts,
        attempt_count=attempts,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        enqueued_at=timezone.now(),
    )


def test_the_prepared_claim_reads_what_the_orm_claim_reads(child_delivery, monkeypatch):
    """Field by field, through each field's converters (JSON answers, times, UUIDs), the
    same objects attached as select_related attaches them; no query once claimed."""
    from django.test.utils import CaptureQueriesContext

    _unclaim(child_delivery)
    prepared, number = deliveries._claim(child_delivery.pk)
    with CaptureQueriesContext(connection) as queries:
        seen_prepared = _snapshot(prepared)
    assert len(queries) == 0  # everything came with the claim
    assert number == 1 and prepared.state == "delivering" and prepared.attempts == 1
    assert prepared.has_attachments is True  # the child allowance's insurance card
    _unclaim(child_delivery)
    monkeypatch.setattr("integrations.delivery_statements.usable", lambda: False)
    orm, number = deliveries._claim(child_delivery.pk)
    seen_orm = _snapshot(orm)
    assert number == 1
    # The lease's end is "now" plus the lease on each path: not the same instant.
    for seen in (seen_prepared, seen_orm):
        assert seen["delivery"].pop("next_attempt_at") > timezone.now()
    assert seen_prepared == seen_orm
    assert isinstance(seen_prepared["submission"]["answers"], dict)


def test_each_statement_is_prepared_once_per_connection(child_delivery, receiver, settings):
    def prepared() -> dict[str, tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            )
            return {text: (g, c) for text, g, c in cursor.fetchall()}

    settings.DB_PREPARED_STATEMENTS = False
    assert deliveries.delivery_send(child_delivery.pk) == "delivered"
    assert prepared() == {}
    settings.DB_PREPARED_STATEMENTS = True
    for _ in range(3):
        _unclaim(child_delivery)
        assert deliveries.delivery_send(child_delivery.pk) == "delivered"
    statements = prepared()
    assert len(statements) == 2  # the claim and the outcome, nothing else
    assert all(generic + custom == 3 for generic, custom in statements.values())
    assert len(receiver.applied) == 1 and len(receiver.requests) == 4  # one webhook-id


@pytest.mark.usefixtures("delivery_path")
def test_a_delivery_another_worker_holds_is_busy(child_delivery, receiver):
    held, _ = deliveries._claim(child_delivery.pk)  # another worker, sending it now
    assert deliveries.delivery_send(child_delivery.pk) == "busy"
    assert receiver.requests == []
    child_delivery.refresh_from_db()
    assert (child_delivery.state, child_delivery.attempts) == ("delivering", 1)
    assert child_delivery.next_attempt_at == held.next_attempt_at  # its lease untouched


@pytest.mark.usefixtures("delivery_path")
def test_a_worker_whose_lease_ran_out_never_overwrites_the_outcome_of_the_next(
    child_delivery, receiver
):
    first, first_number = deliveries._claim(child_delivery.pk)
    # The first worker stalls past its lease; a second takes the delivery.
    Delivery.objects.filter(pk=child_delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    second, second_number = deliveries._claim(child_delivery.pk)
    assert (first_number, second_number) == (1, 2) and second.attempts == 2
    # The first one's answer comes in late: its attempt is logged, its outcome is not.
    now = timezone.now()
    assert deliveries._record(first, first_number, now, 5, 204, None) == "busy"
    child_delivery.refresh_from_db()
    assert (child_delivery.state, child_delivery.attempts) == ("delivering", 2)
    assert not child_delivery.submission.events.filter(topic="delivery.delivered").exists()
    # The second records its own.
    assert deliveries._record(second, second_number, now, 7, 204, None) == "delivered"
    child_delivery.refresh_from_db()
    assert child_delivery.state == "delivered" and child_delivery.delivered_at is not None
    attempts = DeliveryAttempt.objects.filter(delivery=child_delivery).order_by("number")
    assert [(a.number, a.status_code, a.duration_ms) for a in attempts] == [
        (1, 204, 5),
        (2, 204, 7),
    ]
    assert child_delivery.submission.events.filter(topic="delivery.delivered").count() == 1


@pytest.mark.usefixtures("delivery_path")
def test_a_stalled_worker_never_overwrites_a_later_round_after_a_staff_retry(
    child_delivery, receiver
):
    from integrations.targets.base import DeliveryError

    # Worker A claims (attempts 1) and stalls past its lease; worker B claims (attempts 2)
    # and gets a 400: dead at once. Staff retry it (attempts back to 0), worker C claims it
    # (attempts 1 again). A's late answer must not count as C's.
    stalled, stalled_number = deliveries._claim(child_delivery.pk)
    Delivery.objects.filter(pk=child_delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    second, second_number = deliveries._claim(child_delivery.pk)
    now = timezone.now()
    error = DeliveryError("http_400", status=400, permanent=True)
    assert deliveries._record(second, second_number, now, 3, 400, error) == "dead"
    assert deliveries.delivery_retry(child_delivery.pk)
    Delivery.objects.filter(pk=child_delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    third, third_number = deliveries._claim(child_delivery.pk)
    assert (stalled.attempts, third.attempts) == (1, 1)
    assert (stalled_number, third_number) == (1, 3)
    assert deliveries._record(stalled, stalled_number, now, 5, 204, None) == "busy"
    child_delivery.refresh_from_db()
    assert child_delivery.state == "delivering" and child_delivery.delivered_at is None
    assert deliveries._record(third, third_number, now, 7, 204, None) == "delivered"


@pytest.mark.usefixtures("delivery_path")
def test_a_failed_attempt_is_retried_later_and_no_longer_counts_as_queued(child_delivery):
    from integrations.targets.base import DeliveryError

    Delivery.objects.filter(pk=child_delivery.pk).update(enqueued_at=timezone.now())
    claimed, number = deliveries._claim(child_delivery.pk)
    before = timezone.now()
    error = DeliveryError("http_503", status=503)
    assert deliveries._record(claimed, number, before, 12, 503, error) == "retrying"
    child_delivery.refresh_from_db()
    assert child_delivery.state == "retrying" and child_delivery.enqueued_at is None
    assert (child_delivery.last_status, child_delivery.last_error) == (503, "http_503")
    assert child_delivery.next_attempt_at > before + timedelta(seconds=10)
    assert child_delivery.delivered_at is None
    (attempt,) = child_delivery.attempt_log.all()
    assert (attempt.status_code, attempt.error_kind, attempt.duration_ms) == (503, "http_503", 12)


@pytest.mark.django_db(transaction=True)
def test_a_claim_prepared_before_a_migration_still_runs_after_it(settings):
    """A migration that changes the type of a column a prepared statement returns makes
    PostgreSQL refuse the statement ("cached plan must not change result type"), and
    psycopg keeps it as prepared: outside a transaction (the claim), the statement is run
    again on a new connection instead of failing every claim until the connection ages."""
    import psycopg

    from integrations import delivery_statements

    settings.DB_PREPARED_STATEMENTS = True
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "prepared_probe" ("v" varchar(10))')
        cursor.execute("INSERT INTO \"prepared_probe\" VALUES ('a')")
    try:
        sql = 'SELECT "v" FROM "prepared_probe" WHERE "v" = %(v)s'
        for _ in range(2):  # prepared now
            assert delivery_statements._execute(sql, {"v": "a"}) == [("a",)]
        before = connection.connection
        # Another connection migrates the table.
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
            other.execute('ALTER TABLE "prepared_probe" ALTER COLUMN "v" TYPE varchar(20)')
        assert delivery_statements._execute(sql, {"v": "a"}) == [("a",)]
        assert connection.connection is not before  # a new connection took over
        assert delivery_statements._execute(sql, {"v": "a"}) == [("a",)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute('DROP TABLE "prepared_probe"')
