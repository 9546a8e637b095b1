"""The feed of ready submissions the pull API pages through, and its cursor.

Why a feed of its own rather than `submitted_at` or the outbox event's id: both are taken
before the transaction commits, and transactions commit in any order. A reader that saw
row 11 and moved its cursor past it would never see row 10 committed a moment later.
Entries here are numbered under a transaction-scoped lock taken before the number is
drawn and held until commit, so numbers become visible in order.
"""

from __future__ import annotations

import re
import uuid

from django.db import connection, transaction
from django.utils import timezone

from forms_engine.models import Submission

from .models import FeedEntry

# pg_advisory_xact_lock key: "feed" in ASCII.
FEED_LOCK_KEY = 0x66656564
CURSOR_VERSION = "v1"


def feed_append(submission_id: uuid.UUID | str) -> FeedEntry:
    """The submission's feed entry, appended once (call it in the transaction that
    records the submission ready, e.g. the outbox consumer's)."""
    with transaction.atomic():
        existing = FeedEntry.objects.filter(submission_id=submission_id).first()
        if existing is not None:
            return existing
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK_KEY])
        # SQLite (the embedded default) has one writer at a time anyway.
        department_id = (
            Submission.objects.filter(pk=submission_id)
            .values_list("department_id", flat=True)
            .get()
        )
        entry, _created = FeedEntry.objects.get_or_create(
            submission_id=submission_id,
            defaults={"department_id": department_id, "ready_at": timezone.now()},
        )
        return entry


class CursorInvalid(ValueError):
    pass


# A cursor is `v1.<position>`: clients pass back what they were given and read nothing
# into it (the version prefix lets its form change later).
CURSOR_RE = re.compile(r"v1\.([0-9]{1,18})", re.ASCII)


def cursor_encode(position: int) -> str:
    return f"{CURSOR_VERSION}.{position}"


def cursor_decode(cursor: str | None) -> int:
    """The feed position after which a page starts (0 for no cursor)."""
    if cursor is None:
        return 0
    match = CURSOR_RE.fullmatch(cursor)
    if match is None:
        raise CursorInvalid(cursor)
    return int(match[1])
