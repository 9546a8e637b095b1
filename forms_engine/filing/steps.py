"""A filing in progress as the resident sees it: its steps (the visible pages of each
pinned procedure version) and the answers shared across a bundle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from forms_engine.fields import FIELD_TYPES, Ctx, FieldInvalid
from forms_engine.procedure_format.model import FieldSpec, PageSpec, ProcedureSpec

from .conditions import _to_eval, entry_env, eval_env, holds


@dataclass(frozen=True)
class Step:
    position: int  # index of the procedure in the filing
    page: PageSpec

    @property
    def key(self) -> str:
        return f"{self.position}.{self.page.id}"


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
