"""Fields while a file is being checked, before they become immutable specs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forms_engine.procedure_format.model import FieldSpec, Option, Text
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from . import field_types


@dataclass
class FieldDraft:
    """A field while the file is being checked; becomes a FieldSpec when all is well."""

    path: KeyPath
    line: int
    page: int
    id: str | None = None
    type: str | None = None
    group: FieldDraft | None = None  # the group this field belongs to
    label: Text | None = None
    help: Text | None = None
    required: bool = False
    show_if: Any = None
    profile: str | None = None
    options: tuple[Option, ...] = ()
    children: list[FieldDraft] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def symbol_type(self) -> str | None:
        return field_types.symbol_type(self.type)

    def build(self) -> FieldSpec:
        assert self.id is not None and self.type is not None
        return FieldSpec(
            id=self.id,
            type=self.type,
            label=self.label,
            line=self.line,
            help=self.help,
            required=self.required,
            show_if=self.show_if,
            profile=self.profile,
            options=self.options,
            fields=tuple(c.build() for c in self.children),
            params=dict(self.params),
        )


@dataclass
class PageDraft:
    path: KeyPath
    line: int
    id: str | None = None
    title: Text | None = None
    show_if: Any = None
    fields: list[FieldDraft] = field(default_factory=list)
