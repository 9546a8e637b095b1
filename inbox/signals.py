"""Sign-in events into the audit log: password accepted or refused, and lockouts
(django-axes). The second factor is audited by the verification view itself."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from .audit import audit_log
from .scope import staff_scope


def _known_user(username: str) -> Any:
    User = get_user_model()
    return User.objects.filter(**{User.USERNAME_FIELD: username[:150]}).first()


@receiver(user_logged_in, dispatch_uid="inbox_audit_login")
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_log(request, "signin.password_ok", actor=user)


@receiver(user_login_failed, dispatch_uid="inbox_audit_login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")[:150]
    user = _known_user(username) if username else None
    audit_log(
        request,
        "signin.password_failed",
        organization_id=staff_scope(user).organization_id if user else None,
        username=username,
    )


@receiver(user_locked_out, dispatch_uid="inbox_audit_locked_out")
def _locked_out(
    sender: Any, request: HttpRequest | None, username: str | None = None, **kwargs: Any
) -> None:
    name = str(username or "")[:150]
    user = _known_user(name) if name else None
    audit_log(
        request,
        "signin.locked_out",
        organization_id=staff_scope(user).organization_id if user else None,
        username=name,
    )
