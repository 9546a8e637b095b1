"""Pages compressed by the service itself when no proxy in front does (`COMPRESS_RESPONSES`).

Django's GZipMiddleware, limited to text: HTML pages, JSON answers, CSV exports and the
other text/* responses are gzipped when the browser accepts it; PDFs, images, archives and
other binary downloads pass as they are (they hardly shrink, and a streamed one would lose
its Content-Length for nothing). Static files never come here compressed again: WhiteNoise,
above this middleware, answers them itself with the brotli/gzip files collectstatic made.

BREACH (a secret in a compressed page next to text an attacker chooses): Django's
GZipMiddleware adds up to 100 random bytes to every gzip header since Django 4.2 ("Heal
the Breach"), so the compressed length no longer tells a guessed byte; and the CSRF token
in a form is masked afresh for every response (django.middleware.csrf.get_token), so no
secret stays the same from one response to the next for an attacker to guess byte by
byte. The session and CSRF cookies travel in headers, which are not compressed. That
covers the CSRF token only: a staff page that shows a search term an attacker chose next
to residents' names, which do not change between responses, would still leak them a
byte at a time (the random bytes only make it cost more requests). So HTML under
COMPRESS_HTML_SKIP_PATHS (the staff pages and the admin) is never compressed; resident
pages reflect no free text of a request.
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.gzip import GZipMiddleware

# Content types worth compressing (the part before any ";").
COMPRESSIBLE_PREFIXES = ("text/",)
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/problem+json",
        "application/javascript",
        "application/xml",
        "application/xhtml+xml",
        "image/svg+xml",
    }
)


def compressible(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(COMPRESSIBLE_PREFIXES) or kind in COMPRESSIBLE_TYPES


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if not compressible(content_type):
            return response
        if content_type.startswith("text/html") and request.path.startswith(
            tuple(settings.COMPRESS_HTML_SKIP_PATHS)
        ):
            return response
        return super().process_response(request, response)
