"""Staff memberships (who may see which department's submissions) and the audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_engine.models import Department, Organization


class StaffMembership(models.Model):
    """A user's place in one organization: reviewer or department admin of a department,
    or organization admin (no department: the whole organization). A user may hold several
    departments of the same organization, never two organizations."""

    class Role(models.TextChoices):
        REVIEWER = "reviewer", _("Reviewer")
        DEPARTMENT_ADMIN = "department_admin", _("Department admin")
        ORGANIZATION_ADMIN = "organization_admin", _("Organization admin")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=24, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department"],
                name="staff_membership_unique_department",
                condition=models.Q(department__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "organization"],
                name="staff_membership_unique_org_admin",
                condition=models.Q(department__isnull=True),
            ),
            # An organization admin has no department; every other role has one.
            models.CheckConstraint(
                condition=models.Q(role="organization_admin", department__isnull=True)
                | (~models.Q(role="organization_admin") & models.Q(department__isnull=False)),
                name="staff_membership_role_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} {self.organization_id}/{self.department_id}"


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogImmutable

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutable


class AuditLogImmutable(Exception):
    """The audit log is append-only: rows are never changed or deleted."""


class AuditLog(models.Model):
    """One audited event: who (id and name copied, kept when the user goes), when, from
    which address, what (an action name), on which object (ids and the receipt number
    only) and non-personal details. Never an answer value, name, address or file name.
    Append-only here and, on PostgreSQL, by a trigger (migration 0002)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # No foreign key to the user: a deleted user must not change (SET_NULL) any row.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    submission_id = models.UUIDField(null=True, blank=True)
    submission_number = models.CharField(max_length=24, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects: ClassVar[models.Manager[AuditLog]] = models.Manager.from_queryset(AuditLogQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="auditlog_org_date_idx"),
            models.Index(fields=["submission_id", "created_at"], name="auditlog_submission_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise AuditLogImmutable
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutable
