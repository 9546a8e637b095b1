"""Deliveries to back-office systems: one `Delivery` per submission per `integrations`
entry of its procedure version, and one `DeliveryAttempt` per try. No personal data here:
ids, states, status codes, error kinds."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_engine.models import ProcedureVersion, Submission


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Delivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be delivered")
        DELIVERING = "delivering", _("Being delivered")
        DELIVERED = "delivered", _("Delivered")
        RETRYING = "retrying", _("Failed, will be retried")
        DEAD = "dead", _("Failed: needs a retry by staff")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="deliveries")
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="+"
    )
    integration_id = models.CharField(max_length=64)
    type = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # Attempts in the current round (a retry by hand starts a new round from 0), and in
    # all (the numbers of the attempt log).
    attempts = models.PositiveIntegerField(default=0)
    attempt_count = models.PositiveIntegerField(default=0)
    # When it is due next: its first send, its next retry, or (while delivering) the end
    # of the lease of the worker sending it, after which another worker may take it.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When a send task was last queued for it: the poller queues it again only after a
    # while, so a backlog is not queued twice over (a lost task is queued again).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The Standard Webhooks `webhook-id`: the same on every retry, the receiver's
    # idempotency key.
    idempotency_key = models.CharField(max_length=64, unique=True, default=new_webhook_id)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # An error kind ("timeout", "http_503", ...), never a message from the receiver.
    last_error = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "integration_id"], name="delivery_once_per_integration"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(state__in=["pending", "retrying", "delivering"]),
            ),
            models.Index(fields=["state", "type"], name="delivery_state_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.integration_id} ({self.type}) of {self.submission_id}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # "" when it succeeded; else a short kind: timeout, connection, http_503, refused_address...
    error_kind = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"


# The models of the csv runs and of the pull API live beside their code; imported here so
# that Django registers them with this app.
from integrations.api.models import ApiToken, FeedEntry  # noqa: E402
from integrations.csv_export.models import CsvRun, CsvRunItem, CsvSchedule  # noqa: E402

__all__ = [
    "ApiToken",
    "CsvRun",
    "CsvRunItem",
    "CsvSchedule",
    "Delivery",
    "DeliveryAttempt",
    "FeedEntry",
]
