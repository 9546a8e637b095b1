"""The waiting room's cookie: a resident's ticket while queued, then their admission,
signed with SECRET_KEY (django.core.signing, a salt per state) so that editing it forges
nothing: a cookie that does not verify, has expired or names another procedure counts as
no cookie (a new ticket, at the end of the queue). It holds no personal data.

An admission is bound to the browser's session: it holds a hash of the session key
(`s`), read from the session cookie without loading the session (no query), so a copied
admission cookie admits nobody in another session: there it counts as no cookie.

A queued ticket names the queue's generation (`g`, forms_engine/rush/counters.py): the
gate treats a ticket of an earlier generation as no ticket."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

QUEUED_SALT = "forms_engine.rush.queued"
ADMITTED_SALT = "forms_engine.rush.admitted"


SESSION_HASH_SALT = b"forms_engine.rush.session:"


def session_hash(session_key: str | None) -> str:
    """What an admission holds of the session it was given to ("" without a session)."""
    if not session_key:
        return ""
    digest = hashlib.sha256(SESSION_HASH_SALT + settings.SECRET_KEY.encode())
    digest.update(session_key.encode())
    return digest.hexdigest()[:32]


def request_session_hash(request: HttpRequest) -> str:
    """The hash of the session key the browser sent (its cookie only: no session load)."""
    return session_hash(request.COOKIES.get(settings.SESSION_COOKIE_NAME))


@dataclass(frozen=True)
class Pass:
    key: str
    ticket: int
    admitted: bool
    generation: str = ""  # of a queued ticket; "" for an admission


def cookie_name(key: str) -> str:
    return "rush_" + hashlib.sha256(key.encode()).hexdigest()[:12]


def read(request: HttpRequest, key: str, admission_minutes: int) -> Pass | None:
    """The valid ticket or admission of this procedure in the request's cookie, or None."""
    raw = request.COOKIES.get(cookie_name(key))
    if not raw or len(raw) > 300:
        return None
    # A value verifies under one salt only, so the order changes no answer: queued tickets
    # first, as most of the cookies read at a rush are (an admission is read on the start
    # page and its POST only).
    for salt, admitted, max_age in (
        (QUEUED_SALT, False, settings.RUSH_TICKET_HOURS * 3600),
        (ADMITTED_SALT, True, admission_minutes * 60),
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
            if admitted and (not data.get("s") or data.get("s") != request_session_hash(request)):
                return None  # copied from another session, or from before the binding
            # A queued ticket from before generations belongs to generation "0" (the
            # queue then running keeps its numbers as that generation: counters.py).
            generation = data.get("g", "0")
            if not admitted and not isinstance(generation, str):
                return None
            return Pass(key=key, ticket=data["t"], admitted=admitted, generation=generation or "")
    return None


def write(
    response: HttpResponse,
    key: str,
    ticket: int,
    *,
    admitted: bool,
    minutes: int,
    session_key: str | None = None,
    generation: str = "",
) -> None:
    """Set the cookie: a queued ticket of the queue's `generation` (valid
    RUSH_TICKET_HOURS), or an admission valid `minutes` from now (the signature's
    timestamp is the moment of admission) for the session `session_key` only."""
    salt = ADMITTED_SALT if admitted else QUEUED_SALT
    data: dict[str, object] = {"k": key, "t": ticket}
    if not admitted:
        if not generation:
            raise ValueError("a queued ticket names its queue's generation")
        data["g"] = generation
    if admitted:
        if not session_key:
            raise ValueError("an admission is bound to a session")
        data["s"] = session_hash(session_key)
    value = signing.dumps(data, salt=salt)
    max_age = minutes * 60 if admitted else settings.RUSH_TICKET_HOURS * 3600
    response.set_cookie(
        cookie_name(key),
        value,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
