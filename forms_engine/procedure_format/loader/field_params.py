"""The keys each field type adds to the common ones (`max_length`, `options`, `accept`...).

One function per field type (or group of types), each with the same signature, so that
`field_types.FIELD_PARAMS` can map a type name to its check. A function fills
`draft.params` (defaults included) or `draft.options`, and reports problems through the
file check; keys that do not apply to the type were already reported as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from forms_engine.procedure_format.model import (
    FILE_KINDS,
    MAX_GROUP_ENTRIES,
    MAX_LENGTH_CEILING,
    DateBound,
    Option,
)
from forms_engine.procedure_format.patterns import pattern_error
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import Entry, quote_list, suggest

if TYPE_CHECKING:
    from .drafts import FieldDraft
    from .pages import ProcedureCheck

#: The check of one field type's own keys: (procedure check, field mapping, its key path,
#: the field being built).
ParamsCheck = Callable[["ProcedureCheck", Entry, KeyPath, "FieldDraft"], None]

KANA_CHOICES = ("none", "optional", "required")
OPTION_KEYS = ("value", "label")
REPEAT_KEYS = ("min", "max")
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_REPEAT_MAX = 10
DATE_OFFSET_RE = re.compile(r"^([+-])(\d+)([ymd])$")


def no_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    """Types with only the common keys (email, tel, yes_no, address...)."""


def length_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    """min_length and max_length, of text, textarea and kana."""
    c = p.c
    params = draft.params
    if "min_length" in entry or "max_length" in entry:
        lo = (
            c.integer(entry["min_length"], path + ("min_length",), minimum=0)
            if "min_length" in entry
            else None
        )
        hi = (
            c.integer(entry["max_length"], path + ("max_length",), minimum=1)
            if "max_length" in entry
            else None
        )
        if lo is not None:
            params["min_length"] = lo
        if hi is not None and hi > MAX_LENGTH_CEILING:
            c.error(path + ("max_length",), f"must be {MAX_LENGTH_CEILING} or less")
            hi = None
        if hi is not None:
            params["max_length"] = hi
        if lo is not None and hi is not None and lo > hi:
            c.error(path + ("min_length",), f"min_length {lo} is more than max_length {hi}")


def text_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    length_params(p, entry, path, draft)
    c = p.c
    params = draft.params
    if "pattern" in entry:
        pattern = c.string(entry["pattern"], path + ("pattern",), "a regular expression")
        if pattern is not None:
            # Compiled by the engine that will run it (RE2, linear time), so that a pattern
            # it cannot run is refused here and not on a resident's post.
            problem = pattern_error(pattern)
            if problem is None:
                params["pattern"] = pattern
            else:
                c.error(path + ("pattern",), problem)
    if "pattern_message" in entry:
        message = c.text(entry["pattern_message"], path + ("pattern_message",))
        if message is not None:
            params["pattern_message"] = message
        if "pattern" not in entry:
            c.error(path + ("pattern_message",), "pattern_message needs a pattern")


def number_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    c = p.c
    params = draft.params
    params["integer"] = True
    if "integer" in entry:
        integer = c.boolean(entry["integer"], path + ("integer",))
        if integer is not None:
            params["integer"] = integer
    bounds = {}
    for key in ("min", "max"):
        if key in entry:
            bound = c.number(entry[key], path + (key,))
            if bound is None:
                continue
            if params["integer"] and isinstance(bound, float) and not bound.is_integer():
                c.error(path + (key,), "must be a whole number (the field has integer: true)")
                continue
            bounds[key] = params[key] = bound
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        c.error(path + ("min",), f"min {bounds['min']} is more than max {bounds['max']}")
    if "unit" in entry:
        unit = c.text(entry["unit"], path + ("unit",))
        if unit is not None:
            params["unit"] = unit


def date_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    c = p.c
    params = draft.params
    params["era"] = False
    if "era" in entry:
        era = c.boolean(entry["era"], path + ("era",))
        if era is not None:
            params["era"] = era
    for key in ("min", "max"):
        if key in entry:
            bound = date_bound(p, entry[key], path + (key,))
            if bound is not None:
                params[key] = bound
    lo, hi = params.get("min"), params.get("max")
    if lo is not None and hi is not None and _date_bounds_reversed(lo, hi):
        c.error(path + ("min",), "min is later than max")


def date_bound(p: ProcedureCheck, value: Any, path: KeyPath) -> DateBound | None:
    if isinstance(value, datetime):
        p.c.error(path, "must be a date without a time, e.g. 2020-01-01")
        return None
    if isinstance(value, date):
        return DateBound(kind="date", date=value.isoformat())
    text = p.c.scalar_str(value, path)
    if text is not None:
        text = text.strip()
        if text == "today":
            return DateBound(kind="today")
        match = DATE_OFFSET_RE.match(text)
        if match:
            amount = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
            return DateBound(kind="offset", amount=amount, unit=match.group(3))
        try:
            return DateBound(kind="date", date=date.fromisoformat(text).isoformat())
        except ValueError:
            pass
    p.c.error(
        path,
        "must be a date (2020-01-01), today, or an offset from today such as -18y, +30d or -6m",
    )
    return None


def _date_bounds_reversed(lo: DateBound, hi: DateBound) -> bool:
    """True when min is after max whatever today is. Offsets in different units are not
    compared (-1m against -30d depends on the month), so a load never depends on the day."""
    if lo.kind == "date" and hi.kind == "date":
        return (lo.date or "") > (hi.date or "")
    if lo.kind == "date" or hi.kind == "date":
        return False
    lo_amount = lo.amount if lo.kind == "offset" else 0
    hi_amount = hi.amount if hi.kind == "offset" else 0
    if lo.kind == "offset" and hi.kind == "offset" and lo.unit != hi.unit:
        return False
    return lo_amount > hi_amount


def choice_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    """select and radio: the options, required for these types."""
    if "options" not in entry:
        p.c.error(path + ("options",), "required key is missing")
    else:
        draft.options = options_of(p, entry["options"], path + ("options",))


def checkboxes_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    choice_params(p, entry, path, draft)
    selection_bounds(p, entry, path, draft)


def options_of(p: ProcedureCheck, value: Any, path: KeyPath) -> tuple[Option, ...]:
    c = p.c
    options: list[Option] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(c.sequence(value, path, "options")):
        item_path = path + (index,)
        entry = c.mapping(entry, item_path, "an option: a mapping {value, label}")
        if entry is None:
            continue
        c.check_keys(entry, item_path, OPTION_KEYS, OPTION_KEYS)
        option_value = None
        if "value" in entry:
            # Taken as written: `value: yes` is the string "yes", not a YAML boolean.
            option_value = c.string(entry["value"], item_path + ("value",), "a value")
            if option_value is not None and option_value in seen:
                c.error(
                    item_path + ("value",),
                    f"duplicate option value {option_value!r} (first on line {seen[option_value]})",
                )
                option_value = None
            elif option_value is not None:
                seen[option_value] = c.doc.line(item_path + ("value",))
        label = c.text(entry["label"], item_path + ("label",)) if "label" in entry else None
        if option_value is not None and label is not None:
            options.append(Option(option_value, label))
    return tuple(options)


def selection_bounds(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    c = p.c
    count = len(draft.options)
    lo = hi = None
    if "min_selected" in entry:
        lo = c.integer(entry["min_selected"], path + ("min_selected",), minimum=0)
        if lo is not None and count and lo > count:
            c.error(
                path + ("min_selected",),
                f"min_selected {lo} is more than the number of options ({count})",
            )
            lo = None
        elif lo is not None:
            draft.params["min_selected"] = lo
    if "max_selected" in entry:
        hi = c.integer(entry["max_selected"], path + ("max_selected",), minimum=1)
        if hi is not None and count and hi > count:
            c.error(
                path + ("max_selected",),
                f"max_selected {hi} is more than the number of options ({count})",
            )
            hi = None
        elif hi is not None:
            draft.params["max_selected"] = hi
    if lo is not None and hi is not None and lo > hi:
        c.error(path + ("min_selected",), f"min_selected {lo} is more than max_selected {hi}")


def content_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    """consent and static: the text shown."""
    if "content" in entry:
        content = p.c.text(entry["content"], path + ("content",))
        if content is not None:
            draft.params["content"] = content


def name_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    draft.params["kana"] = "none"
    if "kana" in entry:
        kana = p.c.choice(entry["kana"], path + ("kana",), KANA_CHOICES)
        if kana is not None:
            draft.params["kana"] = kana


def postal_code_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    if "fills" in entry:
        fills = p.c.string(entry["fills"], path + ("fills",), "the id of an address field")
        if fills is not None:
            draft.params["fills"] = fills  # checked once every field is known


def file_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    c = p.c
    params = draft.params
    params.update(accept=FILE_KINDS, max_size=DEFAULT_MAX_SIZE, max_files=1, resize_images=None)
    if "accept" in entry:
        kinds: list[str] = []
        for index, item in enumerate(c.sequence(entry["accept"], path + ("accept",), "file kinds")):
            kind = c.scalar_str(item, path + ("accept", index))
            if kind not in FILE_KINDS:
                c.error(
                    path + ("accept", index),
                    f"unknown file kind {kind!r}{suggest(kind or '', FILE_KINDS)}; "
                    f"known kinds: {quote_list(FILE_KINDS)}",
                )
            elif kind in kinds:
                c.error(path + ("accept", index), f"{kind!r} is listed twice")
            else:
                kinds.append(kind)
        if kinds:
            params["accept"] = tuple(kinds)
    if "max_size" in entry:
        size = c.size(entry["max_size"], path + ("max_size",))
        if size is not None:
            params["max_size"] = size
    if "max_files" in entry:
        count = c.integer(entry["max_files"], path + ("max_files",), minimum=1)
        if count is not None:
            params["max_files"] = count
    if "resize_images" in entry:
        pixels = c.integer(
            entry["resize_images"], path + ("resize_images",), minimum=1, what=" of pixels"
        )
        if pixels is not None:
            params["resize_images"] = pixels


def group_params(p: ProcedureCheck, entry: Entry, path: KeyPath, draft: FieldDraft) -> None:
    c = p.c
    params = draft.params
    params.update(repeat_min=0, repeat_max=DEFAULT_REPEAT_MAX)
    if "repeat" in entry:
        repeat = c.mapping(entry["repeat"], path + ("repeat",), "a mapping {min, max}")
        if repeat is not None:
            c.check_keys(repeat, path + ("repeat",), REPEAT_KEYS)
            lo = hi = None
            if "min" in repeat:
                lo = c.integer(repeat["min"], path + ("repeat", "min"), minimum=0)
            if "max" in repeat:
                hi = c.integer(repeat["max"], path + ("repeat", "max"), minimum=1)
            if lo is not None:
                params["repeat_min"] = lo
            if hi is not None and hi > MAX_GROUP_ENTRIES:
                c.error(path + ("repeat", "max"), f"must be {MAX_GROUP_ENTRIES} or less")
                hi = None
            if hi is not None:
                params["repeat_max"] = hi
            if params["repeat_min"] > params["repeat_max"]:
                c.error(
                    path + ("repeat", "min"),
                    f"min {params['repeat_min']} is more than max {params['repeat_max']}",
                )
    if "add_label" in entry:
        add_label = c.text(entry["add_label"], path + ("add_label",))
        if add_label is not None:
            params["add_label"] = add_label
    if "fields" in entry:
        items = c.sequence(entry["fields"], path + ("fields",), "fields")
        for index, item in enumerate(items):
            item_path = path + ("fields", index)
            if (
                isinstance(item, dict)
                and c.scalar_str(item.get("type"), item_path + ("type",)) == "group"
            ):
                c.error(item_path + ("type",), "a group cannot contain another group")
                continue
            child = p.field_of(item, item_path, draft.page, draft)
            if child is not None:
                draft.children.append(child)
