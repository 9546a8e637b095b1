"""System checks: the procedures directory loads without errors; and, for `check --deploy`,
what must never reach production (the public embedded key, developer mode, a per-process
cache). Deploy checks run only for deployments, so they judge the settings as they are,
not what EMBEDDED says about them: `make run` and the plain `check` never run them."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register()
def check_procedures(app_configs, **kwargs):
    from .procedure_format.loader import load_tree

    root = settings.PROCEDURES_DIR
    if not root.exists():
        return [Error(f"PROCEDURES_DIR {root} does not exist", id="forms_engine.E001")]
    tree = load_tree(root)  # every registered integration type
    # A warning, not an error: a broken file never replaces the live version, so the
    # service keeps serving the procedures that loaded (`manage.py check --fail-level
    # WARNING` or `validate_procedures` gate a deployment).
    return [
        Warning(str(e), hint="fix the file; its live version stays", id="forms_engine.W002")
        for e in tree.errors
    ]


@register(Tags.security, deploy=True)
def check_embedded_secret_key(app_configs, **kwargs):
    # An error whatever EMBEDDED says: the key is public, so whoever reaches the site can
    # forge what it signs and compute every status code.
    if settings.EMBEDDED_SECRET_KEY in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        return [
            Error(
                "The embedded default SECRET_KEY is in use; it is public.",
                hint="Set SECRET_KEY (and EMBEDDED=0) to a long random value of your own, "
                "and keep the embedded key out of SECRET_KEY_FALLBACKS. Until then the site "
                "answers loopback addresses only.",
                id="forms_engine.E010",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_embedded_mode(app_configs, **kwargs):
    # EMBEDDED defaults to true so that `make run` needs nothing set; a deployment that
    # forgets it gets developer mode with a real key: no HTTPS settings (redirect, secure
    # cookies, HSTS), the demo administrator allowed, and no shared cache demanded.
    if settings.EMBEDDED:
        return [
            Error(
                "EMBEDDED is on (its default): developer mode in a deployment.",
                hint="Set EMBEDDED=0 in the deployment's environment.",
                id="forms_engine.E012",
            )
        ]
    return []


# Caches that each process keeps to itself (or that keep nothing).
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    # Rate limits count in the cache and sessions are read through it: with one cache per
    # worker each worker counts on its own (five workers allow five times the limit), and a
    # worker may still serve a session another one ended at logout.
    # Whatever EMBEDDED says: a deployment that left EMBEDDED on runs several workers all
    # the same (see check_embedded_mode).
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        return [
            Error(
                f"The default cache ({backend.rsplit('.', 1)[-1]}) is not shared between "
                "processes.",
                hint="Set CACHE_URL to a cache every worker shares, e.g. redis://127.0.0.1:6379/1.",
                id="forms_engine.E011",
            )
        ]
    return []


@register()
def check_clamd_address(app_configs, **kwargs):
    from .scanning import clamd_address_parse

    if not settings.CLAMD_ADDRESS:
        return []
    try:
        clamd_address_parse(settings.CLAMD_ADDRESS)
    except ValueError as exc:
        return [
            Error(
                str(exc),
                hint="e.g. tcp://127.0.0.1:3310 or /run/clamav/clamd.ctl",
                id="forms_engine.E014",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_clamd_configured(app_configs, **kwargs):
    # Allowed (uploads are then marked "not scanned", openly, for residents and staff), but
    # an operator should decide it knowingly.
    if not settings.EMBEDDED and not settings.CLAMD_ADDRESS:
        return [
            Warning(
                "CLAMD_ADDRESS is not set: uploaded files are delivered without a malware "
                "scan (marked 'not scanned').",
                hint="Run clamd and set CLAMD_ADDRESS (see 'Malware scanning' in README.md).",
                id="forms_engine.W013",
            )
        ]
    return []
