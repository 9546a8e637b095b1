"""Load a procedures directory into typed specs, reporting every error at once.

Layout: `<root>/<org-slug>/organization.yaml`, `<proc-slug>.yaml`,
`<bundle-slug>.bundle.yaml`. Each problem becomes a `LoadError(file, line, path, message)`
that prints as `sample-city/dog-registration.yaml:41 pages[1].fields[3].show_if: ...`.
A file with any error is listed in `tree.broken_files` and never yields a spec: a broken
file must not replace the version that is live.

Rules this loader adds where the format page leaves a choice:

- Scope of conditions. A field inside a group has one value per entry, so a condition
  outside the group cannot name it (it may name the group itself: `len(kids) > 0`). A
  `show_if` on a field inside a group may name its siblings (evaluated per entry), its
  own group, and fields outside groups.
- Order of conditions. A page's `show_if` may only name fields of earlier pages: the
  decision to show or skip a page is taken before its fields are answered. A field's
  `show_if` may name fields of its own page or earlier pages, never a later page (not
  answered yet) nor itself, and conditions on one page must not depend on each other in
  a circle. Fee `when`/`quantity` run after the last page and may name any field
  outside groups.
- Scalars where the format wants text are taken as written: YAML 1.1 reads `yes`, `no`,
  `on`, `off` as booleans, so `{value: yes}` is the option value "yes" and
  `{ja: いいえ, en: No}` keeps "No". Keys that want a boolean (`required`, `era`,
  `integer`) accept true/false and the YAML 1.1 words.
- Unknown keys anywhere are errors, with a "did you mean" hint, so that `showif:` does
  not silently leave a field always visible.
- Defaults filled in `FieldSpec.params`: file `accept` (every kind), `max_size` (10 MB),
  `max_files` (1), `resize_images` (None); name `kana` ("none"); number `integer`
  (True); date `era` (False); group `repeat_min` (0), `repeat_max` (10). A fee without
  `methods` offers card and konbini. A csv integration without `encoding` gets utf-8.
- Ids: field ids follow the page id pattern `[a-z][a-z0-9_]*`, since conditions name
  them, and may not be a keyword of the condition language (`and`, `true`, ...).
- A profile key is not used inside a group (a group has many entries, a profile one
  value); several fields may share one. A postal code `fills` an address field of its
  own scope (both outside groups, or both in the same group).
- Files of an organization whose organization.yaml is missing or broken are refused,
  but still checked, so that their own errors are reported in the same run.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from forms_engine import normalize

from . import expr as expr_lang
from .model import (
    FIELD_TYPES,
    FILE_KINDS,
    PROFILE_KEYS,
    AcceptingSpec,
    BundleSpec,
    DateBound,
    DepartmentSpec,
    FeeItem,
    FeeSpec,
    FieldSpec,
    IntegrationSpec,
    LoadError,
    Option,
    OrganizationSpec,
    PageSpec,
    ProcedureSpec,
    ProcedureTree,
    Text,
)
from .yamlsource import Path as KeyPath
from .yamlsource import YamlDocument, format_path, parse_yaml

DEFAULT_INTEGRATION_TYPES: tuple[str, ...] = ("webhook", "csv", "email")

ORGANIZATION_FILE = "organization.yaml"
BUNDLE_SUFFIX = ".bundle.yaml"
FILE_PATH = "(file)"  # key path of problems that concern a whole file

SLUG_RE = re.compile(r"^[a-z0-9-]{3,64}$")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
INTEGRATION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}(-[A-Za-z]+)?$")
ENV_RE = re.compile(r"^env:(.*)$")
ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
DATE_OFFSET_RE = re.compile(r"^([+-])(\d+)([ymd])$")

# Keywords of the condition language: a field with such an id could never be named in one.
# (Function names stay usable: `age` alone is a name, only `age(...)` is a call.)
RESERVED_IDS = expr_lang.KEYWORDS

LOGIN_CHOICES = ("none", "optional", "required")
KANA_CHOICES = ("none", "optional", "required")
FEE_TIMINGS = ("before_review", "after_review")
PAYMENT_METHODS = ("card", "konbini")
CSV_ENCODINGS = ("utf-8", "cp932")
CSV_META_COLUMNS = ("receipt_number", "submitted_at", "status", "procedure", "department")
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_REPEAT_MAX = 10

ORGANIZATION_KEYS = ("name", "departments", "contact", "payment_account")
DEPARTMENT_KEYS = ("slug", "name", "email")
BUNDLE_KEYS = ("title", "description", "procedures")
PROCEDURE_KEYS = (
    "title",
    "department",
    "description",
    "login",
    "accepting",
    "contact_email",
    "pages",
    "fee",
    "integrations",
    "retention_days",
    "attachments_total_max",
)
PAGE_KEYS = ("id", "title", "show_if", "fields")
ACCEPTING_KEYS = ("opens", "closes", "capacity")
FEE_KEYS = ("timing", "methods", "items")
FEE_ITEM_KEYS = ("label", "amount", "quantity", "when")
OPTION_KEYS = ("value", "label")
REPEAT_KEYS = ("min", "max")
COMMON_FIELD_KEYS = ("id", "type", "label", "help", "required", "show_if", "profile")
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "text": ("min_length", "max_length", "pattern", "pattern_message"),
    "textarea": ("min_length", "max_length"),
    "number": ("min", "max", "integer", "unit"),
    "email": (),
    "tel": (),
    "date": ("min", "max", "era"),
    "select": ("options",),
    "radio": ("options",),
    "checkboxes": ("options", "min_selected", "max_selected"),
    "yes_no": (),
    "consent": ("content",),
    "name": ("kana",),
    "kana": ("min_length", "max_length"),
    "postal_code": ("fills",),
    "address": (),
    "corporate_number": (),
    "bank_account": (),
    "file": ("accept", "max_size", "max_files", "resize_images"),
    "static": ("content",),
    "group": ("repeat", "add_label", "fields"),
}
ALL_FIELD_KEYS = tuple(
    dict.fromkeys(COMMON_FIELD_KEYS + tuple(k for keys in TYPE_KEYS.values() for k in keys))
)

#: Field type -> the type name the condition checker knows it by.
SYMBOL_TYPES: dict[str, str] = {
    **dict.fromkeys(
        (
            "text",
            "textarea",
            "email",
            "tel",
            "kana",
            "select",
            "radio",
            "corporate_number",
            "postal_code",
        ),
        "string",
    ),
    "number": "number",
    "date": "date",
    "yes_no": "bool",
    "consent": "bool",
    "checkboxes": "list",
    "group": "group",
    "file": "files",
    "name": "compound:name",
    "address": "compound:address",
    "bank_account": "compound:bank_account",
    "static": "none",
}

INTEGRATION_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type -> (required keys, optional keys), besides id and type
    "webhook": (("url", "secret"), ()),
    "csv": (("schedule", "destination"), ("encoding", "columns")),
    "email": (("to",), ()),
}
# In integration types this loader does not know, keys named like these must still
# come from the environment.
SECRET_KEY_RE = re.compile(r"(^|_)(secret|password|token|api_key|key)$")

CRON_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    ),
    ("day of week", 0, 7, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
)


def parse_size(value: Any) -> int:
    """ "20MB" -> 20971520, with binary units (1 KB = 1024 bytes). Raises ValueError.

    forms_engine.normalize.parse_size reads the size, so the project has one size syntax;
    a procedure file must also name the unit, because `max_size: 20` read as 20 bytes is
    never what its author meant."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("must be a size such as 500KB, 20MB or 2GB")
    if isinstance(value, int) or value.strip().isdigit():
        raise ValueError(f"{value} needs a unit, e.g. {str(value).strip()}MB")
    try:
        size = normalize.parse_size(value)
    except ValueError:
        if re.fullmatch(r"\s*0+\s*[A-Za-z]*\s*", value):
            raise ValueError("must be more than 0 bytes") from None
        raise ValueError(f"{value!r} is not a size: write e.g. 500KB, 20MB or 2GB") from None
    return size


def suggest(word: str, choices: Iterable[str]) -> str:
    """A " (did you mean 'x'?)" hint, or ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _quote_list(values: Iterable[str]) -> str:
    return ", ".join(values)


class _FileCheck:
    """One file being checked: its parsed YAML and the errors found so far."""

    def __init__(self, rel_path: str, doc: YamlDocument):
        self.rel_path = rel_path
        self.doc = doc
        self.errors: list[LoadError] = []

    # -- reporting ---------------------------------------------------------------

    def error(self, path: KeyPath, message: str) -> None:
        if self.doc.is_bad(path):
            return
        self.errors.append(
            LoadError(self.rel_path, self.doc.line(path), format_path(path) or FILE_PATH, message)
        )

    def check_keys(
        self,
        mapping: Mapping[str, Any],
        path: KeyPath,
        allowed: Iterable[str],
        required: Iterable[str] = (),
        *,
        elsewhere: Callable[[str], str | None] | None = None,
    ) -> None:
        """Report unknown keys (with a hint) and missing required ones (at the parent)."""
        allowed = tuple(allowed)
        for key in mapping:
            if key in allowed:
                continue
            hint = elsewhere(key) if elsewhere else None
            if hint:
                self.error(path + (key,), hint)
            else:
                self.error(path + (key,), f"unknown key {key!r}{suggest(key, allowed)}")
        for key in required:
            if key not in mapping:
                self.error(path + (key,), "required key is missing")

    # -- typed values -------------------------------------------------------------

    def scalar_str(self, value: Any, path: KeyPath) -> str | None:
        """A scalar as the text written in the file, or None for null, lists and mappings."""
        if isinstance(value, str):
            return value
        if value is None or isinstance(value, dict | list):
            return None
        written = self.doc.scalar_text(path)
        return written if written is not None else str(value)

    def mapping(self, value: Any, path: KeyPath, what: str = "a mapping of keys") -> dict | None:
        if isinstance(value, dict):
            return value
        self.error(path, f"must be {what}")
        return None

    def sequence(self, value: Any, path: KeyPath, what: str, *, non_empty: bool = True) -> list:
        if not isinstance(value, list):
            self.error(path, f"must be a list of {what}")
            return []
        if non_empty and not value:
            self.error(path, "must not be an empty list")
        return value

    def string(self, value: Any, path: KeyPath, what: str = "a text") -> str | None:
        text = self.scalar_str(value, path)
        if text is None or not text.strip():
            self.error(path, f"must be {what}" if value is not None else "must not be empty")
            return None
        return text

    def text(self, value: Any, path: KeyPath) -> Text | None:
        if isinstance(value, dict):
            values: dict[str, str] = {}
            ok = True
            for language, item in value.items():
                item_path = path + (language,)
                if not LANGUAGE_RE.match(language):
                    self.error(item_path, f"{language!r} is not a language code such as ja or en")
                    ok = False
                    continue
                item_text = self.scalar_str(item, item_path)
                if item_text is None or not item_text.strip():
                    self.error(item_path, "must be a non-empty text")
                    ok = False
                    continue
                values[language] = item_text
            if "ja" not in value:
                self.error(
                    path, "needs the Japanese text under 'ja' (other languages are optional)"
                )
                ok = False
            return Text(values) if ok else None
        text = self.scalar_str(value, path)
        if text is None:
            self.error(
                path,
                "must not be empty"
                if value is None
                else "must be a text: a string or a mapping such as {ja: 氏名, en: Name}",
            )
            return None
        if not text.strip():
            self.error(path, "must not be empty")
            return None
        return Text({"ja": text})

    def boolean(self, value: Any, path: KeyPath) -> bool | None:
        if isinstance(value, bool):
            return value
        self.error(path, "must be true or false")
        return None

    def integer(
        self, value: Any, path: KeyPath, *, minimum: int | None = None, what: str = ""
    ) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                ok_value = int(value)
            else:
                self.error(path, f"must be a whole number{what}")
                return None
        else:
            ok_value = value
        if minimum is not None and ok_value < minimum:
            if minimum == 1:
                self.error(path, "must be 1 or more")
            elif minimum == 0:
                self.error(path, "must not be negative")
            else:
                self.error(path, f"must be {minimum} or more")
            return None
        return ok_value

    def number(self, value: Any, path: KeyPath) -> int | float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(path, "must be a number")
            return None
        return value

    def choice(self, value: Any, path: KeyPath, choices: Iterable[str]) -> str | None:
        choices = tuple(choices)
        text = self.scalar_str(value, path)
        if text in choices:
            return text
        shown = "nothing" if text is None else repr(text)
        self.error(
            path,
            f"{shown} is not one of {_quote_list(choices)}{suggest(text or '', choices)}",
        )
        return None

    def size(self, value: Any, path: KeyPath) -> int | None:
        try:
            return parse_size(value)
        except ValueError as exc:
            self.error(path, str(exc))
            return None

    def env_name(self, text: str, path: KeyPath) -> bool:
        """Check an `env:NAME` reference; True when `text` is one and it is well formed."""
        match = ENV_RE.match(text)
        if not match:
            return False
        if not ENV_NAME_RE.match(match.group(1)):
            self.error(
                path,
                f"{match.group(1)!r} is not an environment variable name: use upper-case "
                "letters, digits and underscores, starting with a letter (env:NAME)",
            )
        return True

    def secret(self, value: Any, path: KeyPath) -> str | None:
        text = self.string(value, path, "env:NAME")
        if text is None:
            return None
        if not self.env_name(text, path):
            self.error(path, "secrets must come from the environment: write env:NAME")
            return None
        return text

    def expression(self, value: Any, path: KeyPath) -> Any:
        if value is None:
            self.error(path, "must not be empty")
            return None
        if isinstance(value, dict | list):
            self.error(path, "must be a condition such as breed == 'other'")
            return None
        source: Any = value
        if not isinstance(value, bool | int | str):
            source = self.scalar_str(value, path)  # a float or date: let the parser judge it
        try:
            return expr_lang.parse(source)
        except expr_lang.ExprError as exc:
            where = f" (at character {exc.offset + 1})" if exc.offset is not None else ""
            self.error(path, f"invalid condition: {exc.message}{where}")
            return None

    def result(self) -> list[LoadError]:
        return sorted(self.errors, key=lambda e: e.line)


def _read_yaml(text: str | bytes, rel_path: str) -> tuple[_FileCheck | None, Any, str, list]:
    """Parse a file's text. Returns (checker, data, content_hash, errors so far)."""
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            return (
                None,
                None,
                "",
                [LoadError(rel_path, line, FILE_PATH, "the file is not UTF-8 text")],
            )
    else:
        raw = text.encode("utf-8", "surrogatepass")
    content_hash = hashlib.sha256(raw).hexdigest()
    doc, problems = parse_yaml(text.removeprefix("\ufeff"))
    if doc is None:
        return (
            None,
            None,
            content_hash,
            [
                LoadError(rel_path, p.line, format_path(p.path) or FILE_PATH, p.message)
                for p in problems
            ],
        )
    check = _FileCheck(rel_path, doc)
    for p in problems:
        check.errors.append(
            LoadError(rel_path, p.line, format_path(p.path) or FILE_PATH, p.message)
        )
    if doc.data is None:
        check.error((), "the file is empty")
        return check, None, content_hash, []
    if not isinstance(doc.data, dict):
        check.error((), "the file must be a mapping of keys (title: ..., pages: ...)")
        return check, None, content_hash, []
    return check, doc.data, content_hash, []


# -- organization.yaml ---------------------------------------------------------------


def parse_organization(
    text: str | bytes, *, slug: str, rel_path: str
) -> tuple[OrganizationSpec | None, list[LoadError]]:
    check, data, content_hash, errors = _read_yaml(text, rel_path)
    if check is None:
        return None, errors
    if data is None:
        return None, check.result()
    check.check_keys(data, (), ORGANIZATION_KEYS, ("name", "departments"))
    name = check.text(data["name"], ("name",)) if "name" in data else None
    contact = check.text(data["contact"], ("contact",)) if "contact" in data else None
    payment_account = None
    if "payment_account" in data:
        payment_account = check.string(data["payment_account"], ("payment_account",), "a name")
    departments: list[DepartmentSpec] = []
    if "departments" in data:
        seen: dict[str, int] = {}
        entries = check.sequence(data["departments"], ("departments",), "departments")
        for index, entry in enumerate(entries):
            path: KeyPath = ("departments", index)
            entry = check.mapping(entry, path, "a mapping {slug, name, email}")
            if entry is None:
                continue
            check.check_keys(entry, path, DEPARTMENT_KEYS, ("slug", "name"))
            dept_slug = None
            if "slug" in entry:
                dept_slug = check.string(entry["slug"], path + ("slug",), "a slug")
                if dept_slug is not None and not SLUG_RE.match(dept_slug):
                    check.error(
                        path + ("slug",),
                        f"{dept_slug!r} is not a slug: use 3 to 64 lower-case letters, "
                        "digits and hyphens",
                    )
                    dept_slug = None
                elif dept_slug is not None and dept_slug in seen:
                    check.error(
                        path + ("slug",),
                        f"duplicate department {dept_slug!r} (first on line {seen[dept_slug]})",
                    )
                    dept_slug = None
                elif dept_slug is not None:
                    seen[dept_slug] = check.doc.line(path + ("slug",))
            dept_name = check.text(entry["name"], path + ("name",)) if "name" in entry else None
            email = None
            if "email" in entry:
                email = check.string(entry["email"], path + ("email",), "an email address")
                if email is not None and not EMAIL_RE.match(email):
                    check.error(path + ("email",), f"{email!r} is not an email address")
                    email = None
            if dept_slug and dept_name:
                departments.append(DepartmentSpec(dept_slug, dept_name, email))
    if check.errors or name is None:
        return None, check.result()
    return (
        OrganizationSpec(
            slug=slug,
            name=name,
            departments=tuple(departments),
            source_path=rel_path,
            content_hash=content_hash,
            contact=contact,
            payment_account=payment_account,
        ),
        [],
    )


# -- bundles ---------------------------------------------------------------------------


def parse_bundle(
    text: str | bytes,
    *,
    organization_slug: str,
    slug: str,
    rel_path: str,
    procedure_slugs: set[str] | None,
    broken_procedures: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[BundleSpec | None, list[LoadError]]:
    """`procedure_slugs`: procedures of the organization that loaded without errors
    (None: do not check, e.g. when the organization itself is broken)."""
    check, data, content_hash, errors = _read_yaml(text, rel_path)
    if check is None:
        return None, errors
    if data is None:
        return None, check.result()
    check.check_keys(data, (), BUNDLE_KEYS, ("title", "procedures"))
    title = check.text(data["title"], ("title",)) if "title" in data else None
    description = (
        check.text(data["description"], ("description",)) if "description" in data else None
    )
    slugs: list[str] = []
    if "procedures" in data:
        seen: set[str] = set()
        entries = check.sequence(data["procedures"], ("procedures",), "procedure slugs")
        for index, entry in enumerate(entries):
            path: KeyPath = ("procedures", index)
            name = check.string(entry, path, "a procedure slug")
            if name is None:
                continue
            if name in seen:
                check.error(path, f"procedure {name!r} is listed twice")
                continue
            seen.add(name)
            if procedure_slugs is not None and name not in procedure_slugs:
                if name in broken_procedures:
                    check.error(
                        path,
                        f"procedure {name!r} has errors, so the bundle cannot include it "
                        f"(see {organization_slug}/{name}.yaml)",
                    )
                else:
                    check.error(
                        path,
                        f"no procedure {name!r} in {organization_slug}"
                        f"{suggest(name, procedure_slugs)}",
                    )
                continue
            slugs.append(name)
    if check.errors or title is None:
        return None, check.result()
    return (
        BundleSpec(
            organization=organization_slug,
            slug=slug,
            title=title,
            procedures=tuple(slugs),
            source_path=rel_path,
            content_hash=content_hash,
            description=description,
        ),
        [],
    )


# -- procedures ------------------------------------------------------------------------


@dataclass
class _FieldDraft:
    """A field while the file is being checked; becomes a FieldSpec when all is well."""

    path: KeyPath
    line: int
    page: int
    id: str | None = None
    type: str | None = None
    group: _FieldDraft | None = None  # the group this field belongs to
    label: Text | None = None
    help: Text | None = None
    required: bool = False
    show_if: Any = None
    profile: str | None = None
    options: tuple[Option, ...] = ()
    children: list[_FieldDraft] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def symbol_type(self) -> str | None:
        return SYMBOL_TYPES.get(self.type or "")

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
class _PageDraft:
    path: KeyPath
    line: int
    id: str | None = None
    title: Text | None = None
    show_if: Any = None
    fields: list[_FieldDraft] = field(default_factory=list)


class _ProcedureCheck:
    def __init__(self, check: _FileCheck, integration_types: tuple[str, ...]):
        self.c = check
        self.integration_types = integration_types
        self.pages: list[_PageDraft] = []
        self.fields: dict[str, _FieldDraft] = {}  # every field by id, first of duplicates
        self.page_ids: dict[str, int] = {}
        self.profiles: dict[str, _FieldDraft] = {}
        # Fields whose type is unknown: conditions naming them are not type-checked.
        self.untyped: set[str] = set()

    # -- pages and fields --------------------------------------------------------

    def pages_of(self, value: Any) -> None:
        entries = self.c.sequence(value, ("pages",), "pages")
        for index, entry in enumerate(entries):
            path: KeyPath = ("pages", index)
            page = _PageDraft(path=path, line=self.c.doc.line(path))
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
        self, value: Any, path: KeyPath, page: int, group: _FieldDraft | None
    ) -> _FieldDraft | None:
        c = self.c
        entry = c.mapping(value, path, "a field: a mapping with id, type and label")
        if entry is None:
            return None
        draft = _FieldDraft(path=path, line=c.doc.line(path), page=page, group=group)

        if "type" in entry:
            type_name = c.scalar_str(entry["type"], path + ("type",))
            if type_name in FIELD_TYPES:
                draft.type = type_name
            else:
                c.error(
                    path + ("type",),
                    f"unknown field type {type_name!r}{suggest(type_name or '', FIELD_TYPES)}; "
                    f"valid types: {_quote_list(FIELD_TYPES)}",
                )
        type_name = draft.type

        required = ["id", "type"]
        if type_name not in (None, "static"):
            required.append("label")
        if type_name == "static":
            required.append("content")
        if type_name == "group":
            required.append("fields")
        if type_name is not None:
            allowed = COMMON_FIELD_KEYS + TYPE_KEYS[type_name]

            def elsewhere(key: str) -> str | None:
                if key in ALL_FIELD_KEYS:
                    users = [t for t, keys in TYPE_KEYS.items() if key in keys]
                    return (
                        f"key {key!r} does not apply to a {type_name} field "
                        f"(it is for {_quote_list(users)})"
                    )
                return None

            c.check_keys(entry, path, allowed, required, elsewhere=elsewhere)
        else:
            # The type is unknown, so only keys no field type knows are reported.
            c.check_keys(entry, path, ALL_FIELD_KEYS, required)

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
            self.type_params(entry, path, draft)
        return draft

    def profile_of(self, value: Any, path: KeyPath, draft: _FieldDraft) -> None:
        c = self.c
        key = c.scalar_str(value, path)
        if key not in PROFILE_KEYS:
            c.error(
                path,
                f"unknown profile key {key!r}{suggest(key or '', PROFILE_KEYS)}; "
                f"known keys: {_quote_list(PROFILE_KEYS)}",
            )
            return
        if draft.type is not None and draft.type not in PROFILE_KEYS[key]:
            c.error(
                path,
                f"profile {key!r} needs a field of type {_quote_list(PROFILE_KEYS[key])}, "
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

    def type_params(self, entry: dict, path: KeyPath, draft: _FieldDraft) -> None:
        c = self.c
        t = draft.type
        params = draft.params

        def has(key: str) -> bool:
            return key in entry and key in TYPE_KEYS[t]  # type: ignore[index]

        if has("min_length") or has("max_length"):
            lo = (
                c.integer(entry["min_length"], path + ("min_length",), minimum=0)
                if has("min_length")
                else None
            )
            hi = (
                c.integer(entry["max_length"], path + ("max_length",), minimum=1)
                if has("max_length")
                else None
            )
            if lo is not None:
                params["min_length"] = lo
            if hi is not None:
                params["max_length"] = hi
            if lo is not None and hi is not None and lo > hi:
                c.error(path + ("min_length",), f"min_length {lo} is more than max_length {hi}")

        if t == "text":
            if has("pattern"):
                pattern = c.string(entry["pattern"], path + ("pattern",), "a regular expression")
                if pattern is not None:
                    try:
                        re.compile(pattern)
                        params["pattern"] = pattern
                    except re.error as exc:
                        c.error(path + ("pattern",), f"invalid regular expression: {exc}")
            if has("pattern_message"):
                message = c.text(entry["pattern_message"], path + ("pattern_message",))
                if message is not None:
                    params["pattern_message"] = message
                if "pattern" not in entry:
                    c.error(path + ("pattern_message",), "pattern_message needs a pattern")

        elif t == "number":
            params["integer"] = True
            if has("integer"):
                integer = c.boolean(entry["integer"], path + ("integer",))
                if integer is not None:
                    params["integer"] = integer
            bounds = {}
            for key in ("min", "max"):
                if has(key):
                    bound = c.number(entry[key], path + (key,))
                    if bound is None:
                        continue
                    if params["integer"] and isinstance(bound, float) and not bound.is_integer():
                        c.error(
                            path + (key,), "must be a whole number (the field has integer: true)"
                        )
                        continue
                    bounds[key] = params[key] = bound
            if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
                c.error(path + ("min",), f"min {bounds['min']} is more than max {bounds['max']}")
            if has("unit"):
                unit = c.text(entry["unit"], path + ("unit",))
                if unit is not None:
                    params["unit"] = unit

        elif t == "date":
            params["era"] = False
            if has("era"):
                era = c.boolean(entry["era"], path + ("era",))
                if era is not None:
                    params["era"] = era
            for key in ("min", "max"):
                if has(key):
                    bound = self.date_bound(entry[key], path + (key,))
                    if bound is not None:
                        params[key] = bound
            lo, hi = params.get("min"), params.get("max")
            if lo is not None and hi is not None and _date_bounds_reversed(lo, hi):
                c.error(path + ("min",), "min is later than max")

        elif t in ("select", "radio", "checkboxes"):
            if "options" not in entry:
                c.error(path + ("options",), "required key is missing")
            else:
                draft.options = self.options_of(entry["options"], path + ("options",))
            if t == "checkboxes":
                self.selection_bounds(entry, path, draft)

        elif t in ("consent", "static"):
            if has("content"):
                content = c.text(entry["content"], path + ("content",))
                if content is not None:
                    params["content"] = content

        elif t == "name":
            params["kana"] = "none"
            if has("kana"):
                kana = c.choice(entry["kana"], path + ("kana",), KANA_CHOICES)
                if kana is not None:
                    params["kana"] = kana

        elif t == "postal_code":
            if has("fills"):
                fills = c.string(entry["fills"], path + ("fills",), "the id of an address field")
                if fills is not None:
                    params["fills"] = fills  # checked once every field is known

        elif t == "file":
            self.file_params(entry, path, params)

        elif t == "group":
            self.group_params(entry, path, draft)

    def date_bound(self, value: Any, path: KeyPath) -> DateBound | None:
        if isinstance(value, datetime):
            self.c.error(path, "must be a date without a time, e.g. 2020-01-01")
            return None
        if isinstance(value, date):
            return DateBound(kind="date", date=value.isoformat())
        text = self.c.scalar_str(value, path)
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
        self.c.error(
            path,
            "must be a date (2020-01-01), today, or an offset from today such as -18y, +30d or -6m",
        )
        return None

    def options_of(self, value: Any, path: KeyPath) -> tuple[Option, ...]:
        c = self.c
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
                        f"duplicate option value {option_value!r} (first on line "
                        f"{seen[option_value]})",
                    )
                    option_value = None
                elif option_value is not None:
                    seen[option_value] = c.doc.line(item_path + ("value",))
            label = c.text(entry["label"], item_path + ("label",)) if "label" in entry else None
            if option_value is not None and label is not None:
                options.append(Option(option_value, label))
        return tuple(options)

    def selection_bounds(self, entry: dict, path: KeyPath, draft: _FieldDraft) -> None:
        c = self.c
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

    def file_params(self, entry: dict, path: KeyPath, params: dict[str, Any]) -> None:
        c = self.c
        params.update(accept=FILE_KINDS, max_size=DEFAULT_MAX_SIZE, max_files=1, resize_images=None)
        if "accept" in entry:
            kinds: list[str] = []
            for index, item in enumerate(
                c.sequence(entry["accept"], path + ("accept",), "file kinds")
            ):
                kind = c.scalar_str(item, path + ("accept", index))
                if kind not in FILE_KINDS:
                    c.error(
                        path + ("accept", index),
                        f"unknown file kind {kind!r}{suggest(kind or '', FILE_KINDS)}; "
                        f"known kinds: {_quote_list(FILE_KINDS)}",
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

    def group_params(self, entry: dict, path: KeyPath, draft: _FieldDraft) -> None:
        c = self.c
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
                child = self.field_of(item, item_path, draft.page, draft)
                if child is not None:
                    draft.children.append(child)

    # -- conditions and references between fields --------------------------------

    def symbols(self) -> dict[str, str]:
        """Every field of the file by id, group children included: which of them a given
        condition may name is decided by the scope rules, the checker only sees types."""
        return {
            f.id: f.symbol_type
            for f in self.fields.values()
            if f.id is not None and f.symbol_type is not None
        }

    def check_expression(
        self, expression: Any, path: KeyPath, allowed: Callable[[_FieldDraft], str | None]
    ) -> None:
        """Check the names in scope (`allowed(field)` says why a field may not be named
        here, or None), then the types."""
        if expression is None:
            return
        scope_errors = False
        for name in sorted(expression.names):
            target = self.fields.get(name)
            if target is None:
                continue  # the checker reports unknown names
            reason = allowed(target)
            if reason:
                self.c.error(path, reason)
                scope_errors = True
        # One explanation per condition is enough: a field out of scope, or one whose type
        # is already refused, would only add confusing type errors.
        if scope_errors or expression.names & self.untyped:
            return
        for message in expr_lang.check(expression, self.symbols()):
            self.c.error(path, message)

    def check_references(self) -> None:
        page_name = {i: (p.id or f"pages[{i}]") for i, p in enumerate(self.pages)}

        def outside_groups(field_draft: _FieldDraft) -> str | None:
            if field_draft.group is not None:
                return (
                    f"field {field_draft.id!r} is inside group {field_draft.group.id!r}, which "
                    f"has one value per entry: name the group instead, e.g. "
                    f"len({field_draft.group.id})"
                )
            return None

        for index, page in enumerate(self.pages):

            def for_page(target: _FieldDraft, index: int = index) -> str | None:
                reason = outside_groups(target)
                if reason:
                    return reason
                if target.page == index:
                    return (
                        f"a page's show_if cannot use field {target.id!r} of the same page: "
                        "it is decided before the page is answered"
                    )
                if target.page > index:
                    return (
                        f"a page's show_if cannot use field {target.id!r} of a later page "
                        f"({page_name[target.page]!r})"
                    )
                return None

            self.check_expression(page.show_if, page.path + ("show_if",), for_page)

            for draft in page.fields:
                self.check_field_condition(draft, page_name, outside_groups)
                for child in draft.children:
                    self.check_field_condition(child, page_name, outside_groups)

        self.check_cycles()
        self.check_fills()

    def check_field_condition(
        self,
        draft: _FieldDraft,
        page_name: Mapping[int, str],
        outside_groups: Callable[[_FieldDraft], str | None],
    ) -> None:
        def for_field(target: _FieldDraft) -> str | None:
            if target is draft:
                return "a field's show_if cannot use the field itself"
            if target.group is not None and target.group is not draft.group:
                if draft.group is None:
                    return outside_groups(target)
                return (
                    f"field {target.id!r} belongs to group {target.group.id!r}; a show_if "
                    f"inside group {draft.group.id!r} may use that group's fields and fields "
                    "outside groups"
                )
            if target.page > draft.page:
                return (
                    f"field {target.id!r} is on a later page ({page_name[target.page]!r}), "
                    "so it has no answer yet"
                )
            return None

        if draft.show_if is None:
            return
        self.check_expression(draft.show_if, draft.path + ("show_if",), for_field)

    def check_cycles(self) -> None:
        """Conditions of fields shown together must not depend on each other in a circle."""
        edges: dict[str, list[str]] = {}
        drafts: dict[str, _FieldDraft] = {}
        for page in self.pages:
            for draft in page.fields:
                for f in [draft, *draft.children]:
                    if f.id is None or f.show_if is None:
                        continue
                    drafts[f.id] = f
                    edges[f.id] = [
                        n
                        for n in sorted(f.show_if.names)
                        if n in self.fields
                        and n != f.id
                        and self.fields[n].page == f.page
                        and self.fields[n].group is f.group
                    ]
        reported: set[frozenset[str]] = set()
        for start in edges:
            cycle = _find_cycle(start, edges)
            if cycle and frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                self.c.error(
                    drafts[start].path + ("show_if",),
                    "conditions depend on each other in a circle: "
                    + " -> ".join([*cycle, cycle[0]]),
                )

    def check_fills(self) -> None:
        for draft in self.fields.values():
            fills = draft.params.get("fills") if draft.type == "postal_code" else None
            if fills is None:
                continue
            path = draft.path + ("fills",)
            target = self.fields.get(fills)
            if target is None:
                addresses = [f.id for f in self.fields.values() if f.type == "address" and f.id]
                self.c.error(path, f"unknown field {fills!r}{suggest(fills, addresses)}")
            elif target.type != "address":
                self.c.error(
                    path, f"{fills!r} is a {target.type} field; fills must name an address field"
                )
            elif target.group is not draft.group:
                self.c.error(
                    path,
                    f"address field {fills!r} must be in the same group as this postal code "
                    "(or both outside groups)",
                )

    def contact_email_of(self, value: Any) -> str | None:
        c = self.c
        path: KeyPath = ("contact_email",)
        name = c.string(value, path, "the id of an email field")
        if name is None:
            return None
        target = self.fields.get(name)
        emails = [
            f.id for f in self.fields.values() if f.type == "email" and f.group is None and f.id
        ]
        if target is None:
            c.error(path, f"unknown field {name!r}{suggest(name, emails)}")
            return None
        if target.type != "email":
            c.error(
                path, f"{name!r} is a {target.type} field; contact_email must name an email field"
            )
            return None
        if target.group is not None:
            c.error(
                path,
                f"{name!r} is inside group {target.group.id!r}; contact_email must name an "
                "email field outside groups",
            )
            return None
        return name

    # -- top-level sections -------------------------------------------------------

    def accepting_of(self, value: Any) -> AcceptingSpec:
        c = self.c
        path: KeyPath = ("accepting",)
        entry = c.mapping(value, path, "a mapping {opens, closes, capacity}")
        if entry is None:
            return AcceptingSpec()
        c.check_keys(entry, path, ACCEPTING_KEYS)
        opens = self.moment(entry["opens"], path + ("opens",)) if "opens" in entry else None
        closes = self.moment(entry["closes"], path + ("closes",)) if "closes" in entry else None
        capacity = None
        if "capacity" in entry:
            capacity = c.integer(entry["capacity"], path + ("capacity",), minimum=1)
        if opens is not None and closes is not None and opens >= closes:
            c.error(path + ("closes",), "closes must be later than opens")
        return AcceptingSpec(opens=opens, closes=closes, capacity=capacity)

    def moment(self, value: Any, path: KeyPath) -> datetime | None:
        example = "e.g. 2026-11-01T09:00:00+09:00"
        moment = value
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                self.c.error(path, f"{value!r} is not an ISO 8601 date and time, {example}")
                return None
        if not isinstance(moment, datetime):
            if isinstance(moment, date):
                self.c.error(path, f"needs a time and a UTC offset, {example}")
            else:
                self.c.error(path, f"must be an ISO 8601 date and time with offset, {example}")
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.c.error(path, f"needs a UTC offset such as +09:00, {example}")
            return None
        return moment

    def fee_of(self, value: Any) -> FeeSpec | None:
        c = self.c
        path: KeyPath = ("fee",)
        entry = c.mapping(value, path, "a mapping {timing, methods, items}")
        if entry is None:
            return None
        c.check_keys(entry, path, FEE_KEYS, ("items",))
        timing = "before_review"
        if "timing" in entry:
            timing = c.choice(entry["timing"], path + ("timing",), FEE_TIMINGS) or timing
        methods: list[str] = list(PAYMENT_METHODS)
        if "methods" in entry:
            methods = []
            for index, item in enumerate(
                c.sequence(entry["methods"], path + ("methods",), "payment methods")
            ):
                method = c.choice(item, path + ("methods", index), PAYMENT_METHODS)
                if method is not None and method in methods:
                    c.error(path + ("methods", index), f"{method!r} is listed twice")
                elif method is not None:
                    methods.append(method)
        items: list[FeeItem] = []
        symbols = self.symbols()

        def outside_groups(target: _FieldDraft) -> str | None:
            if target.group is not None:
                return (
                    f"field {target.id!r} is inside group {target.group.id!r}, which has one "
                    f"value per entry: name the group instead, e.g. len({target.group.id})"
                )
            return None

        entries = (
            c.sequence(entry["items"], path + ("items",), "fee items") if "items" in entry else []
        )
        for index, item in enumerate(entries):
            item_path = path + ("items", index)
            item = c.mapping(item, item_path, "a fee item: a mapping {label, amount}")
            if item is None:
                continue
            c.check_keys(item, item_path, FEE_ITEM_KEYS, ("label", "amount"))
            label = c.text(item["label"], item_path + ("label",)) if "label" in item else None
            amount = None
            if "amount" in item:
                amount = self.amount(item["amount"], item_path + ("amount",))
            quantity = when = None
            if "quantity" in item:
                quantity = c.expression(item["quantity"], item_path + ("quantity",))
                self.check_expression(quantity, item_path + ("quantity",), outside_groups)
                if quantity is not None:
                    self.check_numeric(quantity, item_path + ("quantity",), symbols)
            if "when" in item:
                when = c.expression(item["when"], item_path + ("when",))
                self.check_expression(when, item_path + ("when",), outside_groups)
            if label is not None and amount is not None:
                items.append(
                    FeeItem(
                        label=label,
                        amount=amount,
                        line=c.doc.line(item_path),
                        quantity=quantity,
                        when=when,
                    )
                )
        return FeeSpec(timing=timing, methods=tuple(methods), items=tuple(items))

    def amount(self, value: Any, path: KeyPath) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.c.error(path, "must be a whole number of yen")
            return None
        if isinstance(value, float):
            self.c.error(path, "must be a whole number of yen: JPY has no decimals")
            return None
        if value < 0:
            self.c.error(path, "amount must not be negative")
            return None
        return value

    def check_numeric(self, expression: Any, path: KeyPath, symbols: Mapping[str, str]) -> None:
        tree = expression.to_json()
        kind = _result_type(tree, symbols)
        if kind is not None and kind != "number":
            self.c.error(
                path,
                f"quantity must be a whole number (e.g. a number field or len(group)), "
                f"but it gives {_TYPE_WORDS.get(kind, kind)}",
            )
        elif "name" in tree and "part" not in tree:
            target = self.fields.get(tree["name"])
            if (
                target is not None
                and target.type == "number"
                and not target.params.get("integer", True)
            ):
                self.c.error(
                    path,
                    f"quantity must be a whole number, but field {target.id!r} allows "
                    "decimals (integer: false)",
                )

    def integrations_of(self, value: Any) -> tuple[IntegrationSpec, ...]:
        c = self.c
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
                if type_name not in self.integration_types:
                    c.error(
                        path + ("type",),
                        f"unknown integration type {type_name!r}"
                        f"{suggest(type_name or '', self.integration_types)}; known types: "
                        f"{_quote_list(self.integration_types)}",
                    )
                    type_name = None
            config = self.integration_config(entry, path, type_name)
            if integration_id is not None and type_name is not None and config is not None:
                result.append(IntegrationSpec(integration_id, type_name, c.doc.line(path), config))
        return tuple(result)

    def integration_config(
        self, entry: dict, path: KeyPath, type_name: str | None
    ) -> dict[str, Any] | None:
        c = self.c
        errors_before = len(c.errors)
        if type_name is None or type_name not in INTEGRATION_KEYS:
            # Unknown type (already reported), or a registered target this loader does not
            # know: its keys cannot be checked, but a literal secret is still refused.
            c.check_keys(entry, path, tuple(entry), ("id", "type"))
            config = {}
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
        config: dict[str, Any] = {}
        if type_name == "webhook":
            if "url" in entry:
                url = self.url(entry["url"], path + ("url",))
                if url is not None:
                    config["url"] = url
            if "secret" in entry:
                secret = c.secret(entry["secret"], path + ("secret",))
                if secret is not None:
                    config["secret"] = secret
        elif type_name == "csv":
            if "schedule" in entry:
                schedule = c.string(entry["schedule"], path + ("schedule",), "a cron schedule")
                if schedule is not None:
                    problem = check_cron(schedule)
                    if problem:
                        c.error(path + ("schedule",), problem)
                    else:
                        config["schedule"] = schedule
            if "destination" in entry:
                destination = self.destination(entry["destination"], path + ("destination",))
                if destination is not None:
                    config["destination"] = destination
            config["encoding"] = "utf-8"
            if "encoding" in entry:
                encoding = c.choice(entry["encoding"], path + ("encoding",), CSV_ENCODINGS)
                if encoding is not None:
                    config["encoding"] = encoding
            if "columns" in entry:
                config["columns"] = self.columns(entry["columns"], path + ("columns",))
        elif type_name == "email":
            if "to" in entry:
                recipients = []
                for index, item in enumerate(
                    c.sequence(entry["to"], path + ("to",), "email addresses")
                ):
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
        return config if len(c.errors) == errors_before else None

    def url(self, value: Any, path: KeyPath) -> str | None:
        c = self.c
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

    def destination(self, value: Any, path: KeyPath) -> str | None:
        c = self.c
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

    def columns(self, value: Any, path: KeyPath) -> tuple[str, ...]:
        c = self.c
        columns: list[str] = []
        known = [
            *CSV_META_COLUMNS,
            *(f.id for page in self.pages for f in page.fields if f.id and f.type != "static"),
        ]
        for index, item in enumerate(c.sequence(value, path, "columns")):
            item_path = path + (index,)
            name = c.string(item, item_path, "a column name")
            if name is None:
                continue
            target = self.fields.get(name)
            if name in CSV_META_COLUMNS:
                pass
            elif target is None:
                c.error(
                    item_path,
                    f"unknown column {name!r}{suggest(name, known)}: use a field id or one of "
                    f"{_quote_list(CSV_META_COLUMNS)}",
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


def _find_cycle(start: str, edges: Mapping[str, list[str]]) -> list[str] | None:
    """A path start -> ... -> start through `edges`, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        node, trail = stack.pop()
        for nxt in edges.get(node, ()):
            if nxt == start:
                return trail
            if nxt not in visited:
                visited.add(nxt)
                stack.append((nxt, [*trail, nxt]))
    return None


_ARITHMETIC_OPS = frozenset({"+", "-", "*", "/", "neg"})
_TYPE_WORDS = {
    "string": "text",
    "date": "a date",
    "bool": "yes/no",
    "list": "a list",
    "group": "a group",
    "files": "files",
    "compound:name": "a name",
    "compound:address": "an address",
    "compound:bank_account": "a bank account",
}


def _result_type(node: Mapping[str, Any], symbols: Mapping[str, str]) -> str | None:
    """The type an expression tree (Expr.to_json()) yields, or None when it cannot be told."""
    if "lit" in node:
        value = node["lit"]
        if value is None:
            return None
        if isinstance(value, bool):
            return "bool"
        return "string" if isinstance(value, str) else "number"
    if "name" in node:
        return "string" if "part" in node else symbols.get(node["name"])
    if "list" in node:
        return "list"
    if "call" in node:
        return "date" if node["call"] == "today" else "number"
    op = node.get("op")
    if op in _ARITHMETIC_OPS:
        return "number"
    if op in ("and", "or"):
        kinds = {_result_type(arg, symbols) for arg in node.get("args", ())}
        return kinds.pop() if len(kinds) == 1 else None
    return "bool" if op is not None else None


def check_cron(schedule: str) -> str | None:
    """Why a 5-field cron schedule is invalid, or None."""
    parts = schedule.split()
    if len(parts) != 5:
        return (
            f"{schedule!r} is not a cron schedule: write 5 fields (minute hour day-of-month "
            'month day-of-week), e.g. "0 2 * * *"'
        )
    for part, (name, low, high, names) in zip(parts, CRON_FIELDS, strict=True):
        for piece in part.split(","):
            problem = _cron_piece(piece, low, high, names)
            if problem:
                return f"{name} field {part!r}: {problem}"
    return None


def _cron_piece(piece: str, low: int, high: int, names: Mapping[str, int]) -> str | None:
    base, _, step = piece.partition("/")
    if step:
        if not step.isdigit() or int(step) < 1:
            return f"step {step!r} must be a whole number of 1 or more"
    if base == "*":
        return None

    def value(token: str) -> int | None:
        if token.isdigit():
            return int(token)
        return names.get(token.lower())

    first, dash, last = base.partition("-")
    a = value(first)
    b = value(last) if dash else a
    if a is None or b is None:
        return f"{piece!r} is not a number, range or *"
    for number in (a, b):
        if not low <= number <= high:
            return f"{number} is outside {low}-{high}"
    if a > b:
        return f"range {base!r} runs backwards"
    return None


def parse_procedure(
    text: str | bytes,
    *,
    organization: OrganizationSpec | None,
    org_slug: str,
    slug: str,
    rel_path: str,
    integration_types: Iterable[str] = DEFAULT_INTEGRATION_TYPES,
) -> tuple[ProcedureSpec | None, list[LoadError]]:
    """Check one procedure file. `organization` None skips the department check (used to
    rebuild an old version from its stored source)."""
    check, data, content_hash, errors = _read_yaml(text, rel_path)
    if check is None:
        return None, errors
    if data is None:
        return None, check.result()
    c = check
    p = _ProcedureCheck(check, tuple(integration_types))
    c.check_keys(data, (), PROCEDURE_KEYS, ("title", "department", "contact_email", "pages"))

    title = c.text(data["title"], ("title",)) if "title" in data else None
    description = c.text(data["description"], ("description",)) if "description" in data else None
    department = None
    if "department" in data:
        department = c.string(data["department"], ("department",), "a department slug")
        if department is not None and organization is not None:
            known = [d.slug for d in organization.departments]
            if department not in known:
                c.error(
                    ("department",),
                    f"unknown department {department!r}{suggest(department, known)}; "
                    f"departments of {organization.slug}: {_quote_list(known)}",
                )
                department = None
    login = "none"
    if "login" in data:
        login = c.choice(data["login"], ("login",), LOGIN_CHOICES) or login
    accepting = p.accepting_of(data["accepting"]) if "accepting" in data else AcceptingSpec()
    retention_days = 1825
    if "retention_days" in data:
        retention_days = (
            c.integer(data["retention_days"], ("retention_days",), minimum=1) or retention_days
        )
    attachments_total_max = None
    if "attachments_total_max" in data:
        attachments_total_max = c.size(data["attachments_total_max"], ("attachments_total_max",))

    if "pages" in data:
        p.pages_of(data["pages"])
    contact_email = p.contact_email_of(data["contact_email"]) if "contact_email" in data else None
    p.check_references()
    fee = p.fee_of(data["fee"]) if "fee" in data else None
    integrations = p.integrations_of(data["integrations"]) if "integrations" in data else ()

    if c.errors or None in (title, department, contact_email):
        return None, c.result()
    pages = tuple(
        PageSpec(
            id=page.id or "",
            title=page.title,  # type: ignore[arg-type]
            line=page.line,
            fields=tuple(f.build() for f in page.fields),
            show_if=page.show_if,
        )
        for page in p.pages
    )
    return (
        ProcedureSpec(
            organization=org_slug,
            slug=slug,
            title=title,  # type: ignore[arg-type]
            department=department,  # type: ignore[arg-type]
            contact_email=contact_email,  # type: ignore[arg-type]
            pages=pages,
            source_path=rel_path,
            content_hash=content_hash,
            description=description,
            login=login,
            accepting=accepting,
            fee=fee,
            integrations=integrations,
            retention_days=retention_days,
            attachments_total_max=attachments_total_max,
        ),
        [],
    )


# -- the tree ------------------------------------------------------------------------


def _read_bytes(path: Path, rel_path: str) -> tuple[bytes | None, list[LoadError]]:
    try:
        return path.read_bytes(), []
    except OSError as exc:
        return None, [LoadError(rel_path, 1, FILE_PATH, f"cannot be read: {exc.strerror or exc}")]


def _slug_problem(name: str, what: str) -> str | None:
    if SLUG_RE.match(name):
        return None
    return (
        f"{what} {name!r} is not a valid slug: use 3 to 64 lower-case ASCII letters, digits "
        "and hyphens"
    )


def load_tree(
    root: str | Path, integration_types: Iterable[str] = DEFAULT_INTEGRATION_TYPES
) -> ProcedureTree:
    root = Path(root)
    integration_types = tuple(integration_types)
    tree = ProcedureTree(root=str(root))

    def fail(errors: list[LoadError], rel_path: str) -> None:
        tree.errors.extend(errors)
        tree.broken_files.add(rel_path)

    if not root.is_dir():
        tree.errors.append(
            LoadError(str(root), 1, FILE_PATH, "the procedures directory does not exist")
        )
        return tree

    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            if entry.suffix in (".yaml", ".yml"):
                fail(
                    [
                        LoadError(
                            entry.name,
                            1,
                            FILE_PATH,
                            "files belong in an organization folder: "
                            f"<organization-slug>/{entry.name}",
                        )
                    ],
                    entry.name,
                )
            continue
        if entry.is_dir():
            _load_organization_folder(tree, entry, integration_types, fail)
    return tree


def _load_organization_folder(
    tree: ProcedureTree,
    folder: Path,
    integration_types: tuple[str, ...],
    fail: Callable[[list[LoadError], str], None],
) -> None:
    org_slug = folder.name
    procedure_files: list[tuple[str, Path]] = []
    bundle_files: list[tuple[str, Path]] = []
    for path in sorted(folder.iterdir()):
        rel = f"{org_slug}/{path.name}"
        if path.name.startswith(".") or path.name == ORGANIZATION_FILE:
            continue
        if path.is_dir():
            if any(path.rglob("*.yaml")) or any(path.rglob("*.yml")):
                fail(
                    [LoadError(rel, 1, FILE_PATH, "sub-folders are not loaded: move the files up")],
                    rel,
                )
            continue
        if path.suffix == ".yml":
            fail([LoadError(rel, 1, FILE_PATH, "use the extension .yaml, not .yml")], rel)
            continue
        if path.suffix != ".yaml":
            continue
        if path.name.endswith(BUNDLE_SUFFIX):
            bundle_files.append((path.name[: -len(BUNDLE_SUFFIX)], path))
        else:
            procedure_files.append((path.name[: -len(".yaml")], path))

    # Why the files of this folder cannot be loaded, if they cannot.
    blocked: str | None = None
    organization: OrganizationSpec | None = None
    slug_problem = _slug_problem(org_slug, "organization folder name")
    org_path = folder / ORGANIZATION_FILE
    org_rel = f"{org_slug}/{ORGANIZATION_FILE}"
    if slug_problem:
        blocked = f"not loaded: {slug_problem}"
    if org_path.is_file():
        raw, errors = _read_bytes(org_path, org_rel)
        if raw is not None:
            organization, errors = parse_organization(raw, slug=org_slug, rel_path=org_rel)
        if slug_problem:
            errors = [LoadError(org_rel, 1, FILE_PATH, slug_problem), *errors]
            organization = None
        if organization is None:
            fail(errors, org_rel)
            blocked = blocked or f"not loaded: {org_rel} has errors"
        else:
            tree.organizations[org_slug] = organization
    else:
        blocked = blocked or f"not loaded: the folder {org_slug} has no {ORGANIZATION_FILE}"

    ok_procedures: set[str] = set()
    broken_procedures: set[str] = set()
    for slug, path in procedure_files:
        rel = f"{org_slug}/{path.name}"
        errors = []
        if blocked:
            errors.append(LoadError(rel, 1, FILE_PATH, blocked))
        problem = _slug_problem(slug, "file name")
        if problem:
            errors.append(LoadError(rel, 1, FILE_PATH, problem))
        raw, read_errors = _read_bytes(path, rel)
        errors.extend(read_errors)
        spec = None
        if raw is not None:
            spec, parse_errors = parse_procedure(
                raw,
                organization=organization,
                org_slug=org_slug,
                slug=slug,
                rel_path=rel,
                integration_types=integration_types,
            )
            errors.extend(parse_errors)
        if errors or spec is None:
            fail(errors, rel)
            broken_procedures.add(slug)
        else:
            tree.procedures[(org_slug, slug)] = spec
            ok_procedures.add(slug)

    for slug, path in bundle_files:
        rel = f"{org_slug}/{path.name}"
        errors = []
        if blocked:
            errors.append(LoadError(rel, 1, FILE_PATH, blocked))
        problem = _slug_problem(slug, "bundle file name")
        if problem:
            errors.append(LoadError(rel, 1, FILE_PATH, problem))
        raw, read_errors = _read_bytes(path, rel)
        errors.extend(read_errors)
        bundle = None
        if raw is not None:
            bundle, parse_errors = parse_bundle(
                raw,
                organization_slug=org_slug,
                slug=slug,
                rel_path=rel,
                procedure_slugs=None if blocked else ok_procedures,
                broken_procedures=broken_procedures,
            )
            errors.extend(parse_errors)
        if errors or bundle is None:
            fail(errors, rel)
        else:
            tree.bundles[(org_slug, slug)] = bundle
