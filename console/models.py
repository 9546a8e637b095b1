"""The console's own records: drafts of procedure files (text that may have errors, never
live) and who published or unpublished which version."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_engine.models import Organization, Procedure, ProcedureVersion


class ProcedureDraft(models.Model):
    """The text of a procedure file being written in the console. It may have errors: it
    is kept as it is and never becomes a version until it is published without errors."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    slug = models.CharField(max_length=64)
    text = models.TextField(blank=True)
    # The version this draft was started from (editing a live procedure), if any.
    base_version = models.ForeignKey(
        ProcedureVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"draft {self.pk} {self.slug}"


class Publication(models.Model):
    """One publish or unpublish of a procedure by a member of staff: the version history
    shows who published each version."""

    class Action(models.TextChoices):
        PUBLISH = "publish", _("Published")
        UNPUBLISH = "unpublish", _("Unpublished")

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(ProcedureVersion, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    content_hash = models.CharField(max_length=64)
    # Copied: the history keeps the name when the account goes.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.version_id}"
