"""Kana: readings (フリガナ) in full-width katakana, whatever the writer typed."""

from __future__ import annotations

import re

import jaconv

from .invalid import Invalid, as_text
from .text import normalize_text, voice

_KATAKANA_RE = re.compile("[\u30a1-\u30fe\u31f0-\u31ff ]*")
# A spacing voiced mark after a kana: the combining mark it stands for.
_SPACING_VOICED = {"\u309b": "\u3099", "\u309c": "\u309a"}
_SPACING_VOICED_AFTER = re.compile("([^\u309b\u309c]?)([\u309b\u309c])", re.S)


def to_katakana(s: str) -> str:
    """Hiragana to katakana after `normalize_text` (which already widens half-width kana).

    A spacing ゛/゜ written after a kana is combined with it (か゛ -> ガ) when such a
    character exists; the iteration marks ゝゞ become ヽヾ.
    """
    text = jaconv.hira2kata(normalize_text(s))
    if "\u309b" in text or "\u309c" in text:
        marks = {k: (v, k) for k, v in _SPACING_VOICED.items()}
        text = _SPACING_VOICED_AFTER.sub(lambda m: voice(m, marks), text)
    return text


def validate_katakana(s: str) -> str:
    """`to_katakana`, then only full-width katakana, ー, ・, ヽヾ and spaces may remain."""
    text = to_katakana(as_text(s, "kana_only"))
    if not _KATAKANA_RE.fullmatch(text):
        raise Invalid("kana_only")
    return text
