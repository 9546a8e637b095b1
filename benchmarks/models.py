from django.db import models
from django.utils import timezone


class BenchRow(models.Model):
    """The one row the insert baseline writes per request."""

    payload = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"bench row {self.pk}"
