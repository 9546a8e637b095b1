"""One-time links: resident sign-in and resuming a saved draft. The mail carries the
token, the database only its hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from forms_engine import models as m


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(purpose: str, email: str, *, draft: m.Draft | None = None) -> str:
    token = secrets.token_urlsafe(32)
    max_age = settings.LOGIN_TOKEN_MAX_AGE if purpose == "login" else settings.RESUME_TOKEN_MAX_AGE
    m.OneTimeToken.objects.create(
        token_hash=_token_hash(token),
        purpose=purpose,
        email=email,
        draft=draft,
        expires_at=timezone.now() + timedelta(seconds=max_age),
    )
    return token


def token_email(purpose: str, token: str) -> str | None:
    """The address a still valid token was sent to, without using it up."""
    row = m.OneTimeToken.objects.filter(
        token_hash=_token_hash(token),
        purpose=purpose,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()
    return row.email if row else None


def token_use(purpose: str, token: str) -> m.OneTimeToken | None:
    """Consume a one-time token: valid once, before it expires."""
    with transaction.atomic():
        row = (
            m.OneTimeToken.objects.select_for_update()
            .filter(token_hash=_token_hash(token), purpose=purpose)
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at < timezone.now():
            return None
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        return row


def _link_mail(email: str, language: str, subject: str, text: str, path: str) -> None:
    """Mail a one-time link (sign-in, resume) in the resident's language."""
    with override(language):
        body = _(text) % {"url": f"{settings.SITE_URL}{path}"}
        send_mail(_(subject), body, None, [email])


def resident_login_link_send(email: str, language: str) -> None:
    _link_mail(
        email,
        language,
        gettext_noop("Your sign-in link"),
        gettext_noop(
            "Open this link to sign in to the online application service. "
            "It works once, for 30 minutes.\n\n%(url)s\n\n"
            "If you did not ask for it, ignore this mail."
        ),
        f"/login/{token_create('login', email)}/",
    )


def resident_login(token: str) -> m.Resident | None:
    row = token_use("login", token)
    if row is None:
        return None
    resident, _c = m.Resident.objects.get_or_create(email=row.email)
    resident.last_login_at = timezone.now()
    resident.save(update_fields=["last_login_at"])
    return resident


def draft_resume_link_send(draft: m.Draft, email: str, language: str) -> None:
    _link_mail(
        email,
        language,
        gettext_noop("Continue your application"),
        gettext_noop(
            "Your application is saved. Open this link to continue where you left off "
            "(valid for 30 days, once):\n\n%(url)s\n"
        ),
        f"/resume/{token_create('resume', email, draft=draft)}/",
    )


def draft_resume(token: str) -> m.Draft | None:
    row = token_use("resume", token)
    if row is None or row.draft is None or row.draft.status != m.Draft.Status.OPEN:
        return None
    return row.draft
