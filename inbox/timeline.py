"""A submission's history for staff: its outbox events, oldest first, each with its label
and the name of the member of staff who caused it (`actor` in the payload)."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from forms_engine.models import OutboxEvent, Submission

TIMELINE_MAX = 500


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    topic: str
    label: str
    actor: str
    reason: str


def _label(topic: str) -> str:
    try:
        module = importlib.import_module("forms_engine.outbox")
    except ImportError:  # before the outbox consumers' module exists
        return topic
    return str(module.topic_label(topic))


def submission_timeline(submission: Submission) -> list[TimelineEntry]:
    events = list(
        OutboxEvent.objects.filter(submission_id=submission.pk)
        .only("topic", "payload", "created_at")
        .order_by("created_at", "id")[:TIMELINE_MAX]
    )
    actor_ids = {
        e.payload.get("actor")
        for e in events
        if isinstance(e.payload, dict) and isinstance(e.payload.get("actor"), int)
    }
    User = get_user_model()
    names: dict[Any, str] = {
        pk: (full or username) for pk, username, full in _names(User, actor_ids)
    }
    out = []
    for event in events:
        payload = event.payload if isinstance(event.payload, dict) else {}
        actor = payload.get("actor")
        reason = payload.get("reason")
        out.append(
            TimelineEntry(
                at=event.created_at,
                topic=event.topic,
                label=_label(event.topic),
                actor=names.get(actor, "") if actor is not None else "",
                reason=reason if isinstance(reason, str) else "",
            )
        )
    return out


def _names(User: Any, ids: set[Any]) -> list[tuple[Any, str, str]]:
    if not ids:
        return []
    rows = User.objects.filter(pk__in=ids).values_list("pk", "username", "first_name", "last_name")
    return [(pk, username, f"{last} {first}".strip()) for pk, username, first, last in rows]
