"""The audit trail: one append-only row for every staff sign-in, view, download, export,
state change and setting change. Rows carry ids, the receipt number and non-personal
details only: never an answer value, a name, an address or a file name."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from django.http import HttpRequest

from forms_engine.models import Attachment, Submission
from forms_engine.ratelimit import client_address

from .models import AuditLog
from .scope import staff_scope

# Detail values kept: short scalars. A long string is cut, a mapping refused: details
# name what was done (a status, a field key, a count), they do not copy content.
_VALUE_MAX = 200


class AuditDataRefused(ValueError):
    """A detail that is not a short scalar (or a list of them)."""


def _clean(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return value[:_VALUE_MAX]
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in sorted(value, key=str)][:100]
    raise AuditDataRefused(f"audit detail of type {type(value).__name__}")


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


def audit_log(
    request: HttpRequest | None,
    action: str,
    obj: Any = None,
    *,
    actor: Any = None,
    organization_id: int | None = None,
    **data: Any,
) -> AuditLog:
    """Write one audit row: who (the request's user, or `actor`), from where (the client
    address as the rate limits read it), what (`action`, e.g. "submission.view"), on
    which object (a Submission, an Attachment, a user, anything with a pk) and details."""
    user = actor if actor is not None else getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    row = AuditLog(
        action=action[:64],
        actor_id=user.pk if user is not None else None,
        actor_name=user.get_username()[:150] if user is not None else "",
        address=_address(request),
        data={key: _clean(value) for key, value in data.items()},
    )
    submission: Submission | None = None
    if isinstance(obj, Submission):
        submission = obj
    elif isinstance(obj, Attachment) and obj.submission_id is not None:
        submission = obj.submission
    if submission is not None:
        row.submission_id = submission.pk
        row.submission_number = submission.number
        row.organization_id = submission.organization_id
    if obj is not None:
        row.object_type = type(obj).__name__.lower()[:32]
        row.object_id = str(getattr(obj, "pk", ""))[:64]
    if organization_id is not None:
        row.organization_id = organization_id
    elif row.organization_id is None and user is not None:
        row.organization_id = staff_scope(user).organization_id
    row.save()
    return row
