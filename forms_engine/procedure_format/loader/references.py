"""References from one field to another outside conditions: a postal code's `fills`,
the procedure's `contact_email`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import suggest

if TYPE_CHECKING:
    from .pages import ProcedureCheck


def check_fills(p: ProcedureCheck) -> None:
    for draft in p.fields.values():
        fills = draft.params.get("fills") if draft.type == "postal_code" else None
        if fills is None:
            continue
        path = draft.path + ("fills",)
        target = p.fields.get(fills)
        if target is None:
            addresses = [f.id for f in p.fields.values() if f.type == "address" and f.id]
            p.c.error(path, f"unknown field {fills!r}{suggest(fills, addresses)}")
        elif target.type != "address":
            p.c.error(path, f"{fills!r} is a {target.type} field; fills must name an address field")
        elif target.group is not draft.group:
            p.c.error(
                path,
                f"address field {fills!r} must be in the same group as this postal code "
                "(or both outside groups)",
            )


def contact_email_of(p: ProcedureCheck, value: Any) -> str | None:
    c = p.c
    path: KeyPath = ("contact_email",)
    name = c.string(value, path, "the id of an email field")
    if name is None:
        return None
    target = p.fields.get(name)
    emails = [f.id for f in p.fields.values() if f.type == "email" and f.group is None and f.id]
    if target is None:
        c.error(path, f"unknown field {name!r}{suggest(name, emails)}")
        return None
    if target.type != "email":
        c.error(path, f"{name!r} is a {target.type} field; contact_email must name an email field")
        return None
    if target.group is not None:
        c.error(
            path,
            f"{name!r} is inside group {target.group.id!r}; contact_email must name an "
            "email field outside groups",
        )
        return None
    return name
