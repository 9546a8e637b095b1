"""HTTP of the pull API: GET only, a bearer token on every request, answers in JSON,
errors in problem+json. No session, no cookie, no CSRF: nothing here reads or writes one."""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from forms_engine import models as m

from .feed import CursorInvalid, cursor_decode, cursor_encode
from .models import ApiToken, FeedEntry
from .problems import problem
from .representation import submission_representation
from .tokens import api_token_check

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")

View = Callable[..., HttpResponse]


def _json(data: Any, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response


def _unauthorized(detail: str) -> HttpResponse:
    response = problem(401, "unauthorized", "Unauthorized", detail)
    response["WWW-Authenticate"] = 'Bearer realm="denshi-api"'
    return response


def _rate_limited(token: ApiToken) -> HttpResponse | None:
    """A fixed window per token (API_RATE_LIMIT, `count/seconds`), in the shared cache."""
    if not settings.RATE_LIMIT_ENABLED:
        return None
    count_text, seconds_text = settings.API_RATE_LIMIT.split("/")
    limit, window = int(count_text), int(seconds_text)
    slot = int(time.time() // window)
    key = f"rl:api:{token.pk}:{slot}"
    if cache.add(key, 1, timeout=window + 1):
        return None
    try:
        count = cache.incr(key)
    except ValueError:
        cache.add(key, 1, timeout=window + 1)
        return None
    if count <= limit:
        return None
    response = problem(
        429, "rate-limited", "Too many requests", f"At most {limit} requests per {window} s."
    )
    response["Retry-After"] = str(max(1, (slot + 1) * window - int(time.time())))
    return response


def api_view(view: View) -> View:
    """GET only, a live token required; the token is passed to the view."""

    @functools.wraps(view)
    @csrf_exempt
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = problem(405, "method-not-allowed", "Method not allowed")
            response["Allow"] = "GET, HEAD"
            return response
        scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _unauthorized("Send the token as: Authorization: Bearer <token>.")
        token = api_token_check(presented.strip())
        if token is None:
            return _unauthorized("The token is unknown, revoked or expired.")
        limited = _rate_limited(token)
        if limited is not None:
            return limited
        return view(request, token, *args, **kwargs)

    return wrapper


def _entries(token: ApiToken) -> Any:
    return (
        FeedEntry.objects.filter(department__in=token.departments.all())
        .select_related(
            "submission",
            "submission__organization",
            "submission__procedure",
            "submission__procedure_version",
            "submission__department",
        )
        .prefetch_related(Prefetch("submission__attachments", queryset=m.Attachment.objects.all()))
    )


@api_view
def submission_list(request: HttpRequest, token: ApiToken) -> HttpResponse:
    try:
        after = cursor_decode(request.GET.get("cursor"))
    except CursorInvalid:
        return problem(400, "invalid-cursor", "Invalid cursor", "Pass next_cursor as it was given.")
    limit_text = request.GET.get("limit", str(DEFAULT_LIMIT))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        return problem(
            400, "invalid-limit", "Invalid limit", f"limit is a whole number from 1 to {MAX_LIMIT}."
        )
    limit = int(limit_text)
    entries = list(_entries(token).filter(id__gt=after).order_by("id")[: limit + 1])
    has_more = len(entries) > limit
    entries = entries[:limit]
    return _json(
        {
            "items": [submission_representation(e) for e in entries],
            "next_cursor": cursor_encode(entries[-1].id if entries else after),
            "has_more": has_more,
        }
    )


@api_view
def submission_detail(request: HttpRequest, token: ApiToken, submission_id: str) -> HttpResponse:
    try:
        key = uuid.UUID(submission_id)
    except ValueError:
        key = None
    entry = _entries(token).filter(submission_id=key).first() if key else None
    if entry is None:
        return problem(
            404, "not-found", "Not found", "No ready submission with this id for this token."
        )
    return _json(
        submission_representation(entry, with_downloads=True, request=request, token=token)
    )


@functools.lru_cache(maxsize=1)
def _openapi_json() -> str:
    return json.dumps(yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8")), ensure_ascii=False)


def openapi_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.1 document of this API (public: it holds no data)."""
    return HttpResponse(_openapi_json(), content_type="application/json")
