"""The static files storage: hashed names from collectstatic's manifest, served by
WhiteNoise with a long immutable cache.

Before collectstatic has run (a fresh clone's test servers, the benchmarks' gunicorn), a
file missing from the manifest is named plainly instead of failing every page with a 500:
the page is still right, only its static URLs are not cache-busted. `make run` and every
deployment run collectstatic, so they get hashed names.

A name's URL is worked out once per process (it is fixed once the manifest is read at
start): a page asks for four or five of them, and each look-up otherwise goes through
URL parsing, quoting and, before collectstatic, a file-system probe.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]

# Enough for every static file the templates name; past it URLs are not remembered.
URL_MEMO_SIZE = 1000


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple[str, bool, bool, str], str] = {}

    def url(self, name: str, force: bool = False) -> str:
        # What the URL depends on besides the name and the manifest read at start.
        key = (name, force, settings.DEBUG, self.base_url)
        url = self._urls.get(key)
        if url is None:
            url = str(super().url(name, force))
            if len(self._urls) < URL_MEMO_SIZE:
                self._urls[key] = url
        return url

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:  # not collected: neither in the manifest nor under STATIC_ROOT
            return name
