"""CSV runs: when each csv entry runs next, each run and the deliveries it writes.

A run's set of deliveries is fixed when the run is planned (`CsvRunItem`, one run per
delivery at most): running it again, after a failure, a killed worker or by hand, writes
the same file under the same name, byte for byte. No personal data here: ids, counts,
hashes and error kinds.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_engine.models import Procedure, ProcedureVersion


class CsvSchedule(models.Model):
    """When the csv entry `integration_id` of a procedure runs next (its cron, Tokyo)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+")
    integration_id = models.CharField(max_length=64)
    # The cron text `next_run_at` was computed from: a new version with another schedule
    # recomputes it.
    schedule = models.CharField(max_length=200)
    next_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "integration_id"], name="csv_schedule_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure} {self.integration_id}"


class CsvRun(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        FAILED = "failed", _("Failed, will be tried again")
        WRITTEN = "written", _("Written")

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    integration_id = models.CharField(max_length=64)
    # The version whose entry (columns, encoding, destination) the file is written with:
    # fixed at planning, so a rerun writes the same file.
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="+"
    )
    # The cron time this run stands for (the end of its window) and the previous run's.
    scheduled_for = models.DateTimeField()
    window_start = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PLANNED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # An error kind (exception class, storage code), never a message that may hold data.
    last_error = models.CharField(max_length=100, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    destination = models.CharField(max_length=500, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    replaced_characters = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    written_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("CSV run")
        verbose_name_plural = _("CSV runs")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="csv_run_due_idx",
                condition=models.Q(state__in=["planned", "failed"]),
            )
        ]

    def __str__(self) -> str:
        return f"csv run {self.pk} ({self.integration_id})"


class CsvRunItem(models.Model):
    """A delivery written by a run: each delivery belongs to one run at most."""

    run = models.ForeignKey(CsvRun, on_delete=models.CASCADE, related_name="items")
    delivery = models.OneToOneField(
        "integrations.Delivery", on_delete=models.CASCADE, related_name="csv_run_item"
    )

    class Meta:
        # A run's rows are read in item order (made in the rows' order when planned):
        # an index scan, no sort of a hundred thousand wide rows.
        indexes = [models.Index(fields=["run", "id"], name="csv_run_item_order_idx")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.delivery_id}"
