"""The waiting room's cookie: a resident's ticket while queued, then their admission,
signed with SECRET_KEY (django.core.signing, a salt per state) so that editing it forges
nothing: a cookie that does not verify, has expired or names another procedure counts as
no cookie (a new ticket, at the end of the queue). It holds no personal data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

QUEUED_SALT = "forms_engine.rush.queued"
ADMITTED_SALT = "forms_engine.rush.admitted"


@dataclass(frozen=True)
class Pass:
    key: str
    ticket: int
    admitted: bool


def cookie_name(key: str) -> str:
    return "rush_" + hashlib.sha256(key.encode()).hexdigest()[:12]


def read(request: HttpRequest, key: str, admission_minutes: int) -> Pass | None:
    """The valid ticket or admission of this procedure in the request's cookie, or None."""
    raw = request.COOKIES.get(cookie_name(key))
    if not raw or len(raw) > 300:
        return None
    for salt, admitted, max_age in (
        (ADMITTED_SALT, True, admission_minutes * 60),
        (QUEUED_SALT, False, settings.RUSH_TICKET_HOURS * 3600),
    ):
        try:
            data = signing.loads(raw, salt=salt, max_age=max_age)
        except signing.BadSignature:  # forged, edited, expired (SignatureExpired) alike
            continue
        if (
            isinstance(data, dict)
            and data.get("k") == key
            and isinstance(data.get("t"), int)
            and not isinstance(data.get("t"), bool)
        ):
            return Pass(key=key, ticket=data["t"], admitted=admitted)
    return None


def write(response: HttpResponse, key: str, ticket: int, *, admitted: bool, minutes: int) -> None:
    """Set the cookie: a queued ticket (valid RUSH_TICKET_HOURS), or an admission valid
    `minutes` from now (the signature's timestamp is the moment of admission)."""
    salt = ADMITTED_SALT if admitted else QUEUED_SALT
    value = signing.dumps({"k": key, "t": ticket}, salt=salt)
    max_age = minutes * 60 if admitted else settings.RUSH_TICKET_HOURS * 3600
    response.set_cookie(
        cookie_name(key),
        value,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
