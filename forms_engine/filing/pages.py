"""Reading a posted page: conditions evaluated on what was posted, visible fields
validated, hidden ones dropped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import ngettext

from forms_engine.fields import FIELD_TYPES, Ctx, FieldInvalid, _, in_language, text_of
from forms_engine.procedure_format.model import FieldSpec

from .budget import text_size
from .conditions import _to_eval, entry_env, eval_env, holds
from .steps import FilingView, Step

# PostgreSQL keeps no NUL in text or JSON and no lone surrogate in JSON (nor can UTF-8
# encode one): typed input loses them here, where every page action reads it, so no path
# that shows or stores the input (a page that fails validation, Back, save, autosave,
# the answers) meets them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` (text, or lists and dicts of it) without NUL and lone surrogates; anything
    else (an uploaded file) as it is."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    return value


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
    error_fields: list[tuple[str, str]]  # (element id, label) for the error summary
    #: The page's input is more text than the draft has room for (`text_limit`): nothing
    #: was read or validated, and nothing of it may be stored.
    too_much_text: bool = False


class _Cleaned:
    """One input cleaned once: its value, or the FieldInvalid it raised. A page reads each
    input for the conditions first (what the page shows depends on what was just typed) and
    then validates what is visible: both use this one result, so each value is normalised
    and validated once per call, not once per pass."""

    __slots__ = ("error", "value")

    def __init__(self, f: FieldSpec, raw: Any, ctx: Ctx):
        self.value: Any = None
        self.error: FieldInvalid | None = None
        try:
            self.value = FIELD_TYPES[f.type].clean(f, raw, ctx)
        except FieldInvalid as exc:
            self.error = exc

    @property
    def soft(self) -> Any:
        """The value as conditions see it: None when it is not valid."""
        return None if self.error is not None else self.value


# Types whose cleaning reads more than the typed text (uploads, stored files), or that take
# no input: cleaned only when visible, with the page's full context.
_NOT_PRECLEANED = ("group", "file", "static")


@in_language
def process_page(
    view: FilingView,
    step: Step,
    data: Mapping,
    ctx: Ctx,
    *,
    validate: bool = True,
    text_limit: int | None = None,
) -> PageResult:
    """Read a posted page, evaluate conditions on what was posted, and validate what is
    visible. Hidden fields are dropped from the result. With `text_limit`, input holding
    more characters than that is refused before any of it is normalised."""
    position = step.position
    spec = view.specs[position]
    asked = [f for f in step.page.fields if view.shared_source(position, f) is None]
    raw = {f.id: storable(FIELD_TYPES[f.type].extract(f, data, field_name(f), ctx)) for f in asked}
    if text_limit is not None and text_size(raw) > text_limit:
        return PageResult(raw=raw, values={}, errors={}, error_fields=[], too_much_text=True)

    # Each text input cleaned once (uploads play no part in these types); the results give
    # the tentative values that conditions on this same page see, and the validation below.
    plain = Ctx(lang=ctx.lang, today=ctx.today)
    cleaned = {f.id: _Cleaned(f, raw[f.id], plain) for f in asked if f.type not in _NOT_PRECLEANED}
    groups = [f for f in asked if f.type == "group"]
    entries = {f.id: [_clean_entry(f, entry, plain) for entry in raw[f.id]] for f in groups}
    tentative: dict[str, Any] = {fid: result.soft for fid, result in cleaned.items()}
    for f in groups:
        tentative[f.id] = [
            {c.id: e[c.id].soft if c.id in e else None for c in f.fields} for e in entries[f.id]
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
            value, group_errors, entry_labels = _process_group(
                f, raw[f.id], entries[f.id], name, env, ctx, validate
            )
            if group_errors:
                errors.update(group_errors)
                if name in group_errors:  # the group itself (too few or too many entries)
                    labels.append((f"{name}-field", text_of(f.label, ctx.lang)))
                labels.extend(entry_labels)
            values[f.id] = value
            continue
        if f.type == "static":
            continue
        if not validate and f.type != "file":
            values[f.id] = tentative.get(f.id)
            continue
        try:
            if f.type == "file":
                value = FIELD_TYPES[f.type].clean(f, raw[f.id], ctx)
            elif cleaned[f.id].error is not None:
                raise cleaned[f.id].error  # type: ignore[misc]
            else:
                value = cleaned[f.id].value
        except FieldInvalid as exc:
            remapped = _remap(exc.errors, name)
            errors.update(remapped)
            anchor = FIELD_TYPES[f.type].anchor(f, name, list(remapped))
            labels.append((anchor, text_of(f.label, ctx.lang)))
            if "__kept__" in exc.errors:  # files that did store are not lost
                values[f.id] = exc.errors["__kept__"] or None  # type: ignore[assignment]
                raw[f.id] = {"kept": values[f.id] or [], "new": []}
            continue
        values[f.id] = value
        if f.type == "file":
            raw[f.id] = {"kept": value or [], "new": []}
    return PageResult(raw=raw, values=values, errors=errors, error_fields=labels)


def _clean_entry(group: FieldSpec, entry: Mapping, ctx: Ctx) -> dict[str, _Cleaned]:
    return {
        c.id: _Cleaned(c, entry.get(c.id), ctx)
        for c in group.fields
        if c.type not in _NOT_PRECLEANED
    }


def _process_group(f, entries, cleaned, name, env, ctx, validate):
    lo = f.param("repeat_min", 0)
    hi = f.param("repeat_max", 10)
    errors: dict[str, list[str]] = {}
    labels: list[tuple[str, str]] = []  # one per field in error in an entry
    group_label = text_of(f.label, ctx.lang)
    values = []
    for i, entry in enumerate(entries):
        results = cleaned[i]
        typed = {c.id: _to_eval(c, results[c.id].soft) for c in f.fields if c.id in results}
        for c in f.fields:
            typed.setdefault(c.id, _to_eval(c, None))
        seen = entry_env(f, {k: v for k, v in typed.items() if v is not None}, env, ctx.today)
        out = {}
        for c in f.fields:
            cname = f"{name}-{i}-{c.id}"
            if c.type == "static" or not holds(c.show_if, seen, ctx.today):
                continue
            if not validate and c.type != "file":
                out[c.id] = results[c.id].soft if c.id in results else None
                continue
            try:
                if c.id in results:
                    if results[c.id].error is not None:
                        raise results[c.id].error  # type: ignore[misc]
                    out[c.id] = results[c.id].value
                else:
                    out[c.id] = FIELD_TYPES[c.type].clean(c, entry.get(c.id), ctx)
            except FieldInvalid as exc:
                remapped = _remap(exc.errors, cname)
                errors.update(remapped)
                labels.append(
                    (
                        FIELD_TYPES[c.type].anchor(c, cname, list(remapped)),
                        _("%(group)s %(n)s: %(field)s")
                        % {"group": group_label, "n": i + 1, "field": text_of(c.label, ctx.lang)},
                    )
                )
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
    return values, errors, labels


def raw_from_answers(view: FilingView, step: Step) -> dict:
    """A page's input as it shows when nothing is pending on it: from its saved answers
    (the views show it; a completed direct upload joins it)."""
    answers = view.answers_of(step.position)
    raw = {}
    for f in step.page.fields:
        value = answers.get(f.id)
        if value is None and f.profile:
            # Once-only in a bundle: asked again (stricter rules here), it starts from the
            # answer given to the earlier procedure.
            twin = view.profile_twin(step.position, f)
            if twin is not None:
                value = view.answers_of(twin[0]).get(twin[1].id)
        if f.type == "group" and value is None:
            value = [{} for _i in range(f.param("repeat_min", 0) or (1 if f.required else 0))]
        raw[f.id] = FIELD_TYPES[f.type].to_raw(f, value)
    return raw
