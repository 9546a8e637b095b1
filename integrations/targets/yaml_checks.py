"""Checks of values several integration types share (URLs, addresses)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from forms_engine.procedure_format.yamlsource import Path as KeyPath

if TYPE_CHECKING:
    from forms_engine.procedure_format.loader.pages import ProcedureCheck


def literal_refused(p: ProcedureCheck, path: KeyPath, what: str) -> bool:
    """In a file from the console (untrusted), a literal `what` is refused: it must be an
    `env:ORG_<SLUG>_*` reference the operator sets. True when refused (error reported)."""
    if not p.untrusted:
        return False
    prefix = p.trust.env_prefix or "ORG_"
    p.c.error(
        path,
        f"a procedure published from the console may not name a literal {what}: write "
        f"env:{prefix}NAME and ask the operator to set it",
    )
    return True


def https_url(p: ProcedureCheck, value: Any, path: KeyPath) -> str | None:
    c = p.c
    text = c.string(value, path, "env:NAME or an https:// URL")
    if text is None:
        return None
    if p.env_reference(text, path):
        return text
    if literal_refused(p, path, "URL"):
        return None
    parts = urlsplit(text)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "https" and parts.hostname:
        pass
    elif parts.scheme == "http" and local:
        pass
    elif parts.scheme == "http" and parts.hostname:
        c.error(path, "must use https:// (http:// only for localhost)")
        return None
    else:
        c.error(path, f"{text!r} must be env:NAME or an https:// URL")
        return None
    if parts.password:
        c.error(path, "secrets must come from the environment: write env:NAME")
        return None
    return text
