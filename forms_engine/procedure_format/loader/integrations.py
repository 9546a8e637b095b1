"""`integrations:`: where completed filings are delivered (webhook, csv, email), with
their settings; secrets only ever come from the environment."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from forms_engine.procedure_format.model import IntegrationSpec
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import EMAIL_RE, Entry, FileCheck, quote_list, suggest
from .cron import check_cron

if TYPE_CHECKING:
    from .pages import ProcedureCheck

DEFAULT_INTEGRATION_TYPES: tuple[str, ...] = ("webhook", "csv", "email")

INTEGRATION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
INTEGRATION_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type -> (required keys, optional keys), besides id and type
    "webhook": (("url", "secret"), ()),
    "csv": (("schedule", "destination"), ("encoding", "columns")),
    "email": (("to",), ()),
}
# In integration types this loader does not know, keys named like these must still
# come from the environment.
SECRET_KEY_RE = re.compile(r"(^|_)(secret|password|token|api_key|key)$")
CSV_ENCODINGS = ("utf-8", "cp932")
CSV_META_COLUMNS = ("receipt_number", "submitted_at", "status", "procedure", "department")


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
    if type_name is None or type_name not in INTEGRATION_KEYS:
        # Unknown type (already reported), or a registered target this loader does not
        # know: its keys cannot be checked, but a literal secret is still refused.
        c.check_keys(entry, path, tuple(entry), ("id", "type"))
        config: dict[str, Any] = {}
        for key, item in entry.items():
            if key in ("id", "type"):
                continue
            if SECRET_KEY_RE.search(key) and c.secret(item, path + (key,)) is None:
                continue
            config[key] = item
        if type_name is None:
            return None
        return config if len(c.errors) == errors_before else None

    required, optional = INTEGRATION_KEYS[type_name]
    c.check_keys(entry, path, ("id", "type", *required, *optional), ("id", *required))
    config = {}
    INTEGRATION_CONFIG[type_name](p, entry, path, config)
    return config if len(c.errors) == errors_before else None


def webhook_config(p: ProcedureCheck, entry: Entry, path: KeyPath, config: dict[str, Any]) -> None:
    c = p.c
    if "url" in entry:
        url = webhook_url(c, entry["url"], path + ("url",))
        if url is not None:
            config["url"] = url
    if "secret" in entry:
        secret = c.secret(entry["secret"], path + ("secret",))
        if secret is not None:
            config["secret"] = secret


def csv_config(p: ProcedureCheck, entry: Entry, path: KeyPath, config: dict[str, Any]) -> None:
    c = p.c
    if "schedule" in entry:
        schedule = c.string(entry["schedule"], path + ("schedule",), "a cron schedule")
        if schedule is not None:
            problem = check_cron(schedule)
            if problem:
                c.error(path + ("schedule",), problem)
            else:
                config["schedule"] = schedule
    if "destination" in entry:
        destination = csv_destination(c, entry["destination"], path + ("destination",))
        if destination is not None:
            config["destination"] = destination
    config["encoding"] = "utf-8"
    if "encoding" in entry:
        encoding = c.choice(entry["encoding"], path + ("encoding",), CSV_ENCODINGS)
        if encoding is not None:
            config["encoding"] = encoding
    if "columns" in entry:
        config["columns"] = csv_columns(p, entry["columns"], path + ("columns",))


def email_config(p: ProcedureCheck, entry: Entry, path: KeyPath, config: dict[str, Any]) -> None:
    c = p.c
    if "to" in entry:
        recipients = []
        for index, item in enumerate(c.sequence(entry["to"], path + ("to",), "email addresses")):
            item_path = path + ("to", index)
            address = c.string(item, item_path, "an email address")
            if address is None:
                continue
            if c.env_name(address, item_path):
                recipients.append(address)
            elif not EMAIL_RE.match(address):
                c.error(item_path, f"{address!r} is not an email address")
            else:
                recipients.append(address)
        config["to"] = tuple(recipients)


def webhook_url(c: FileCheck, value: Any, path: KeyPath) -> str | None:
    text = c.string(value, path, "env:NAME or an https:// URL")
    if text is None:
        return None
    if c.env_name(text, path):
        return text
    parts = urlsplit(text)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "https" and parts.hostname:
        pass
    elif parts.scheme == "http" and local:
        pass
    elif parts.scheme == "http" and parts.hostname:
        c.error(path, "must use https:// (http:// only for localhost)")
        return None
    else:
        c.error(path, f"{text!r} must be env:NAME or an https:// URL")
        return None
    if parts.password:
        c.error(path, "secrets must come from the environment: write env:NAME")
        return None
    return text


def csv_destination(c: FileCheck, value: Any, path: KeyPath) -> str | None:
    text = c.string(value, path, "env:NAME or a URL such as s3://bucket/prefix/")
    if text is None:
        return None
    if c.env_name(text, path):
        return text
    parts = urlsplit(text)
    if not parts.scheme or not (parts.netloc or parts.path):
        c.error(path, f"{text!r} must be env:NAME or a URL such as s3://bucket/prefix/")
        return None
    if parts.password:
        c.error(path, "secrets must come from the environment: write env:NAME")
        return None
    return text


def csv_columns(p: ProcedureCheck, value: Any, path: KeyPath) -> tuple[str, ...]:
    c = p.c
    columns: list[str] = []
    known = [
        *CSV_META_COLUMNS,
        *(f.id for page in p.pages for f in page.fields if f.id and f.type != "static"),
    ]
    for index, item in enumerate(c.sequence(value, path, "columns")):
        item_path = path + (index,)
        name = c.string(item, item_path, "a column name")
        if name is None:
            continue
        target = p.fields.get(name)
        if name in CSV_META_COLUMNS:
            pass
        elif target is None:
            c.error(
                item_path,
                f"unknown column {name!r}{suggest(name, known)}: use a field id or one of "
                f"{quote_list(CSV_META_COLUMNS)}",
            )
            continue
        elif target.group is not None:
            c.error(
                item_path,
                f"field {name!r} is inside group {target.group.id!r}: name the group instead",
            )
            continue
        elif target.type == "static":
            c.error(item_path, f"field {name!r} is static and has no answer to export")
            continue
        if name in columns:
            c.error(item_path, f"column {name!r} is listed twice")
            continue
        columns.append(name)
    return tuple(columns)


#: Integration type -> the check of its own keys, for the types this loader knows.
INTEGRATION_CONFIG: dict[str, Callable[[ProcedureCheck, Entry, KeyPath, dict[str, Any]], None]] = {
    "webhook": webhook_config,
    "csv": csv_config,
    "email": email_config,
}
