"""API tokens: `dsk_` and 43 URL-safe characters (256 random bits). Only the SHA-256 of a
token is stored; a token is compared by its hash, looked up by a unique index."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from forms_engine.models import Department, Organization

from .models import ApiToken

TOKEN_PREFIX = "dsk_"
MAX_TOKEN_LENGTH = 200


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(
    *,
    name: str,
    organization: Organization,
    departments: Iterable[Department],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token row and the token itself (shown once, never stored)."""
    departments = list(departments)
    if not departments:
        raise ValueError("a token needs at least one department")
    if any(d.organization_id != organization.pk for d in departments):
        raise ValueError("every department must belong to the token's organization")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(
            name=name,
            organization=organization,
            token_hash=token_hash(token),
            prefix=token[:10],
            expires_at=expires_at,
        )
        row.departments.set(departments)
    return row, token


def api_token_check(token: str) -> ApiToken | None:
    """The live token row for a presented token: not revoked, not expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = ApiToken.objects.filter(token_hash=token_hash(token)).first()
    if row is None or row.revoked_at is not None:
        return None
    now = timezone.now()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    # At most one write a minute per token, not one per request.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def api_token_revoke(row: ApiToken) -> None:
    ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
