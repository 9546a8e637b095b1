"""How a submission was paid: each attempt (a checkout session, or an offline payment
staff recorded), each provider event received (stored so each is processed once) and each
refund. The submission's own payment state is the core's (Submission.payment_status,
changed through forms_engine.services.payment_state)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Payment(models.Model):
    """One attempt to pay a submission's fee."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the payment")
        AWAITING_KONBINI = "awaiting_konbini", _("Awaiting payment at a convenience store")
        PAID = "paid", _("Paid")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey(
        "forms_engine.Submission", on_delete=models.PROTECT, related_name="payments"
    )
    attempt = models.PositiveIntegerField()
    provider = models.CharField(max_length=32)
    # The organization's payment account name (its secrets are in the environment).
    account = models.CharField(max_length=64, blank=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="jpy")
    methods = models.JSONField(default=list)
    state = models.CharField(
        max_length=24, choices=State.choices, default=State.OPEN, db_index=True
    )
    # The provider's id of the attempt (a Stripe Checkout Session id) and of the payment
    # itself (a PaymentIntent id), once known.
    reference = models.CharField(max_length=255, null=True, blank=True, unique=True)
    payment_reference = models.CharField(max_length=255, blank=True)
    redirect_url = models.TextField(blank=True)
    # What the resident needs to pay at a convenience store: the slip's URL, the deadline
    # and the confirmation numbers per store chain (no personal data).
    konbini = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, default="ja")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)
    # When reconciliation last asked the provider about it.
    checked_at = models.DateTimeField(null=True, blank=True)
    # Staff who recorded an offline payment.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["submission", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "attempt"], name="payment_attempt_unique")
        ]
        indexes = [
            models.Index(
                fields=["updated_at"],
                name="payment_unsettled_idx",
                condition=models.Q(state__in=["open", "awaiting_konbini"]),
            )
        ]

    def __str__(self) -> str:
        return f"payment {self.pk}"

    @property
    def is_settled(self) -> bool:
        return self.state != self.State.OPEN and self.state != self.State.AWAITING_KONBINI


class ProviderEvent(models.Model):
    """A webhook event received, stored in the transaction that processed it: a second
    delivery of the same id finds it and changes nothing."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # What processing it did: applied, ignored (nothing to change), unknown payment.
    outcome = models.CharField(max_length=32)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveBigIntegerField()
    reason = models.TextField()
    reference = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"refund {self.pk}"
