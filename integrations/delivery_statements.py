"""A delivery's two writes as prepared statements, on PostgreSQL (deliveries.py uses them
there; elsewhere it runs the same steps through the ORM).

Why: on PostgreSQL the delivery's read of the submission (seven tables joined) cost the
server more to plan than to run, each time (about 3 ms of planning against 0.2 ms of
execution), and the ORM more Python to compile than the rest of the delivery together
(docs/performance.md, Deliveries). Here each statement's SQL is built once per process
from the models' own columns, and each is prepared once per database connection (the
deliveries worker keeps its connections, config/celery.py), so it is neither compiled nor
planned again. Two statements per delivery, one round trip each:

- `claim`: the conditional UPDATE that takes the delivery (the same WHERE as before:
  due, in a sendable state, of a per-submission type; PostgreSQL checks it again after
  any row lock it waited for, so two workers never both take it), and, in the same
  statement, the read of what the payload needs from the row it returned.
- `outcome`: the attempt row (always) and the outcome (only while this worker still holds
  the delivery: same attempt count, still delivering), with the transaction's commit not
  waiting for the disk (see deliveries._relaxed_commit); run inside the caller's
  transaction, which also writes the outbox event through `outbox_emit`.

Values come back through the fields' own converters, as the ORM's do, into model
instances with their related objects attached, as `select_related` attaches them. The
statements run on Django's connection and inside its transactions, with its error
handling, but not through its cursor: `connection.queries` (DEBUG) does not list them.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Model

from forms_engine import models as fm
from forms_engine.pk_read import converted

from .models import Delivery, DeliveryAttempt

#: psycopg's count of runs before it prepares a statement by itself: never reached here (the
#: statements of this module ask for it at once; Django's cursors never prepare).
PREPARE_THRESHOLD = 1_000_000_000


def usable() -> bool:
    """Whether the database is PostgreSQL (the statements use its UPDATE in a WITH)."""
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class _Part:
    """The columns of one model in a statement's result, and how to read them back."""

    model: type[Model]
    alias: str
    attnames: tuple[str, ...]
    columns: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]  # (position, converters, col)

    def select(self) -> str:
        return ", ".join(f'{self.alias}."{column}"' for column in self.columns)

    def instance(self, values: Sequence[Any]) -> Model:
        row = converted(values, self.converters, connection)
        return self.model.from_db(connection.alias, self.attnames, row)


def _part(model: type[Model], alias: str, deferred: frozenset[str] = frozenset()) -> _Part:
    fields = [f for f in model._meta.concrete_fields if f.attname not in deferred]
    converters = []
    for position, field in enumerate(fields):
        col = field.get_col(alias)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((position, tuple(found), col))
    return _Part(
        model,
        alias,
        tuple(f.attname for f in fields),
        tuple(f.column for f in fields),
        tuple(converters),
    )


@dataclass(frozen=True)
class _Claim:
    sql: str
    delivery: _Part
    submission: _Part
    receipt: _Part
    department: _Part
    procedure: _Part
    organization: _Part
    version: _Part


@functools.cache
def _claim_statement() -> _Claim:
    delivery = _part(Delivery, "c")
    submission = _part(fm.Submission, "s")
    receipt = _part(fm.Receipt, "r")
    department = _part(fm.Department, "dp")
    procedure = _part(fm.Procedure, "p")
    organization = _part(fm.Organization, "o")
    # The version's YAML source is read only when its parsed spec is not cached yet.
    version = _part(fm.ProcedureVersion, "v", frozenset({"source"}))
    table = Delivery._meta.db_table
    sql = f"""
        WITH c AS (
            UPDATE "{table}"
            SET "state" = 'delivering',
                "attempts" = "attempts" + 1,
                "attempt_count" = "attempt_count" + 1,
                "next_attempt_at" = %(lease_end)s,
                "enqueued_at" = NULL
            WHERE "id" = %(id)s
              AND "state" IN ('pending', 'retrying', 'delivering')
              AND "next_attempt_at" <= %(now)s
              AND "type" = ANY(%(types)s::varchar[])
            RETURNING *
        )
        SELECT {delivery.select()},
            EXISTS (
                SELECT 1 FROM "{fm.Attachment._meta.db_table}" a
                WHERE a."submission_id" = c."submission_id"
            ),
            {submission.select()}, {receipt.select()}, {department.select()},
            {procedure.select()}, {organization.select()}, {version.select()}
        FROM c
        JOIN "{fm.Submission._meta.db_table}" s ON s."id" = c."submission_id"
        JOIN "{fm.Receipt._meta.db_table}" r ON r."id" = s."receipt_id"
        JOIN "{fm.Department._meta.db_table}" dp ON dp."id" = s."department_id"
        JOIN "{fm.Procedure._meta.db_table}" p ON p."id" = s."procedure_id"
        JOIN "{fm.Organization._meta.db_table}" o ON o."id" = p."organization_id"
        JOIN "{fm.ProcedureVersion._meta.db_table}" v ON v."id" = c."procedure_version_id"
    """
    return _Claim(sql, delivery, submission, receipt, department, procedure, organization, version)


def _attach(instance: Model, name: str, related: Model) -> None:
    instance._meta.get_field(name).set_cached_value(instance, related)  # type: ignore[union-attr]


def _execute(sql: str, params: dict[str, Any], _retried: bool = False) -> list[tuple[Any, ...]]:
    """Run `sql` (a statement that returns rows) prepared (psycopg prepares it on this connection the first time) on
    Django's connection, inside whatever transaction Django has open on it; database
    errors come out as Django's, as from any query."""
    import psycopg

    prepare = settings.DB_PREPARED_STATEMENTS
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        raw = connection.connection
        if prepare and raw.prepare_threshold is None:
            # Django turns psycopg's preparing off (None) for the sake of poolers; with a
            # threshold, psycopg prepares what it is asked to (prepare=True) and nothing
            # else: Django's own cursors bind on the client and never prepare.
            raw.prepare_threshold = PREPARE_THRESHOLD
        try:
            with psycopg.Cursor(raw) as cursor:
                cursor.execute(sql, params, prepare=prepare)
                return cursor.fetchall()  # both statements return rows
        except (psycopg.errors.FeatureNotSupported, psycopg.errors.InvalidSqlStatementName):
            # A statement prepared before a migration changed a column it returns ("cached
            # plan must not change result type"), or one a pooler lost: psycopg keeps it
            # as prepared, so every later run on this connection would fail the same way
            # until the connection ages out. Outside a transaction (the claim), start on a
            # new connection and run it once more; inside one (the outcome), the caller's
            # rollback makes psycopg forget what it prepared, and the task is tried again.
            if not prepare or connection.in_atomic_block or _retried:
                raise
    connection.close()
    return _execute(sql, params, _retried=True)


def claim(
    delivery_id: uuid.UUID | str, now: datetime, lease_end: datetime, types: list[str]
) -> Delivery | None:
    """Take the delivery if it is due (see the module's docstring); None when not taken.
    The Delivery comes with its submission (and the submission's receipt, department,
    procedure and organization) and its procedure version attached, and
    `has_attachments` set."""
    statement = _claim_statement()
    rows = _execute(
        statement.sql,
        {
            "id": uuid.UUID(str(delivery_id)),
            "now": now,
            "lease_end": lease_end,
            "types": types,
        },
    )
    if not rows:
        return None
    values = iter(rows[0])

    def take(part: _Part) -> Any:
        return part.instance([next(values) for _ in part.columns])

    delivery: Delivery = take(statement.delivery)
    has_attachments = bool(next(values))
    submission = take(statement.submission)
    receipt = take(statement.receipt)
    department = take(statement.department)
    procedure = take(statement.procedure)
    organization = take(statement.organization)
    version = take(statement.version)
    _attach(procedure, "organization", organization)
    _attach(submission, "receipt", receipt)
    _attach(submission, "department", department)
    _attach(submission, "procedure", procedure)
    _attach(delivery, "submission", submission)
    _attach(delivery, "procedure_version", version)
    delivery.has_attachments = has_attachments  # type: ignore[attr-defined]  # as annotate() sets it
    return delivery


@functools.cache
def _outcome_sql() -> str:
    table = Delivery._meta.db_table
    attempts = DeliveryAttempt._meta.db_table
    return f"""
        WITH attempt AS (
            INSERT INTO "{attempts}"
                ("delivery_id", "number", "started_at", "duration_ms", "status_code",
                 "error_kind")
            VALUES (%(id)s, %(number)s, %(started_at)s, %(duration_ms)s,
                    %(status)s::smallint, %(error_kind)s)
        ), owned AS (
            UPDATE "{table}"
            SET "state" = %(state)s,
                "last_status" = %(status)s::smallint,
                "last_error" = %(error_kind)s,
                "delivered_at" = COALESCE(%(delivered_at)s::timestamptz, "delivered_at"),
                "next_attempt_at" = COALESCE(%(next_attempt_at)s::timestamptz, "next_attempt_at"),
                "enqueued_at" = CASE WHEN %(dequeue)s THEN NULL ELSE "enqueued_at" END
            WHERE "id" = %(id)s AND "state" = 'delivering' AND "attempts" = %(attempts)s
                AND "attempt_count" = %(number)s
            RETURNING 1
        )
        SELECT count(*), set_config('synchronous_commit', 'off', true) FROM owned
    """


def outcome(
    delivery: Delivery,
    number: int,
    started_at: datetime,
    duration_ms: int,
    status: int | None,
    error_kind: str,
    fields: dict[str, Any],
) -> bool:
    """Write the attempt row and, if this worker still holds the delivery, `fields` (the
    outcome: state, and delivered_at or next_attempt_at); True when it held it. Inside the
    caller's transaction, whose commit this makes not wait for the disk."""
    from psycopg.types.numeric import Int2, Int4

    # Integers as fixed types: psycopg would pick int2, int4 or int8 by value, and each
    # mix of types is prepared as a statement of its own.
    ((owned, _),) = _execute(
        _outcome_sql(),
        {
            "id": delivery.pk,
            "number": Int4(number),
            "started_at": started_at,
            "duration_ms": Int4(duration_ms),
            "status": None if status is None else Int2(status),
            "error_kind": error_kind,
            "state": str(fields["state"]),
            "delivered_at": fields.get("delivered_at"),
            "next_attempt_at": fields.get("next_attempt_at"),
            "dequeue": "enqueued_at" in fields,
            "attempts": Int4(delivery.attempts),
        },
    )
    return bool(owned)
