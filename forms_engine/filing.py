"""A filing in progress as the resident sees it: its steps (visible pages of each pinned
procedure version), what each page shows, and how a posted page is validated.

Pure logic over specs and answer dicts; the database is touched by forms_engine.services.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from typing import Any

from django.utils.translation import ngettext

from .fields import FIELD_TYPES, Ctx, FieldInvalid, _, esc, in_language, text_of
from .procedure_format import expr
from .procedure_format.model import FieldSpec, PageSpec, ProcedureSpec


@dataclass(frozen=True)
class Step:
    position: int  # index of the procedure in the filing
    page: PageSpec

    @property
    def key(self) -> str:
        return f"{self.position}.{self.page.id}"


def _to_eval(f: FieldSpec, value: Any) -> Any:
    # Dates stay ISO text: the expression language orders them as text, as the browser does.
    if value is None:
        return None
    if f.type == "group" and isinstance(value, list):
        return [
            {c.id: _to_eval(c, (e or {}).get(c.id)) for c in f.fields}
            for e in value
            if isinstance(e, dict)
        ]
    return value


def eval_env(
    spec: ProcedureSpec, answers: Mapping[str, Any], today: dt.date | None = None
) -> dict[str, Any]:
    """The answers conditions see: those of visible fields on visible pages only, so a
    field hidden by another answer counts as null everywhere, even if an old answer to it
    is still stored (the resident went back and changed their mind).

    Pages are decided in order (a page condition names earlier pages only); within a
    page, field conditions may name each other, so their visibility is settled to a fixed
    point (the loader refuses circles)."""
    env: dict[str, Any] = {}
    for page in spec.pages:
        if not holds(page.show_if, env, today):
            continue
        values = {f.id: _to_eval(f, answers[f.id]) for f in page.fields if f.id in answers}
        hidden = hidden_among(page.fields, values, env, today)
        env.update({k: v for k, v in values.items() if k not in hidden})
    return env


def hidden_among(
    fields: tuple[FieldSpec, ...] | list[FieldSpec],
    values: Mapping[str, Any],
    base: Mapping[str, Any],
    today: dt.date | None = None,
) -> set[str]:
    """Ids of the answered fields (of one page, or one group entry) that their conditions
    hide, settled to a fixed point: a field hidden by a sibling no longer counts for the
    siblings after it (the loader refuses circles)."""
    conditional = [f for f in fields if f.show_if is not None and f.id in values]
    hidden: set[str] = set()
    for _round in range(len(conditional) + 1):
        trial = {**base, **{k: v for k, v in values.items() if k not in hidden}}
        now = {f.id for f in conditional if not holds(f.show_if, trial, today)}
        if now == hidden:
            break
        hidden = now
    return hidden


def entry_env(
    group: FieldSpec, values: Mapping[str, Any], env: Mapping[str, Any], today=None
) -> dict[str, Any]:
    """What conditions inside one group entry see: the page's answers and the entry's
    visible answers."""
    hidden = hidden_among(group.fields, values, env, today)
    return {**env, **{k: v for k, v in values.items() if k not in hidden}}


def holds(condition: Any, env: Mapping[str, Any], today: dt.date | None = None) -> bool:
    if condition is None:
        return True
    return expr.truthy(expr.evaluate(condition, env, today))


@lru_cache(maxsize=4096)
def condition_json(condition: Any) -> str:
    return json.dumps(condition.to_json(), ensure_ascii=False, separators=(",", ":"))


@dataclass
class FilingView:
    """The pinned specs of one draft with its answers."""

    specs: list[ProcedureSpec]
    answers: dict[str, dict[str, Any]]  # position (str) -> field id -> value
    today: dt.date = field(default_factory=dt.date.today)

    def answers_of(self, position: int) -> dict[str, Any]:
        return self.answers.setdefault(str(position), {})

    def env(self, position: int) -> dict[str, Any]:
        return eval_env(self.specs[position], self.answers_of(position), self.today)

    # ---- steps -------------------------------------------------------------------------
    def steps(self) -> list[Step]:
        out = []
        for position, spec in enumerate(self.specs):
            env = self.env(position)
            for page in spec.pages:
                if holds(page.show_if, env, self.today) and self._asks_something(position, page):
                    out.append(Step(position, page))
        return out

    def _asks_something(self, position: int, page: PageSpec) -> bool:
        """False for a page of a bundle whose every question was asked by an earlier
        procedure: it is skipped rather than shown empty."""
        if position == 0:
            return True
        return any(
            f.type != "static" and self.shared_source(position, f) is None for f in page.fields
        )

    def step(self, position: int, page_id: str) -> Step | None:
        if not 0 <= position < len(self.specs):
            return None
        for page in self.specs[position].pages:
            if page.id == page_id:
                return Step(position, page)
        return None

    # ---- once-only across a bundle -----------------------------------------------------
    def profile_twin(self, position: int, f: FieldSpec) -> tuple[int, FieldSpec] | None:
        """The field of an earlier procedure of the filing that asks the same profile key
        (same type, on a visible page, itself visible): the nearest one that has an answer,
        else the nearest one; None if there is none."""
        if not f.profile or position == 0:
            return None
        unanswered = None
        for earlier in reversed(range(position)):
            spec = self.specs[earlier]
            env = self.env(earlier)
            for page in spec.pages:
                if not holds(page.show_if, env, self.today):
                    continue
                for other in page.fields:
                    if (
                        other.profile == f.profile
                        and other.type == f.type
                        and holds(other.show_if, env, self.today)
                    ):
                        if self.answers_of(earlier).get(other.id) is not None:
                            return earlier, other
                        unanswered = unanswered or (earlier, other)
        return unanswered

    def shared_source(self, position: int, f: FieldSpec) -> tuple[int, str] | None:
        """Where a bundle already asked this profile field: (position, field id), or None.

        The field is asked once when an earlier procedure's twin asked it and that answer
        also meets this field's own rules (a later procedure may require what the earlier
        one left optional, or want the kana reading): otherwise it is asked again, starting
        from the earlier answer."""
        twin = self.profile_twin(position, f)
        if twin is None:
            return None
        earlier, other = twin
        value = self.answers_of(earlier).get(other.id)
        if value is None:
            return None if f.required else (earlier, other.id)
        try:
            FIELD_TYPES[f.type].clean(
                f, FIELD_TYPES[f.type].to_raw(f, value), Ctx(today=self.today)
            )
        except FieldInvalid:
            return None
        return earlier, other.id

    def apply_shared(self) -> None:
        """Copy the answers of fields asked once into the later procedures that share them."""
        for position in range(1, len(self.specs)):
            for f in self.specs[position].iter_fields(include_group_children=False):
                source = self.shared_source(position, f)
                if source is None:
                    continue
                value = self.answers_of(source[0]).get(source[1])
                if value is None:
                    self.answers_of(position).pop(f.id, None)
                else:
                    self.answers_of(position)[f.id] = value

    # ---- visibility over everything: hidden answers are never kept ---------------------
    def visible_answers(self, position: int) -> dict[str, Any]:
        spec = self.specs[position]
        answers = self.answers_of(position)
        env = self.env(position)  # holds exactly the visible, answered fields
        kept: dict[str, Any] = {}
        for page in spec.pages:
            for f in page.fields:
                if f.id not in env:
                    continue
                value = answers[f.id]
                if f.type == "group" and isinstance(value, list):
                    value = [self._visible_entry(f, e, env) for e in value]
                kept[f.id] = value
        return kept

    def _visible_entry(self, group: FieldSpec, entry: dict, env: Mapping[str, Any]) -> dict:
        values = {c.id: _to_eval(c, entry[c.id]) for c in group.fields if c.id in entry}
        seen = entry_env(group, values, env, self.today)
        return {
            c.id: entry.get(c.id)
            for c in group.fields
            if c.id in entry and holds(c.show_if, seen, self.today)
        }


def field_name(f: FieldSpec, prefix: str = "f-") -> str:
    return f"{prefix}{f.id}"


def _remap(errors: dict[str, list[str]], name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        if key == "__kept__":
            continue
        target = name if key == "" else (name + key[2:] if key.startswith("__") else key)
        out.setdefault(target, []).extend(messages)
    return out


@dataclass
class PageResult:
    raw: dict[str, Any]  # field id -> raw input, as posted
    values: dict[str, Any]  # field id -> cleaned value (visible, valid fields)
    errors: dict[str, list[str]]  # input name -> messages
    error_fields: list[tuple[str, str]]  # (input name, label) for the error summary


@in_language
def process_page(
    view: FilingView, step: Step, data: Mapping, ctx: Ctx, *, validate: bool = True
) -> PageResult:
    """Read a posted page, evaluate conditions on what was posted, and validate what is
    visible. Hidden fields are dropped from the result."""
    position = step.position
    spec = view.specs[position]
    asked = [f for f in step.page.fields if view.shared_source(position, f) is None]
    raw = {f.id: FIELD_TYPES[f.type].extract(f, data, field_name(f), ctx) for f in asked}

    # Tentative values so conditions on this same page see what was just posted.
    tentative: dict[str, Any] = {}
    for f in asked:
        if f.type in ("group", "file", "static"):
            continue
        try:
            tentative[f.id] = FIELD_TYPES[f.type].clean(
                f, raw[f.id], Ctx(lang=ctx.lang, today=ctx.today)
            )
        except FieldInvalid:
            tentative[f.id] = None
    for f in asked:
        if f.type == "group":
            tentative[f.id] = [
                {c.id: _soft_clean(c, entry.get(c.id), ctx) for c in f.fields}
                for entry in raw[f.id]
            ]
    answers = dict(view.answers_of(position))
    answers.update(tentative)
    env = eval_env(spec, answers, ctx.today)

    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    labels: list[tuple[str, str]] = []
    for f in asked:
        name = field_name(f)
        if not holds(f.show_if, env, ctx.today):
            continue
        if f.type == "group":
            value, group_errors = _process_group(f, raw[f.id], name, env, ctx, validate)
            if group_errors:
                errors.update(group_errors)
                labels.append((name, text_of(f.label, ctx.lang)))
            values[f.id] = value
            continue
        if f.type == "static":
            continue
        if not validate and f.type != "file":
            values[f.id] = tentative.get(f.id)
            continue
        try:
            value = FIELD_TYPES[f.type].clean(f, raw[f.id], ctx)
        except FieldInvalid as exc:
            errors.update(_remap(exc.errors, name))
            labels.append((name, text_of(f.label, ctx.lang)))
            if "__kept__" in exc.errors:  # files that did store are not lost
                values[f.id] = exc.errors["__kept__"] or None  # type: ignore[assignment]
                raw[f.id] = {"kept": values[f.id] or [], "new": []}
            continue
        values[f.id] = value
        if f.type == "file":
            raw[f.id] = {"kept": value or [], "new": []}
    return PageResult(raw=raw, values=values, errors=errors, error_fields=labels)


def _soft_clean(f: FieldSpec, raw: Any, ctx: Ctx) -> Any:
    if f.type in ("file", "static", "group"):
        return None
    try:
        return FIELD_TYPES[f.type].clean(f, raw, Ctx(lang=ctx.lang, today=ctx.today))
    except FieldInvalid:
        return None


def _process_group(f, entries, name, env, ctx, validate):
    lo = f.param("repeat_min", 0)
    hi = f.param("repeat_max", 10)
    errors: dict[str, list[str]] = {}
    values = []
    for i, entry in enumerate(entries):
        typed = {c.id: _to_eval(c, _soft_clean(c, entry.get(c.id), ctx)) for c in f.fields}
        seen = entry_env(f, {k: v for k, v in typed.items() if v is not None}, env, ctx.today)
        out = {}
        for c in f.fields:
            cname = f"{name}-{i}-{c.id}"
            if c.type == "static" or not holds(c.show_if, seen, ctx.today):
                continue
            if not validate and c.type != "file":
                out[c.id] = _soft_clean(c, entry.get(c.id), ctx)
                continue
            try:
                out[c.id] = FIELD_TYPES[c.type].clean(c, entry.get(c.id), ctx)
            except FieldInvalid as exc:
                errors.update(_remap(exc.errors, cname))
                if "__kept__" in exc.errors:
                    out[c.id] = exc.errors["__kept__"] or None
            if c.type == "file":
                # What was uploaded is stored now: keep it in the typed input too.
                entry[c.id] = {"kept": out.get(c.id) or [], "new": []}
        values.append(out)
    # `required` on a group means at least one entry, whatever repeat.min says.
    lo = max(lo, 1 if f.required else 0)
    if validate and len(entries) < lo:
        errors.setdefault(name, []).append(
            ngettext("Add at least %(n)s entry.", "Add at least %(n)s entries.", lo) % {"n": lo}
        )
    if len(entries) > hi:
        errors.setdefault(name, []).append(
            ngettext("You can add %(n)s entry only.", "You can add %(n)s entries at most.", hi)
            % {"n": hi}
        )
    return values, errors


# ---- rendering ------------------------------------------------------------------------


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
            html = FIELD_TYPES[c.type].render(c, (entry or {}).get(c.id), cname, errors, ctx)
            if c.show_if is not None and c.show_if.names & (child_ids | page_ids):
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
        from . import markdown

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


# No procedure of a municipality charges a trillion yen: past this the answers are wrong.
FEE_LIMIT = 10**12


def fee_lines(spec: ProcedureSpec, answers: Mapping[str, Any], lang: str, today=None) -> list[dict]:
    """The fee items that apply, with quantity and subtotal (yen)."""
    if spec.fee is None:
        return []
    env = eval_env(spec, answers, today)
    lines = []
    for item in spec.fee.items:
        if item.when is not None and not holds(item.when, env, today):
            continue
        quantity = 1
        if item.quantity is not None:
            q = expr.evaluate(item.quantity, env, today)
            # Whole units; a total too large to charge is refused at completion
            # (FEE_LIMIT), never silently dropped.
            quantity = int(q) if isinstance(q, int | float) and q > 0 else 0
        if quantity <= 0:
            continue
        lines.append(
            {
                "label": item.label.get(lang),
                "label_i18n": dict(item.label.values),
                "amount": item.amount,
                "quantity": quantity,
                "subtotal": item.amount * quantity,
            }
        )
    return lines
