"""Staff sessions end: after an idle spell, and at an absolute age whatever the activity."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "staff_signed_in_at"
SEEN_AT = "staff_seen_at"


class StaffSessionExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            signed_in = session.get(SIGNED_IN_AT)
            seen = session.get(SEEN_AT)
            if signed_in is None or seen is None:
                # A session signed in by other means (force_login in a test, an older
                # session) starts counting now.
                session[SIGNED_IN_AT] = signed_in = now
                seen = now
            idle = now - int(seen) > settings.STAFF_SESSION_IDLE_SECONDS
            too_old = now - int(signed_in) > settings.STAFF_SESSION_MAX_SECONDS
            if idle or too_old:
                logout(request)
            else:
                # Written at most once a minute: a page of requests is not a write each.
                if now - int(seen) >= 60 or SEEN_AT not in session:
                    session[SEEN_AT] = now
        return self.get_response(request)
