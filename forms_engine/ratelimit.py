"""A fixed-window rate limit per client address and scope, kept in Django's cache (Redis
in production through CACHE_URL, process memory in the embedded default).

Used on the public endpoints that cost us work: starting a filing, final submit, postal
lookup, sign-in and resume links, status lookup. Addresses are hashed before they become cache keys."""

from __future__ import annotations

import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_address(request: HttpRequest) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _parse(rate: str) -> tuple[int, int]:
    count, seconds = rate.split("/")
    return int(count), int(seconds)


def hit(request: HttpRequest, scope: str) -> bool:
    """Count one request; False when the client is over the limit for this scope."""
    if not settings.RATE_LIMIT_ENABLED:
        return True
    limit, window = _parse(settings.RATE_LIMITS[scope])
    who = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
    key = f"rl:{scope}:{who}:{int(time.time() // window)}"
    if cache.add(key, 1, timeout=window + 1):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        return True
    return count <= limit


def limited_response(request: HttpRequest, scope: str) -> HttpResponse:
    """429 with a page saying when to try again."""
    _limit, window = _parse(settings.RATE_LIMITS[scope])
    response = render(
        request,
        "forms_engine/error.html",
        {
            "title": _("Too many requests"),
            "message": _(
                "There were too many requests from your connection. "
                "Wait %(minutes)s minutes and try again. Nothing you entered is lost."
            )
            % {"minutes": max(1, window // 60)},
        },
        status=429,
    )
    response["Retry-After"] = str(window)
    return response


def ratelimit(scope: str, methods: tuple[str, ...] = ("POST",)):
    """View decorator: over the limit, answer 429 with a page saying when to try again."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and not hit(request, scope):
                return limited_response(request, scope)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
