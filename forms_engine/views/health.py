"""Liveness and readiness probes, as container platforms expect them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz_live(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches nothing else (see forms_engine.health)."""
    return JsonResponse({"ok": True})


@never_cache
def healthz_ready(request: HttpRequest) -> HttpResponse:
    """Readiness (and /healthz): 503 naming the dependencies that did not answer."""
    from forms_engine import health

    failed = health.readiness_failures()
    return JsonResponse({"ok": not failed, "failed": failed}, status=503 if failed else 200)
