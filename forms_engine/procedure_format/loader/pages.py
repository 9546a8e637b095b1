"""A procedure's pages and fields: ids, types, common keys and profile keys.

`ProcedureCheck` holds what is known of one procedure file while it is checked (its pages
and fields by id); the other concerns (conditions, fees, integrations...) are functions
of it in their own modules.
"""

from __future__ import annotations

import re
from typing import Any

from forms_engine.procedure_format import expr as expr_lang
from forms_engine.procedure_format.model import PROFILE_KEYS
from forms_engine.procedure_format.yamlsource import Path as KeyPath

from .checks import ENV_RE, TRUSTED, FileCheck, SourceTrust, quote_list, suggest
from .drafts import FieldDraft, PageDraft
from .field_types import (
    COMMON_FIELD_KEYS,
    all_field_keys,
    params_check,
    required_keys,
    type_keys,
    type_names,
)

PAGE_KEYS = ("id", "title", "show_if", "fields")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# Keywords of the condition language: a field with such an id could never be named in one.
# (Function names stay usable: `age` alone is a name, only `age(...)` is a call.)
RESERVED_IDS = expr_lang.KEYWORDS


class ProcedureCheck:
    """One procedure file being checked: its pages and fields as found so far."""

    def __init__(
        self,
        check: FileCheck,
        integration_types: tuple[str, ...],
        trust: SourceTrust = TRUSTED,
    ):
        self.c = check
        self.integration_types = integration_types
        self.trust = trust
        # False while an entry identical to a trusted one is checked (see SourceTrust).
        self.untrusted = not trust.trusted
        self.pages: list[PageDraft] = []
        self.fields: dict[str, FieldDraft] = {}  # every field by id, first of duplicates
        self.page_ids: dict[str, int] = {}
        self.profiles: dict[str, FieldDraft] = {}
        # Fields whose type is unknown: conditions naming them are not type-checked.
        self.untyped: set[str] = set()

    # -- environment references (trust-aware) ----------------------------------------

    def env_reference(self, text: str, path: KeyPath) -> bool:
        """`FileCheck.env_name`, and in an untrusted file (the console) the name must be
        in the organization's namespace. True when `text` is an `env:` reference."""
        if not self.c.env_name(text, path):
            return False
        prefix = self.trust.env_prefix
        match = ENV_RE.match(text)
        assert match is not None
        name = match.group(1)
        if self.untrusted and prefix is not None and not name.startswith(prefix):
            self.c.error(
                path,
                f"env:{name} is not this organization's: a procedure published from the "
                f"console may only name environment variables starting with {prefix} "
                f"(such as env:{prefix}{name}), set by the operator",
            )
        return True

    def secret(self, value: Any, path: KeyPath) -> str | None:
        """`FileCheck.secret`, with the namespace rule of `env_reference`."""
        text = self.c.string(value, path, "env:NAME")
        if text is None:
            return None
        if not self.env_reference(text, path):
            self.c.error(path, "secrets must come from the environment: write env:NAME")
            return None
        return text

    def pages_of(self, value: Any) -> None:
        entries = self.c.sequence(value, ("pages",), "pages")
        for index, entry in enumerate(entries):
            path: KeyPath = ("pages", index)
            page = PageDraft(path=path, line=self.c.doc.line(path))
            self.pages.append(page)
            entry = self.c.mapping(entry, path, "a page: a mapping with id, title and fields")
            if entry is None:
                continue
            self.c.check_keys(entry, path, PAGE_KEYS, ("id", "title", "fields"))
            if "id" in entry:
                page.id = self.identifier(entry["id"], path + ("id",))
                if page.id is not None:
                    if page.id in self.page_ids:
                        self.c.error(
                            path + ("id",),
                            f"duplicate page id {page.id!r} (first used on line "
                            f"{self.page_ids[page.id]})",
                        )
                    else:
                        self.page_ids[page.id] = self.c.doc.line(path + ("id",))
            if "title" in entry:
                page.title = self.c.text(entry["title"], path + ("title",))
            if "show_if" in entry:
                page.show_if = self.c.expression(entry["show_if"], path + ("show_if",))
            if "fields" in entry:
                items = self.c.sequence(entry["fields"], path + ("fields",), "fields")
                for position, item in enumerate(items):
                    draft = self.field_of(item, path + ("fields", position), index, None)
                    if draft is not None:
                        page.fields.append(draft)

    def identifier(self, value: Any, path: KeyPath) -> str | None:
        text = self.c.string(value, path, "an id")
        if text is None:
            return None
        if not ID_RE.match(text):
            self.c.error(
                path,
                f"{text!r} is not a valid id: start with a lower-case letter, then use "
                "lower-case letters, digits and underscores",
            )
            return None
        if text in RESERVED_IDS:
            self.c.error(path, f"{text!r} is a word of the condition language; choose another id")
            return None
        return text

    def field_of(
        self, value: Any, path: KeyPath, page: int, group: FieldDraft | None
    ) -> FieldDraft | None:
        c = self.c
        entry = c.mapping(value, path, "a field: a mapping with id, type and label")
        if entry is None:
            return None
        draft = FieldDraft(path=path, line=c.doc.line(path), page=page, group=group)

        types = type_names()
        if "type" in entry:
            type_name = c.scalar_str(entry["type"], path + ("type",))
            if type_name in types:
                draft.type = type_name
            else:
                c.error(
                    path + ("type",),
                    f"unknown field type {type_name!r}{suggest(type_name or '', types)}; "
                    f"valid types: {quote_list(types)}",
                )
        type_name = draft.type

        required = ["id", "type"]
        if type_name not in (None, "static"):
            required.append("label")
        if type_name is not None:
            required.extend(required_keys(type_name))
        known_keys = all_field_keys()
        if type_name is not None:
            keys_of = type_keys()
            allowed = COMMON_FIELD_KEYS + keys_of[type_name]

            def elsewhere(key: str) -> str | None:
                if key in known_keys:
                    users = [t for t, keys in keys_of.items() if key in keys]
                    return (
                        f"key {key!r} does not apply to a {type_name} field "
                        f"(it is for {quote_list(users)})"
                    )
                return None

            c.check_keys(entry, path, allowed, required, elsewhere=elsewhere)
        else:
            # The type is unknown, so only keys no field type knows are reported.
            c.check_keys(entry, path, known_keys, required)

        if "id" in entry:
            draft.id = self.identifier(entry["id"], path + ("id",))
            if draft.id is not None:
                first = self.fields.get(draft.id)
                if first is not None:
                    c.error(
                        path + ("id",),
                        f"duplicate field id {draft.id!r} (first used on line {first.line}); "
                        "field ids must be unique in the whole file",
                    )
                else:
                    self.fields[draft.id] = draft
                    if type_name is None:
                        self.untyped.add(draft.id)
        if "label" in entry:
            draft.label = c.text(entry["label"], path + ("label",))
        if "help" in entry:
            draft.help = c.text(entry["help"], path + ("help",))
        if "required" in entry:
            draft.required = bool(c.boolean(entry["required"], path + ("required",)))
            if draft.required and type_name == "static":
                c.error(
                    path + ("required",), "a static field has no answer, so it cannot be required"
                )
        if "show_if" in entry:
            draft.show_if = c.expression(entry["show_if"], path + ("show_if",))
        if "profile" in entry:
            self.profile_of(entry["profile"], path + ("profile",), draft)

        if type_name is not None:
            params_check(type_name)(self, entry, path, draft)
        return draft

    def profile_of(self, value: Any, path: KeyPath, draft: FieldDraft) -> None:
        c = self.c
        key = c.scalar_str(value, path)
        if key not in PROFILE_KEYS:
            c.error(
                path,
                f"unknown profile key {key!r}{suggest(key or '', PROFILE_KEYS)}; "
                f"known keys: {quote_list(PROFILE_KEYS)}",
            )
            return
        if draft.type is not None and draft.type not in PROFILE_KEYS[key]:
            c.error(
                path,
                f"profile {key!r} needs a field of type {quote_list(PROFILE_KEYS[key])}, "
                f"not {draft.type}",
            )
            return
        if draft.group is not None:
            c.error(path, "a field inside a group cannot carry a profile key (it has many entries)")
            return
        # Several fields may share a key (a form may ask for the applicant's and a contact's
        # phone, both prefilled from the profile): the format does not forbid it.
        self.profiles.setdefault(key, draft)
        draft.profile = key

    def symbols(self) -> dict[str, str]:
        """Every field of the file by id, group children included: which of them a given
        condition may name is decided by the scope rules, the checker only sees types."""
        return {
            f.id: f.symbol_type
            for f in self.fields.values()
            if f.id is not None and f.symbol_type is not None
        }
