"""The site's URLs plus one that fails in each way, for the error page tests: the real
handlers (config.urls' handler400/403/404/500 and CSRF_FAILURE_VIEW) answer them."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as site_urlpatterns
from forms_engine.ratelimit import limited_response


def fail(request, kind: str):
    if kind == "400":
        raise SuspiciousOperation("test")
    if kind == "403":
        raise PermissionDenied
    if kind == "429":
        return limited_response(request, "postal")
    if kind == "503":
        raise OperationalError("database down (test)")
    raise RuntimeError("test")


urlpatterns = [path("_fail/<str:kind>/", fail), *site_urlpatterns]
