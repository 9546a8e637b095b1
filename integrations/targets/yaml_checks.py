"""Checks of values several integration types share (URLs, addresses)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from forms_engine.procedure_format.loader.checks import FileCheck
from forms_engine.procedure_format.yamlsource import Path as KeyPath


def https_url(c: FileCheck, value: Any, path: KeyPath) -> str | None:
    text = c.string(value, path, "env:NAME or an https:// URL")
    if text is None:
        return None
    if c.env_name(text, path):
        return text
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
