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

    if not isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
        return error_page(
            request,
            400,
            _("The request could not be read"),
            _(
                "What your browser sent could not be read. Go back to the previous page "
                "and try again, or start again from the list of procedures."
            ),
        )
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

    if _is_outage(sys.exc_info()[1]):
        return service_unavailable(request)
    return _standalone(request, "500.html", 500)


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
    response = _standalone(request, "503.html", 503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response


def _standalone(request: HttpRequest, template: str, status: int) -> HttpResponse:
    """A page that needs nothing that may be broken (no request context, session or
    database), in the resident's language (the cookie or `?lang=`)."""
    from django.template import loader
    from django.utils import translation

    languages = dict(settings.LANGUAGES)
    asked = request.GET.get("lang", "")
    chosen = asked if asked in languages else request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    language = chosen if chosen in languages else settings.LANGUAGE_CODE
    with translation.override(language):
        body = loader.get_template(template).render({"site_contact": settings.SITE_CONTACT})
    response = HttpResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


def error_page(
    request: HttpRequest, status: int, title: str, message: str, **extra: object
) -> HttpResponse:
    """An error page in the service's look and the resident's language: what happened,
    what to do next, the office's contact and a way back."""
    from django.shortcuts import render

    response = render(
        request,
        "forms_engine/error.html",
        {"title": title, "message": message, "status": status, **extra},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403."""
    from django.utils.translation import gettext as _

    return error_page(
        request,
        403,
        _("You cannot open this page"),
        _(
            "This page is not open to you. If you followed a link from a mail, sign in "
            "first, or open the link in the browser you used to file."
        ),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404. A draft page this browser may not open (its session ended, the cookies
    were cleared) says how to continue the filing."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from .common import DraftNotFound

    if isinstance(exception, DraftNotFound):
        return error_page(
            request,
            404,
            _("This application cannot be opened here"),
            _(
                "This browser no longer holds the application in progress (the session "
                "ended or the cookies were cleared). What you saved is kept: open the "
                "resume link from the mail you received when you saved, or sign in to "
                "see it on My page."
            ),
            links=[
                (reverse("login"), _("Sign in")),
                (reverse("status"), _("Check the status of an application")),
            ],
        )
    return error_page(
        request,
        404,
        _("Page not found"),
        _(
            "The page you asked for does not exist. The address may be mistyped, or the "
            "page was removed. Start again from the list of procedures."
        ),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent without its security check (cookies blocked or
    cleared, or the page was open too long)."""
    from django.utils.translation import gettext as _

    back = request.path if request.method == "POST" else ""
    return error_page(
        request,
        403,
        _("The page could not be sent"),
        _(
            "Your browser did not send the check this service needs, usually because "
            "cookies are blocked or were cleared, or the page was open for a long time. "
            "Allow cookies for this site, open the page again and send it once more. "
            "What you saved before is kept."
        ),
        back_url=back,
    )
