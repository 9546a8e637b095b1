"""The small Markdown subset of `description`, `help` and `content`: paragraphs, lists,
links and bold. Everything is escaped first, so a procedure file cannot inject HTML."""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

# A link goes to an https site, a mail address, a phone number or a page of this site.
# Everything else stays text: `//host` and `/\host` (browsers read a backslash as a slash)
# lead to another site, `http:` is not encrypted, and any other scheme may run script.
# Browsers drop tabs and newlines inside a URL, so no whitespace or control character is
# taken anywhere in a target (the text was HTML-escaped first, so `&#9;` stays literal).
_URL_CHAR = r"[^\s)\x00-\x1f\x7f]"
_TARGET = (
    rf"https://(?![/\\]){_URL_CHAR}+"  # a host right after https://
    rf"|mailto:{_URL_CHAR}+"
    rf"|tel:{_URL_CHAR}+"
    rf"|/(?![/\\]){_URL_CHAR}*"  # one slash, then a path on this site
)
_LINK = re.compile(rf"\[([^\]\n]+)\]\(({_TARGET})\)")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_BULLET = re.compile(r"^\s*[-*・]\s+")
_ORDERED = re.compile(r"^\s*\d+[.)]\s+")


def _inline(text: str) -> str:
    out = escape(text, quote=True)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _LINK.sub(r'<a href="\2">\1</a>', out)


@lru_cache(maxsize=2048)
def render(text: str) -> str:
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_tag
        if items:
            blocks.append(f"<{list_tag}>" + "".join(items) + f"</{list_tag}>")
            items.clear()
        list_tag = ""

    for raw in text.strip().splitlines():
        line = raw.rstrip()
        bullet = _BULLET.match(line)
        marker = bullet or _ORDERED.match(line)
        if not line.strip():
            flush_paragraph()
            flush_list()
        elif marker:
            flush_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag and list_tag != tag:
                flush_list()
            list_tag = tag
            items.append("<li>" + _inline(line[marker.end() :]) + "</li>")
        else:
            flush_list()
            paragraph.append(line.strip())
    flush_paragraph()
    flush_list()
    return "".join(blocks)
