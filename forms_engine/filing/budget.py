"""The text a filing may hold, in all: every field has its own limit, but a group of a
hundred long textareas would still let one draft hold megabytes, and every save, autosave
and view of the confirmation page normalises and validates all of it again. The budget
(settings.DRAFT_TEXT_MAX_CHARS) bounds that work; it is counted on the raw input, before
any normaliser reads it, with `len` only.

A page counts once: the larger of its saved answers and the typing kept for it
(Draft.pending), since the typing kept on Back or "save for later" replaces the answers
when the page is shown again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .steps import FilingView


def text_size(value: Any) -> int:
    """Characters of text in a posted or stored value (strings in lists and dicts, keys
    too); files, numbers and booleans count nothing."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(len(k) + text_size(v) for k, v in value.items() if isinstance(k, str))
    if isinstance(value, list):
        return sum(text_size(v) for v in value)
    return 0


def page_text_sizes(view: FilingView, pending: Mapping[str, Any]) -> dict[str, int]:
    """Step key -> the text the draft holds for that page. Answers of fields no page asks
    any more, and typing kept for pages that are gone, count under their own keys."""
    sizes: dict[str, int] = {}
    for position, spec in enumerate(view.specs):
        answers = dict(view.answers.get(str(position)) or {})
        for page in spec.pages:
            key = f"{position}.{page.id}"
            saved = sum(text_size(answers.pop(f.id, None)) for f in page.fields)
            sizes[key] = max(saved, text_size(pending.get(key)))
        if answers:
            sizes[f"{position}."] = text_size(answers)
    for key, raw in pending.items():
        sizes.setdefault(key, text_size(raw))
    return sizes
