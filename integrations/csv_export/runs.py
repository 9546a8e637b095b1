"""CSV runs: planned on each entry's cron schedule, written idempotently.

Planning (`csv_runs_tick`, every minute from Celery beat): for each csv entry of the
loaded procedures (the live version's entries, and any entry that still has deliveries
waiting), when its schedule has fired, one run takes every delivery of that entry that is
`pending` and in no run yet: its set is fixed there, under the schedule's row lock, and
each delivery can belong to one run only (a unique key). Runs are based on Delivery rows,
never on timestamps: a submission whose transaction commits after a run was planned is
simply pending for the next one; none falls between two runs, none is in two.

Writing (`csv_run_write`): under the run's row lock (a second worker given the same run
skips it; a killed worker's lock ends with its connection), the file is streamed from the
database into the destination, which makes it appear whole under its final name, and the
manifest is written last. Then, in the same transaction, the run is `written` and its
deliveries `delivered`. A run that fails (an exception, or a worker killed half-way) left
no file under its name and stays due: it is written again, the same deliveries under the
same name, byte for byte (nothing in the file depends on when it is written), at the next
tick after a growing delay. New deliveries go to the next run, so nothing is written
twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from forms_engine import models as fm
from forms_engine.procedure_format.model import IntegrationSpec, ProcedureSpec
from forms_engine.services import version_spec
from integrations.models import Delivery

from .columns import META_COLUMNS, TOKYO, ColumnPlan, SubmissionRow, column_plan
from .destinations import DestinationError, destination_resolve
from .manifest import manifest_bytes, manifest_name
from .models import CsvRun, CsvRunItem, CsvSchedule
from .schedule import next_fire_after
from .writer import WrittenFile, csv_write

log = logging.getLogger(__name__)

State = CsvRun.State
ROWS_CHUNK = 2000


@dataclass(frozen=True)
class CsvEntry:
    procedure: fm.Procedure
    version: fm.ProcedureVersion
    spec: ProcedureSpec
    entry: IntegrationSpec


def _entry_of(spec: ProcedureSpec, integration_id: str, type_key: str) -> IntegrationSpec | None:
    for entry in spec.integrations:
        if entry.id == integration_id and entry.type == type_key:
            return entry
    return None


def csv_entries(type_key: str = "csv") -> list[CsvEntry]:
    """Every csv entry to schedule: those of the live versions, and those that still have
    deliveries waiting although the live version dropped them (written with the newest
    version that has them)."""
    found: dict[tuple[int, str], CsvEntry] = {}
    live = fm.ProcedureVersion.objects.filter(
        pk__in=fm.Procedure.objects.exclude(live_version=None).values("live_version")
    ).select_related("procedure", "procedure__organization")
    for version in live:
        spec = version_spec(version)
        for entry in spec.integrations:
            if entry.type == type_key:
                found[(version.procedure_id, entry.id)] = CsvEntry(
                    version.procedure, version, spec, entry
                )
    waiting = (
        Delivery.objects.filter(type=type_key, state=Delivery.State.PENDING, csv_run_item=None)
        .values_list("procedure_version__procedure_id", "integration_id")
        .distinct()
    )
    for procedure_id, integration_id in waiting:
        if (procedure_id, integration_id) in found:
            continue
        versions = fm.ProcedureVersion.objects.filter(procedure_id=procedure_id).select_related(
            "procedure", "procedure__organization"
        )
        for version in versions.order_by("-number"):
            old_spec = version_spec(version)
            old_entry = _entry_of(old_spec, integration_id, type_key)
            if old_entry is not None:
                found[(procedure_id, integration_id)] = CsvEntry(
                    version.procedure, version, old_spec, old_entry
                )
                break
    return list(found.values())


def csv_run_plan(entry: CsvEntry, now: datetime, type_key: str = "csv") -> CsvRun | None:
    """Plan the entry's run if its schedule has fired by `now`; the run, or None."""
    schedule = str(entry.entry.config.get("schedule", ""))
    with transaction.atomic():
        sched, created = CsvSchedule.objects.select_for_update().get_or_create(
            procedure=entry.procedure,
            integration_id=entry.entry.id,
            defaults={"schedule": schedule, "next_run_at": next_fire_after(schedule, now)},
        )
        if created:
            return None
        if sched.schedule != schedule:
            sched.schedule = schedule
            sched.next_run_at = next_fire_after(schedule, now)
            sched.save(update_fields=["schedule", "next_run_at"])
            return None
        if sched.next_run_at is None or sched.next_run_at > now:
            return None
        scheduled_for = sched.next_run_at
        sched.next_run_at = next_fire_after(schedule, now)
        sched.save(update_fields=["next_run_at"])
        previous = (
            CsvRun.objects.filter(procedure=entry.procedure, integration_id=entry.entry.id)
            .order_by("-scheduled_for")
            .values_list("scheduled_for", flat=True)
            .first()
        )
        run = CsvRun.objects.create(
            procedure=entry.procedure,
            integration_id=entry.entry.id,
            procedure_version=entry.version,
            scheduled_for=scheduled_for,
            window_start=previous,
            enqueued_at=now,
        )
        # In the order the file lists them: items are read back in id order.
        deliveries = list(
            Delivery.objects.select_for_update(of=("self",))
            .filter(
                type=type_key,
                integration_id=entry.entry.id,
                procedure_version__procedure=entry.procedure,
                state=Delivery.State.PENDING,
            )
            .filter(~Exists(CsvRunItem.objects.filter(delivery=OuterRef("pk"))))
            .order_by("submission__submitted_at", "submission__number")
            .values_list("pk", flat=True)
        )
        CsvRunItem.objects.bulk_create(
            [CsvRunItem(run=run, delivery_id=pk) for pk in deliveries], batch_size=5000
        )
        Delivery.objects.filter(pk__in=deliveries).update(state=Delivery.State.DELIVERING)
        run.file_name = run_file_name(run)
        run.save(update_fields=["file_name"])
    log.info("csv run %s planned: %s deliveries", run.pk, len(deliveries))
    return run


def run_file_name(run: CsvRun) -> str:
    """`<procedure>_<integration>_<YYYYmmddTHHMM Tokyo>_<run>.csv`: one name per run."""
    when = run.scheduled_for.astimezone(TOKYO).strftime("%Y%m%dT%H%M")
    return f"{run.procedure.slug}_{run.integration_id}_{when}_{run.pk:08d}.csv"


def csv_runs_due(now: datetime, type_key: str = "csv") -> list[int]:
    """Runs to (re)write now: failed ones whose delay is over or whose deliveries staff
    sent again, and planned ones whose task was queued long ago (lost, or its worker
    killed). A run being written is locked, and skipped."""
    requeue_before = now - timedelta(seconds=settings.CSV_RUN_REQUEUE_SECONDS)
    with transaction.atomic():
        due = list(
            CsvRun.objects.select_for_update(skip_locked=True)
            .filter(state__in=[State.PLANNED, State.FAILED])
            .filter(
                Q(state=State.FAILED, next_attempt_at__lte=now)
                | Q(
                    state=State.FAILED,
                    pk__in=CsvRunItem.objects.filter(delivery__state=Delivery.State.PENDING).values(
                        "run_id"
                    ),
                )
                | Q(state=State.PLANNED, enqueued_at__lt=requeue_before)
                | Q(state=State.PLANNED, enqueued_at=None)
            )
            .order_by("id")
            .values_list("pk", flat=True)
        )
        CsvRun.objects.filter(pk__in=due).update(enqueued_at=now)
    return due


def csv_runs_tick(now: datetime | None = None, type_key: str = "csv") -> list[int]:
    """Plan the runs whose schedule fired and list every run to write now (the caller
    queues one task each)."""
    now = now or timezone.now()
    due = csv_runs_due(now, type_key)
    for entry in csv_entries(type_key):
        try:
            run = csv_run_plan(entry, now, type_key)
        except Exception:
            # One broken entry must not stop the others; ids only in the log.
            log.exception(
                "csv entry %s of procedure %s not planned", entry.entry.id, entry.procedure.pk
            )
            continue
        if run is not None:
            due.append(run.pk)
    return due


def run_rows(run: CsvRun) -> Iterator[SubmissionRow]:
    """The run's submissions in the order of its items (the order they were planned in:
    submitted_at, then receipt number), streamed from the database a chunk at a time."""
    rows = (
        fm.Submission.objects.filter(deliveries__csv_run_item__run=run)
        .order_by("deliveries__csv_run_item__id")
        .values_list(
            "number", "submitted_at", "status", "procedure_version_id", "department_id", "answers"
        )
    )
    versions = {
        pk: (slug, number)
        for pk, slug, number in fm.ProcedureVersion.objects.filter(
            procedure_id=run.procedure_id
        ).values_list("pk", "procedure__slug", "number")
    }
    departments = dict(fm.Department.objects.values_list("pk", "slug"))
    if connection.vendor != "postgresql":
        for number, at, status, version_id, department_id, answers in rows.iterator(
            chunk_size=ROWS_CHUNK
        ):
            slug, version = versions[version_id]
            yield SubmissionRow(
                number, at, status, slug, version, departments[department_id], answers
            )
        return
    # PostgreSQL: the same query on a server-side cursor, its rows read as they come
    # (jsonb arrives as text: decoded here once, without Django's per-value converters).
    sql, params = rows.query.sql_with_params()
    loads = json.loads
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(ROWS_CHUNK):
            for number, at, status, version_id, department_id, answers in chunk:
                slug, version = versions[version_id]
                yield SubmissionRow(
                    number, at, status, slug, version, departments[department_id], loads(answers)
                )


def run_plan_of(spec: ProcedureSpec, entry: IntegrationSpec) -> ColumnPlan:
    columns = entry.config.get("columns") or (
        *META_COLUMNS,
        *(f.id for f in spec.iter_fields(include_group_children=False) if f.type != "static"),
    )
    return column_plan(tuple(columns), spec)


def _write(run: CsvRun) -> tuple[str, WrittenFile]:
    spec = version_spec(run.procedure_version)
    entry = _entry_of(spec, run.integration_id, "csv") or next(
        (e for e in spec.integrations if e.id == run.integration_id), None
    )
    if entry is None:
        raise DestinationError("integration_removed")
    organization = run.procedure.organization.slug
    embedded = (
        Path(settings.VAR_DIR)
        / "csv-exports"
        / organization
        / run.procedure.slug
        / run.integration_id
    )
    destination = destination_resolve(str(entry.config["destination"]), embedded_folder=embedded)
    plan = run_plan_of(spec, entry)
    encoding = str(entry.config.get("encoding") or "utf-8")
    name = run.file_name or run_file_name(run)
    written = destination.write(name, lambda out: csv_write(out, plan, run_rows(run), encoding))
    manifest = manifest_bytes(
        file_name=name,
        written=written,
        organization=organization,
        procedure=run.procedure.slug,
        integration=run.integration_id,
        run=run.pk,
        window_start=run.window_start,
        window_end=run.scheduled_for,
    )
    destination.write(manifest_name(name), lambda out: out.write(manifest))
    return destination.describe(), written


def _error_kind(exc: BaseException) -> str:
    # The class, and for our own destination errors their text (a variable's name, a
    # storage code): never an exception message that might quote data.
    if isinstance(exc, DestinationError):
        return f"destination: {exc}"[:100]
    return type(exc).__name__[:100]


def csv_run_write(run_id: int, *, rewrite: bool = False) -> str:
    """Write the run's file (again, with `rewrite`); its state afterwards, or "busy" when
    another worker is writing it."""
    from integrations.deliveries import delivery_retry_delay

    with transaction.atomic():
        run = (
            CsvRun.objects.select_for_update(skip_locked=True)
            .select_related("procedure", "procedure__organization", "procedure_version")
            .filter(pk=run_id)
            .first()
        )
        if run is None:
            return "busy"
        if run.state == State.WRITTEN and not rewrite:
            return str(run.state)
        run.attempts += 1
        now = timezone.now()
        try:
            with transaction.atomic():
                where, written = _write(run)
        except Exception as exc:
            kind = _error_kind(exc)
            if run.state != State.WRITTEN:
                run.state = State.FAILED
            run.last_error = kind
            run.next_attempt_at = now + delivery_retry_delay(run.attempts)
            run.save(update_fields=["state", "attempts", "last_error", "next_attempt_at"])
            dead = run.attempts >= settings.DELIVERY_MAX_ATTEMPTS
            Delivery.objects.filter(csv_run_item__run=run).exclude(
                state=Delivery.State.DELIVERED
            ).update(
                state=Delivery.State.DEAD if dead else Delivery.State.RETRYING,
                attempts=run.attempts,
                last_error=kind[:100],
                next_attempt_at=run.next_attempt_at,
            )
            log.warning("csv run %s attempt %s failed: %s", run.pk, run.attempts, kind)
            return "failed"
        run.state = State.WRITTEN
        run.last_error = ""
        run.destination = where[:500]
        run.rows = written.rows
        run.size = written.size
        run.sha256 = written.sha256
        run.replaced_characters = written.replaced
        run.written_at = now
        run.save()
        # Only those not delivered yet: a run written again rewrites no row here.
        Delivery.objects.filter(csv_run_item__run=run).exclude(
            state=Delivery.State.DELIVERED
        ).update(
            state=Delivery.State.DELIVERED,
            attempts=run.attempts,
            last_error="",
            delivered_at=Coalesce("delivered_at", Value(now)),
        )
    log.info(
        "csv run %s written: %s rows, %s replaced characters",
        run.pk,
        written.rows,
        written.replaced,
    )
    return str(State.WRITTEN)
