"""`integrations:`: where completed filings are delivered, with their settings; secrets
only ever come from the environment. The types and the check of each type's keys come
from the registry (`procedure_format.integration_types`), filled by the integrations room:
this module checks what every entry has (`id`, `type`) and knows no type by name."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from forms_engine.procedure_format.integration_types import (
    integration_type_check,
    registered_integration_types,
)
from forms_engine.procedure_format.model import IntegrationSpec
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import Entry, quote_list, suggest

if TYPE_CHECKING:
    from .pages import ProcedureCheck

INTEGRATION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# In integration types without a registered check, keys named like these must still come
# from the environment.
SECRET_KEY_RE = re.compile(r"(^|_)(secret|password|token|api_key|key)$")


def known_integration_types(integration_types: tuple[str, ...] | None) -> tuple[str, ...]:
    """The types a load accepts: those given, or every registered one."""
    return registered_integration_types() if integration_types is None else integration_types


def integrations_of(p: ProcedureCheck, value: Any) -> tuple[IntegrationSpec, ...]:
    c = p.c
    result: list[IntegrationSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(
        c.sequence(value, ("integrations",), "integrations", non_empty=False)
    ):
        path: KeyPath = ("integrations", index)
        entry = c.mapping(entry, path, "an integration: a mapping with id and type")
        if entry is None:
            continue
        integration_id = None
        if "id" in entry:
            integration_id = c.string(entry["id"], path + ("id",), "an id")
            if integration_id is not None and not INTEGRATION_ID_RE.match(integration_id):
                c.error(
                    path + ("id",),
                    f"{integration_id!r} is not a valid id: use lower-case letters, "
                    "digits, hyphens and underscores",
                )
                integration_id = None
            elif integration_id is not None and integration_id in seen:
                c.error(
                    path + ("id",),
                    f"duplicate integration id {integration_id!r} (first on line "
                    f"{seen[integration_id]})",
                )
                integration_id = None
            elif integration_id is not None:
                seen[integration_id] = c.doc.line(path + ("id",))
        type_name = None
        if "type" in entry:
            type_name = c.scalar_str(entry["type"], path + ("type",))
            if type_name not in p.integration_types:
                c.error(
                    path + ("type",),
                    f"unknown integration type {type_name!r}"
                    f"{suggest(type_name or '', p.integration_types)}; known types: "
                    f"{quote_list(p.integration_types)}",
                )
                type_name = None
        config = integration_config(p, entry, path, type_name)
        if integration_id is not None and type_name is not None and config is not None:
            result.append(IntegrationSpec(integration_id, type_name, c.doc.line(path), config))
    return tuple(result)


def integration_config(
    p: ProcedureCheck, entry: Entry, path: KeyPath, type_name: str | None
) -> dict[str, Any] | None:
    c = p.c
    errors_before = len(c.errors)
    # An entry identical to one of the live version's (loaded by the operator) is checked
    # as trusted: republishing from the console must not refuse what the operator set.
    p.untrusted = not p.trust.trusted and entry not in p.trust.trusted_integrations
    try:
        return _integration_config(p, entry, path, type_name, errors_before)
    finally:
        p.untrusted = not p.trust.trusted


def _integration_config(
    p: ProcedureCheck, entry: Entry, path: KeyPath, type_name: str | None, errors_before: int
) -> dict[str, Any] | None:
    c = p.c
    check = integration_type_check(type_name) if type_name is not None else None
    if type_name is None or check is None:
        # Unknown type (already reported), or a type accepted without a registered check:
        # its keys cannot be checked, but a literal secret is still refused.
        c.check_keys(entry, path, tuple(entry), ("id", "type"))
        config: dict[str, Any] = {}
        for key, item in entry.items():
            if key in ("id", "type"):
                continue
            if SECRET_KEY_RE.search(key) and p.secret(item, path + (key,)) is None:
                continue
            config[key] = item
        if type_name is None:
            return None
        return config if len(c.errors) == errors_before else None

    required, optional = check.required_keys, check.optional_keys
    c.check_keys(entry, path, ("id", "type", *required, *optional), ("id", *required))
    config = {}
    check.check_config(p, entry, path, config)
    return config if len(c.errors) == errors_before else None
