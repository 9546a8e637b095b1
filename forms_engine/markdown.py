"""The small Markdown subset of `description`, `help` and `content`: paragraphs, lists,
links and bold. Everything is escaped first, so a procedure file cannot inject HTML."""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+|mailto:[^\s)]+|/[^\s)]*)\)")
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
        ordered = None if bullet else _ORDERED.match(line)
        if not line.strip():
            flush_paragraph()
            flush_list()
        elif bullet or ordered:
            flush_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag and list_tag != tag:
                flush_list()
            list_tag = tag
            items.append("<li>" + _inline(line[(bullet or ordered).end() :]) + "</li>")
        else:
            flush_list()
            paragraph.append(line.strip())
    flush_paragraph()
    flush_list()
    return "".join(blocks)
