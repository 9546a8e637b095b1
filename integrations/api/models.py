"""Pull API data: tokens of back-office systems, and the feed the API pages through."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_engine.models import Department, Organization, Submission


class ApiToken(models.Model):
    """A read-only token of one back-office system for one or more departments of one
    organization. The token is shown once when created; only its SHA-256 is kept."""

    name = models.CharField(_("system name"), max_length=100)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    departments = models.ManyToManyField(
        Department, related_name="+", verbose_name=_("departments")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, to recognise it in lists (not enough to use it).
    prefix = models.CharField(_("token prefix"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["organization", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class FeedEntry(models.Model):
    """A submission ready for the back office (its `submission.ready` event), numbered in
    the order the entries commit: `id` is the API's cursor position. Entries are appended
    one at a time under a lock held until commit (`feed.feed_append`), so an entry with
    a smaller id never becomes visible after one with a larger id: a client that has read
    up to id N has missed nothing below it."""

    id = models.BigAutoField(primary_key=True)
    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    ready_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["department", "id"], name="feed_department_idx")]

    def __str__(self) -> str:
        return f"feed #{self.pk}"
