"""The static files storage: hashed names from collectstatic's manifest, served by
WhiteNoise with a long immutable cache.

Before collectstatic has run (a fresh clone's test servers, the benchmarks' gunicorn), a
file missing from the manifest is named plainly instead of failing every page with a 500:
the page is still right, only its static URLs are not cache-busted. `make run` and every
deployment run collectstatic, so they get hashed names.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:  # not collected: neither in the manifest nor under STATIC_ROOT
            return name
