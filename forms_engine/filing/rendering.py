"""HTML of a page's fields and of the confirmation rows, built as strings (a 40-field
page stays cheap; see docs/performance.md)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from html import escape
from typing import Any

from django.utils.translation import ngettext

from forms_engine import markdown
from forms_engine.fields import FIELD_TYPES, Ctx, _, esc, in_language, text_of
from forms_engine.fields.base import ENTRY_LABEL, conditional_rendering
from forms_engine.procedure_format.model import FieldSpec

from .conditions import condition_json, holds
from .pages import field_name
from .steps import FilingView, Step


@in_language
def render_fields(
    view: FilingView,
    step: Step,
    raw: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    ctx: Ctx,
) -> str:
    """HTML of every field of a page. Conditions that depend only on other pages are
    decided here; those that depend on this page are sent to the browser as
    `data-show-if` (the field stays visible without JavaScript, and the server drops
    the answer if the condition is false when the page is posted)."""
    position = step.position
    spec = view.specs[position]
    env = view.env(position)
    page_ids = {f.id for f in step.page.fields}
    out = []
    for f in step.page.fields:
        if view.shared_source(position, f) is not None:
            continue
        name = field_name(f)
        cond = f.show_if
        if cond is not None and not (cond.names & page_ids):
            if not holds(cond, env, ctx.today):
                continue
            cond = None
        with conditional_rendering() if cond is not None else nullcontext():
            if f.type == "group":
                html = render_group(f, raw.get(f.id) or [], name, errors, ctx, env, page_ids)
            else:
                html = FIELD_TYPES[f.type].render(f, raw.get(f.id), name, errors, ctx)
        if cond is not None:
            html = (
                f'<div class="conditional" data-show-if="{escape(condition_json(cond))}">'
                f"{_condition_note(step, cond, ctx)}{html}</div>"
            )
        out.append(html)
    del spec
    return "".join(out)


def _condition_note(step: Step, cond: Any, ctx: Ctx) -> str:
    """Without JavaScript a conditional field is always shown: say what it depends on.
    (The script hides the note, since it shows and hides the field itself.)"""
    labels = [
        text_of(f.label, ctx.lang) for f in step.page.fields if f.id in cond.names and f.label
    ]
    if not labels:
        return ""
    quoted = (
        "、".join(f"「{label}」" for label in labels)
        if ctx.lang == "ja"
        else ", ".join(f"“{label}”" for label in labels)
    )
    note = _("Only if it applies, depending on your answer to %(questions)s.") % {
        "questions": quoted
    }
    return f'<p class="conditional__note">{esc(note)}</p>'


def render_group(
    f: FieldSpec,
    entries: list,
    name: str,
    errors: Mapping,
    ctx: Ctx,
    env: Mapping[str, Any] | None = None,
    page_ids: frozenset[str] | set[str] = frozenset(),
) -> str:
    lo = f.param("repeat_min", 0)
    hi = f.param("repeat_max", 10)
    label = text_of(f.label, ctx.lang)
    count = len(entries)
    parts = [f'<input type="hidden" name="{name}-count" value="{count}">']
    child_ids = {c.id for c in f.fields}
    for i, entry in enumerate(entries):
        inner = []
        for c in f.fields:
            cname = f"{name}-{i}-{c.id}"
            if c.show_if is not None and not (c.show_if.names & (child_ids | page_ids)):
                # Decided by other pages' answers: the server settles it here.
                if not holds(c.show_if, env or {}, ctx.today):
                    continue
            local = c.show_if is not None and bool(c.show_if.names & (child_ids | page_ids))
            token = ENTRY_LABEL.set(f"{label} {i + 1}")
            try:
                with conditional_rendering() if local else nullcontext():
                    html = FIELD_TYPES[c.type].render(
                        c, (entry or {}).get(c.id), cname, errors, ctx
                    )
            finally:
                ENTRY_LABEL.reset(token)
            if local:
                html = (
                    f'<div class="conditional" data-scope="{name}-{i}" '
                    f'data-show-if="{escape(condition_json(c.show_if))}">{html}</div>'
                )
            inner.append(html)
        remove = ""
        if count > lo:
            remove_text = _("Remove")
            remove = (
                f'<button class="button button--text" type="submit" name="_action" '
                f'value="remove:{name}:{i}" formnovalidate>{esc(remove_text)}'
                f'<span class="visually-hidden"> {esc(label)} {i + 1}</span></button>'
            )
        parts.append(
            f'<fieldset class="group__entry" id="{name}-{i}">'
            f'<legend class="group__legend">{esc(label)} {i + 1}</legend>{"".join(inner)}'
            f"{remove}</fieldset>"
        )
    if count < hi:
        add = f.param("add_label")
        add_text = add.get(ctx.lang) if add else _("Add another")
        parts.append(
            f'<button class="button button--secondary" type="submit" name="_action" '
            f'value="add:{name}" formnovalidate>＋ {esc(add_text)}</button>'
        )
    own = errors.get(name, [])
    err = ""
    if own:
        err = (
            f'<p class="field__error" id="{name}-error"><span class="visually-hidden">'
            f"{esc(_('Error:'))} </span>{'<br>'.join(esc(m) for m in own)}</p>"
        )
    help_html = ""
    if f.help is not None:
        help_html = f'<div class="field__help">{markdown.render(f.help.get(ctx.lang))}</div>'
    hint = ""
    if hi:
        up_to = ngettext("Up to %(n)s entry.", "Up to %(n)s entries.", hi) % {"n": hi}
        hint = f'<p class="field__help">{esc(up_to)}</p>'
    cls = "field field--group group" + (" field--error" if own else "")
    return (
        f'<fieldset class="{cls}" id="{name}-field"><legend class="field__label">{esc(label)}</legend>'
        f"{help_html}{hint}{err}{''.join(parts)}</fieldset>"
    )


@in_language
def display_rows(view: FilingView, position: int, ctx: Ctx) -> list[dict[str, Any]]:
    """Confirmation rows per visible page: [{step, title, rows: [(label, html, anchor)]}]."""
    spec = view.specs[position]
    answers = view.visible_answers(position)
    env = view.env(position)
    pages = []
    for page in spec.pages:
        if not holds(page.show_if, env, view.today):
            continue
        rows = []
        for f in page.fields:
            if f.type == "static" or not holds(f.show_if, env, view.today):
                continue
            if view.shared_source(position, f) is not None:
                continue
            value = answers.get(f.id)
            if f.type == "group":
                html = display_group(f, value or [], ctx)
            else:
                html = FIELD_TYPES[f.type].display(f, value, ctx)
            rows.append((text_of(f.label, ctx.lang), html, f"{field_name(f)}-field"))
        if rows:
            pages.append(
                {"step": Step(position, page), "title": page.title.get(ctx.lang), "rows": rows}
            )
    return pages


def display_group(f: FieldSpec, entries: list, ctx: Ctx) -> str:
    if not entries:
        none = _("None")
        return f'<span class="muted">{esc(none)}</span>'
    label = text_of(f.label, ctx.lang)
    out = []
    for i, entry in enumerate(entries):
        rows = "".join(
            f"<dt>{esc(text_of(c.label, ctx.lang))}</dt><dd>{FIELD_TYPES[c.type].display(c, entry.get(c.id), ctx)}</dd>"
            for c in f.fields
            if c.type != "static" and c.id in entry
        )
        out.append(
            f'<div class="group-display"><p class="group-display__title">{esc(label)} {i + 1}</p><dl>{rows}</dl></div>'
        )
    return "".join(out)
