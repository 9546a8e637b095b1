"""Server errors: a database or cache outage answers a translated 503, anything else 500;
and a request too large to read answers a translated 413."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Seconds a resident (or a crawler) is asked to wait after an outage page.
UNAVAILABLE_RETRY_AFTER = 60


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a body past DATA_UPLOAD_MAX_MEMORY_SIZE (or with too many fields) is a
    413 page in the resident's language that says what to do; anything else stays
    Django's 400."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
    from django.shortcuts import render
    from django.utils.translation import gettext as _
    from django.views import defaults

    if not isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
        return defaults.bad_request(request, exception)
    response = render(
        request,
        "forms_engine/error.html",
        {
            "title": _("What you sent is too large"),
            "message": _(
                "The page you sent holds more text than an application can take "
                "(at most %(max)s characters in all), so it was not read. Go back, shorten "
                "what you entered and send it again."
            )
            % {"max": f"{settings.DRAFT_TEXT_MAX_CHARS:,}"},
        },
        status=413,
    )
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """handler500: an outage of the database (or of the cache the sessions are read
    through) is a 503 page in the resident's language with Retry-After; anything else
    stays Django's 500. Called while the exception is being handled."""
    import sys

    from django.views import defaults

    if _is_outage(sys.exc_info()[1]):
        return service_unavailable(request)
    return defaults.server_error(request, *args, **kwargs)


def _is_outage(exc: BaseException | None) -> bool:
    from django.db import InterfaceError, OperationalError

    outages: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis comes with celery[redis]
        pass
    else:
        outages += (RedisConnectionError, RedisTimeoutError)
    seen = 0
    while exc is not None and seen < 10:  # follow `raise ... from` and implicit chains
        if isinstance(exc, outages):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 page. Rendered without a request context (no context processor, session
    or database), in the language the resident chose with the switch."""
    from django.template import loader
    from django.utils import translation

    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language):
        body = loader.get_template("503.html").render({})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response
