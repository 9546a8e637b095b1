"""The buttons of a page besides Next, Back and save, so that they work without
JavaScript: add or remove a group entry, fill the address from the postal code, remove a
file. Each changes what was typed (the raw input of the page, in place) without
validating it; the view keeps the result as pending input and shows the page again at
the anchor the action returns.

Pure logic over the page's raw input: the view passes what needs the request (the
postal rate limit) and carries out what needs the database (removing a stored file).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from forms_engine import normalize, postal
from forms_engine.procedure_format.model import FieldSpec

from .steps import Step

# An entry index in an action value: ASCII digits only ("²".isdigit() is true).
_INDEX = re.compile(r"[0-9]{1,4}")


@dataclass
class ActionOutcome:
    anchor: str = ""  # the element the page is shown again at ("" for the top)
    # Input name -> message shown by the input on the next display (postal look-up).
    notices: dict[str, str] = field(default_factory=dict)
    # Stored files the resident took back: the caller removes them from storage.
    removed_files: list[str] = field(default_factory=list)


def page_action(
    step: Step, raw: dict[str, Any], action: str, *, postal_allowed: Callable[[], bool]
) -> ActionOutcome:
    """Apply one action (`add:<group>`, `remove:<group>:<i>`, `postal:<input>`,
    `remove-file:<input>:<id>`) to the raw input of a page; anything else does nothing."""
    if action.startswith("add:") or action.startswith("remove:"):
        return ActionOutcome(anchor=group_action(step, raw, action))
    if action.startswith("postal:"):
        return postal_action(step, raw, action[len("postal:") :], allowed=postal_allowed)
    if action.startswith("remove-file:"):
        return remove_file_action(step, raw, action[len("remove-file:") :])
    return ActionOutcome()


def _find_group(step: Step, name: str) -> FieldSpec | None:
    for f in step.page.fields:
        if f.type == "group" and f"f-{f.id}" == name:
            return f
    return None


def group_action(step: Step, raw: dict[str, Any], action: str) -> str:
    """Add an entry to a group or remove one, within its repeat bounds."""
    parts = action.split(":")
    group = _find_group(step, parts[1])
    if group is None:
        return ""
    entries = list(raw.get(group.id) or [])
    if parts[0] == "add" and len(entries) < group.param("repeat_max", 10):
        entries.append({})
        raw[group.id] = entries
        return f"{parts[1]}-{len(entries) - 1}"
    if parts[0] == "remove" and len(parts) == 3 and _INDEX.fullmatch(parts[2]):
        i = int(parts[2])
        if 0 <= i < len(entries) and len(entries) > group.param("repeat_min", 0):
            entries.pop(i)
            raw[group.id] = entries
    return f"{parts[1]}-field"


def postal_action(
    step: Step, raw: dict[str, Any], name: str, *, allowed: Callable[[], bool]
) -> ActionOutcome:
    """Fill the address from the postal code without JavaScript."""
    if not allowed():
        return ActionOutcome(anchor=f"{name}-field")
    scope, postal_field = input_scope(step, raw, name, "postal_code")
    if scope is None or postal_field is None:
        return ActionOutcome()
    code_raw = scope.get(postal_field.id, "")
    try:
        code = normalize.normalize_postal_code(code_raw if isinstance(code_raw, str) else "")
        found = postal.lookup(code)
    except normalize.Invalid:
        found = []
    notice = (
        _("Address filled in from the postal code. Add the block number.")
        if found
        else _("No address was found for this postal code. Enter the address yourself.")
    )
    target = postal_field.param("fills")
    if found and target:
        address = dict(scope.get(target) or {})
        address.update({k: found[0][k] for k in ("prefecture", "city", "town")})
        scope[target] = address
    return ActionOutcome(anchor=f"{name}-field", notices={name: notice})


def remove_file_action(step: Step, raw: dict[str, Any], arg: str) -> ActionOutcome:
    """Take a stored file back from a file input (`<input name>:<attachment id>`)."""
    name, _sep, file_id = arg.rpartition(":")
    scope, f = input_scope(step, raw, name, "file")
    if scope is None or f is None:
        return ActionOutcome()
    current = scope.get(f.id) or {}
    kept = current.get("kept", []) if isinstance(current, dict) else []
    scope[f.id] = {"kept": [x for x in kept if x.get("id") != file_id], "new": []}
    return ActionOutcome(anchor=f"{name}-field", removed_files=[file_id])


def input_scope(
    step: Step, raw: dict[str, Any], name: str, field_type: str
) -> tuple[dict[str, Any] | None, FieldSpec | None]:
    """(dict of raw values holding the input, its field spec) for an input name:
    `f-<id>` at the top level, `f-<group>-<i>-<id>` in a group entry; (None, None) when the
    name is not a field of that type on this page."""
    for f in step.page.fields:
        if f.type == field_type and name == f"f-{f.id}":
            return raw, f
        if f.type == "group":
            for c in f.fields:
                if c.type != field_type:
                    continue
                prefix = f"f-{f.id}-"
                suffix = f"-{c.id}"
                if name.startswith(prefix) and name.endswith(suffix):
                    index = name[len(prefix) : -len(suffix)]
                    entries = raw.get(f.id) or []
                    if _INDEX.fullmatch(index) and int(index) < len(entries):
                        return entries[int(index)], c
    return None, None
