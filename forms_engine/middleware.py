"""Content-Security-Policy on every response (Django 5.2 has no built-in CSP)."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


def csp() -> str:
    """The policy; with direct upload, the browser may also send to the object store's
    origin (presigned part URLs), and only there."""
    from forms_engine import storage

    origin = storage.direct_upload_origin()
    if not origin:
        return CSP
    return CSP.replace("connect-src 'self'", f"connect-src 'self' {origin}")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", csp())
        return response


def chosen_language(request) -> str:
    """The language LanguageMiddleware gives this request (`?lang=`, else the switch's
    cookie, else Japanese), for what answers before it runs."""
    from django.conf import settings

    languages = dict(settings.LANGUAGES)
    asked = request.GET.get("lang", "") if request.META.get("QUERY_STRING") else ""
    chosen = asked if isinstance(asked, str) and asked in languages else ""
    chosen = chosen or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return chosen if chosen in languages else settings.LANGUAGE_CODE


class LanguageMiddleware:
    """Japanese unless the resident chose another language with the visible switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language; the service is
    Japanese first, so only the switch's cookie changes the language, or a link carrying
    `?lang=en` (so that a link into the English site can be shared), which also sets the
    cookie so the language sticks on the next pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        languages = dict(settings.LANGUAGES)
        asked = request.GET.get("lang", "")
        asked = asked if isinstance(asked, str) and asked in languages else ""
        chosen = asked or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in languages else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if asked and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != asked:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                asked,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        response.headers.setdefault("Content-Language", language)
        from django.utils.cache import patch_vary_headers

        patch_vary_headers(response, ("Cookie",))
        return response


class EmbeddedKeyLoopbackOnlyMiddleware:
    """While the embedded default SECRET_KEY (public: it is in config/settings.py) is in
    use, answer loopback clients only. Whoever knows the key can forge what it signs and
    compute status codes, so a site reachable from other machines with it would be open
    whatever EMBEDDED says. Addresses a proxy forwarded count too: a proxy on this machine
    passing on outside requests makes REMOTE_ADDR loopback."""

    FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        keys = (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
        if settings.EMBEDDED_SECRET_KEY in keys and not all(
            _is_loopback(a) for a in self._addresses(request)
        ):
            return self._refusal(request)
        return self.get_response(request)

    def _addresses(self, request):
        yield request.META.get("REMOTE_ADDR", "")
        for header in self.FORWARDED_HEADERS:
            value = request.META.get(header)
            if not value:
                continue
            for part in value.split(","):
                if header == "HTTP_FORWARDED":
                    # RFC 7239: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"
                    pairs = (p.strip().split("=", 1) for p in part.split(";"))
                    for name, *rest in pairs:
                        if name.strip().lower() == "for" and rest:
                            yield rest[0]
                else:
                    yield part

    @staticmethod
    def _refusal(request):
        from django.http import HttpResponseForbidden
        from django.utils import translation
        from django.utils.translation import gettext as _

        # Above LanguageMiddleware (it refuses before anything answers): its language.
        with translation.override(chosen_language(request)):
            return HttpResponseForbidden(
                _(
                    "This server runs with the embedded default secret key, which is public. "
                    "It answers only on this computer (127.0.0.1). To serve other addresses, "
                    "set SECRET_KEY (and EMBEDDED=0)."
                ),
                content_type="text/plain; charset=utf-8",
            )


def _is_loopback(text: str) -> bool:
    """127.0.0.0/8, ::1 or an IPv4-mapped loopback, with or without a port or brackets;
    anything unreadable ("unknown", an obfuscated name) is not."""
    import ipaddress

    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


#: The resident's session epoch this session was signed in at (see Resident.session_epoch).
SESSION_RESIDENT_EPOCH = "resident_epoch"


class ResidentSessionMiddleware:
    """Ends a resident's session that was signed in before their last "sign out
    everywhere" (or whose resident is gone): the session is flushed on its next request,
    so its filings, sign-in and status grants all stop working. After SessionMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        resident_id = session.get("resident") if session is not None else None
        if resident_id:
            from forms_engine.models import Resident  # noqa: PLC0415 - app registry

            epoch = (
                Resident.objects.filter(pk=resident_id)
                .values_list("session_epoch", flat=True)
                .first()
            )
            if epoch is None or epoch != session.get(SESSION_RESIDENT_EPOCH, 0):
                session.flush()
        return self.get_response(request)
