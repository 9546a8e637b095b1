"""Failed passwords slow the next attempt down before django-axes locks the pair out: after
the second failure of a user name from one address, each attempt must wait 2, 4, 8...
seconds (at most STAFF_LOGIN_DELAY_MAX) after the last failure. Counted by axes."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

DELAY_FREE_FAILURES = 2
DELAY_MAX_SECONDS = 60


def login_wait_seconds(username: str, address: str) -> int:
    """Seconds the next attempt of `username` from `address` must still wait (0: none)."""
    if not getattr(settings, "AXES_ENABLED", True):
        return 0
    attempt = (
        AccessAttempt.objects.filter(username=username[:255], ip_address=address or None)
        .order_by("-attempt_time")
        .first()
    )
    if attempt is None or attempt.failures_since_start <= DELAY_FREE_FAILURES:
        return 0
    delay = min(2 ** (attempt.failures_since_start - DELAY_FREE_FAILURES), DELAY_MAX_SECONDS)
    elapsed = (timezone.now() - attempt.attempt_time).total_seconds()
    return max(0, int(delay - elapsed + 0.999))
