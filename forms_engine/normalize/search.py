"""Search keys for people's names: what is stored for the staff inbox's name search and
what a typed query becomes, so that kanji, katakana and hiragana searches all match."""

from __future__ import annotations

import re
import unicodedata

from .kana import to_katakana

# Spaces of every width and the middle dot separate parts of a name; they are not part of it.
_SEPARATORS = re.compile(r"[\s\u3000\u30fb\uff65・]+")
NAME_SEARCH_MAX_LENGTH = 100


def name_search_key(text: str) -> str:
    """One name (kanji as typed or a reading in any kana) as its search key: kana in
    katakana, full width; compatibility ideographs folded into their unified twins (a
    search for 神 finds 神: the stored answer itself is never changed); no separators."""
    text = (text or "")[: NAME_SEARCH_MAX_LENGTH * 4]
    text = to_katakana(unicodedata.normalize("NFKC", text))
    return _SEPARATORS.sub("", text).casefold()[:NAME_SEARCH_MAX_LENGTH]


def name_search_text(names: list[dict[str, str]]) -> str:
    """The search column of a submission from its name answers ({family, given,
    kana_family, kana_given}): the full name and its reading, each as one key,
    separated by spaces (a query, which holds none, never spans two keys)."""
    keys: list[str] = []
    for name in names:
        for parts in (("family", "given"), ("kana_family", "kana_given")):
            key = name_search_key("".join(str(name.get(p) or "") for p in parts))
            if key and key not in keys:
                keys.append(key)
    return " ".join(keys)[:1000]
