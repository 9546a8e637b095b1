"""Types that shape a page rather than ask one question: static text and groups of
repeated entries (whose entries forms_engine.filing renders and validates)."""

from __future__ import annotations

from forms_engine import markdown
from forms_engine.procedure_format.model import MAX_GROUP_ENTRIES

from .base import FieldType, esc, text_of


class StaticType(FieldType):
    yaml_keys = ("content",)
    required_yaml_keys = ("content",)
    symbol_type = "none"
    params_check = "content_params"

    def extract(self, f, data, name, ctx):
        return None

    def clean(self, f, raw, ctx):
        return None

    def render(self, f, raw, name, errors, ctx):
        content = f.param("content")
        title = f"<h3>{esc(text_of(f.label, ctx.lang))}</h3>" if f.label else ""
        body = markdown.render(content.get(ctx.lang)) if content else ""
        return f'<div class="static" id="{name}-field">{title}{body}</div>'


class GroupType(FieldType):
    yaml_keys = ("repeat", "add_label", "fields")
    required_yaml_keys = ("fields",)
    symbol_type = "group"
    params_check = "group_params"
    grouped = True

    def entry_count(self, f, data, name) -> int:
        try:
            n = int(data.get(f"{name}-count", "0"))
        except (TypeError, ValueError):
            n = 0
        return max(0, min(n, f.param("repeat_max", 10), MAX_GROUP_ENTRIES))

    def extract(self, f, data, name, ctx):
        from .registry import FIELD_TYPES  # the registry imports this module

        entries = []
        for i in range(self.entry_count(f, data, name)):
            entry = {}
            for child in f.fields:
                entry[child.id] = FIELD_TYPES[child.type].extract(
                    child, data, f"{name}-{i}-{child.id}", ctx
                )
            entries.append(entry)
        return entries

    def is_empty(self, raw):
        return not raw

    def to_raw(self, f, value):
        from .registry import FIELD_TYPES

        return [
            {c.id: FIELD_TYPES[c.type].to_raw(c, (entry or {}).get(c.id)) for c in f.fields}
            for entry in (value or [])
        ]

    def render(self, f, raw, name, errors, ctx):  # rendered by forms_engine.filing
        raise NotImplementedError("groups are rendered by forms_engine.filing")

    def display(self, f, value, ctx):  # displayed by forms_engine.filing
        raise NotImplementedError("groups are displayed by forms_engine.filing")
