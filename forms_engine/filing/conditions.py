"""Conditions over a filing's answers: which fields and pages are visible.

A field hidden by another answer counts as null everywhere, even if an old answer to it
is still stored (the resident went back and changed their mind)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from forms_engine.procedure_format import expr
from forms_engine.procedure_format.model import FieldSpec, ProcedureSpec


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
