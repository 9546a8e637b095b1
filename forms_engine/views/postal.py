"""Postal code look-up for the browser (the address is filled by fetch)."""

from __future__ import annotations

import functools

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from forms_engine import normalize, postal


def body_capped(max_bytes: int):
    """Refuse a request whose body is larger than `max_bytes` with 413, before anything
    reads it. CSRF protection would read and parse a POST body before any view
    decorator runs, so the wrapped view is exempt from the middleware and checks CSRF
    itself (`csrf_protect`) once the size is known to be small."""

    def decorator(view_func):
        protected = csrf_protect(view_func)

        @csrf_exempt
        @functools.wraps(view_func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = max_bytes + 1
            if length > max_bytes:
                return JsonResponse({"error": "too_large"}, status=413)
            return protected(request, *args, **kwargs)

        return wrapper

    return decorator


# A postal code (and a CSRF token, when sent in the body) fits many times over.
POSTAL_BODY_MAX_BYTES = 1024


@body_capped(POSTAL_BODY_MAX_BYTES)
@require_POST
def postal_lookup(request: HttpRequest) -> JsonResponse:
    """Postal code -> address candidates for the JavaScript enhancement (POST: a postal code
    is part of an address and stays out of URLs and logs)."""
    from forms_engine.ratelimit import hit

    if not hit(request, "postal"):
        return JsonResponse({"error": "rate_limited"}, status=429)
    try:
        code = normalize.normalize_postal_code(request.POST.get("code", ""))
    except normalize.Invalid:
        return JsonResponse({"results": [], "error": "invalid"}, status=400)
    return JsonResponse({"results": postal.lookup(code)})
