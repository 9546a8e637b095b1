"""Charts as inline SVG drawn on the server: no chart library and no JavaScript.

Each chart is a `<figure>`: the SVG carries `role="img"` and is labelled by its own
`<title>` and `<desc>` (the desc states the figures in words), and the same numbers
follow in a table inside `<details>` for anyone who wants to read or copy them. Colours are
the design system's; bars carry their value as text too, so nothing depends on colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

BAR = "#0017c1"  # --color-primitive-blue-900
BAR_ALT = "#9db7f9"  # --color-primitive-blue-300
INK = "#1a1a1a"
MUTED = "#666666"
RULE = "#cccccc"
# Segments of a share bar, in order; the pattern of light and dark keeps neighbours apart.
SEGMENTS = ("#0017c1", "#9db7f9", "#00118f", "#cccccc", "#4d4d4d", "#d9e6ff")


@dataclass(frozen=True)
class Point:
    label: str
    value: float
    # What the value says in words/with its unit ("12件", "3.5日"); the label of the table.
    text: str


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(chart_id: str, caption: str, head: tuple[str, str], points: Sequence[Point]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{_e(p.label)}</th><td class="num">{_e(p.text)}</td></tr>'
        for p in points
    )
    summary = _("Show the figures as a table")
    return (
        f'<details class="chart__data"><summary>{_e(summary)}</summary>'
        f'<table class="fee__table" id="{chart_id}-table"><caption>{_e(caption)}</caption>'
        f'<thead><tr><th scope="col">{_e(head[0])}</th><th scope="col" class="num">'
        f"{_e(head[1])}</th></tr></thead><tbody>{rows}</tbody></table></details>"
    )


def _figure(chart_id: str, title: str, desc: str, svg_body: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart__svg" id="{chart_id}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{_e(title)}</title>'
        f'<desc id="{chart_id}-desc">{_e(desc)}</desc>{svg_body}</svg>'
    )


def _describe(points: Sequence[Point], limit: int = 12) -> str:
    shown = "、".join(f"{p.label}: {p.text}" for p in points[:limit])
    if len(points) > limit:
        shown += " …"
    return shown or _("No data.")


def bar_chart(
    chart_id: str, title: str, points: Sequence[Point], head: tuple[str, str]
) -> SafeString:
    """Horizontal bars, one row per point (long labels such as procedure titles)."""
    width, label_w, row_h, top = 640, 240, 28, 8
    height = top * 2 + row_h * max(1, len(points))
    top_value = max((p.value for p in points), default=0) or 1
    span = width - label_w - 80
    body = []
    for i, p in enumerate(points):
        y = top + i * row_h
        w = max(0.0, p.value / top_value * span)
        label = p.label if len(p.label) <= 18 else p.label[:17] + "…"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" font-size="13" '
            f'fill="{INK}">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{BAR}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" font-size="13" fill="{INK}">'
            f"{_e(p.text)}</text>"
        )
    if not points:
        body.append(f'<text x="8" y="26" font-size="13" fill="{MUTED}">{_e(_("No data."))}</text>')
    svg = _figure(chart_id, title, _describe(points), "".join(body), width, height)
    return mark_safe(svg + _table(chart_id, title, head, points))  # noqa: S308 - escaped above


def column_chart(
    chart_id: str,
    title: str,
    points: Sequence[Point],
    head: tuple[str, str],
    label_every: int = 7,
) -> SafeString:
    """Vertical columns over time (one per day), with a label every `label_every` columns
    back from the last one, and the largest value on the axis."""
    width, height, left, bottom, top = 640, 220, 40, 28, 12
    n = max(1, len(points))
    step = (width - left - 8) / n
    top_value = max((p.value for p in points), default=0) or 1
    plot_h = height - top - bottom
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" '
        f'stroke="{RULE}"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" font-size="11" fill="{MUTED}">'
        f"{_e(_fmt(top_value))}</text>",
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="11" '
        f'fill="{MUTED}">0</text>',
    ]
    for i, p in enumerate(points):
        h = p.value / top_value * plot_h
        x = left + i * step
        body.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{height - bottom - h:.1f}" '
            f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="{BAR}"><title>{_e(p.label)}: '
            f"{_e(p.text)}</title></rect>"
        )
        # Counted from the last column, so today is always labelled and labels never meet.
        if (len(points) - 1 - i) % label_every == 0:
            body.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 8}" text-anchor="middle" '
                f'font-size="11" fill="{MUTED}">{_e(p.label)}</text>'
            )
    total = sum(p.value for p in points)
    desc = _("%(count)s in all over %(n)s days; the most in one day: %(top)s.") % {
        "count": _fmt(total),
        "n": len(points),
        "top": _fmt(max((p.value for p in points), default=0)),
    }
    svg = _figure(chart_id, title, desc, "".join(body), width, height)
    return mark_safe(svg + _table(chart_id, title, head, points))  # noqa: S308 - escaped above


def share_bar(
    chart_id: str, title: str, points: Sequence[Point], head: tuple[str, str]
) -> SafeString:
    """One bar split into the shares of a whole (100%), with a legend naming each share."""
    width = 640
    height = 52 + 22 * max(1, len(points))
    total = sum(p.value for p in points) or 1
    x = 0.0
    body = []
    for i, p in enumerate(points):
        w = p.value / total * width
        colour = SEGMENTS[i % len(SEGMENTS)]
        body.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="36" fill="{colour}" '
            f'stroke="#ffffff"/>'
        )
        x += w
        y = 48 + 22 * i
        body.append(
            f'<rect x="0" y="{y}" width="14" height="14" fill="{colour}" '
            f'stroke="{INK}" stroke-width="0.5"/>'
            f'<text x="22" y="{y + 12}" font-size="13" fill="{INK}">'
            f"{_e(p.label)}: {_e(p.text)}</text>"
        )
    if not points or not any(p.value for p in points):
        body = [f'<text x="8" y="26" font-size="13" fill="{MUTED}">{_e(_("No data."))}</text>']
    svg = _figure(chart_id, title, _describe(points), "".join(body), width, height)
    return mark_safe(svg + _table(chart_id, title, head, points))  # noqa: S308 - escaped above


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
