"""The procedure format v1 as typed, immutable Python objects.

This module is the contract between the YAML loader (which builds these objects and
reports every error), the expression language, and the Django side (which renders and
validates answers). It imports nothing from Django.

Answer values, as stored in a draft or submission (JSON) and as seen by expressions:

    text, textarea, email, tel, kana, select, radio,
    corporate_number, postal_code      -> str   (postal_code: 7 ASCII digits)
    number                             -> int (integer: true) or float
    date                               -> "YYYY-MM-DD" (expressions see datetime.date)
    yes_no, consent                    -> bool
    checkboxes                         -> list[str] of option values
    name                               -> {"family", "given", "kana_family", "kana_given"}
    address                            -> {"prefecture", "city", "town", "building"}
    bank_account                       -> {"bank_code", "branch_code", "account_type",
                                           "number", "holder"}  (account_type: ordinary|checking)
    file                               -> list of {"id", "name", "size", "content_type"}
    group                              -> list of {child_field_id: value}
    static                             -> (no answer)
An unanswered or hidden field is absent (None).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_LANGUAGE = "ja"

#: No input takes more characters than this, whatever its `max_length`, and no group more
#: entries than MAX_GROUP_ENTRIES, whatever its `repeat.max`: reading, normalising and
#: storing an answer must stay cheap for the server.
MAX_LENGTH_CEILING = 100_000
MAX_GROUP_ENTRIES = 100

#: Profile keys (once-only) and the field types that may carry each.
PROFILE_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "kana": ("kana",),
    "birth_date": ("date",),
    "postal_code": ("postal_code",),
    "address": ("address",),
    "phone": ("tel",),
    "email": ("email",),
    "corporate_number": ("corporate_number",),
    "organization_name": ("text",),
}


def field_types() -> tuple[str, ...]:
    """The field types of the format: the names in the registry of field types
    (forms_engine.fields.registry), whose classes say what each type takes and is."""
    from forms_engine.fields.registry import FIELD_TYPE_CLASSES

    # Imported on first use: the registry's classes import this module.
    return tuple(FIELD_TYPE_CLASSES)


def compound_parts() -> dict[str, tuple[str, ...]]:
    """Parts of compound answers, addressable in expressions as `field.part`: field type
    -> part names, from the registry's compound classes."""
    from forms_engine.fields.registry import FIELD_TYPE_CLASSES

    return {
        name: tuple(getattr(cls, "parts", ()))
        for name, cls in FIELD_TYPE_CLASSES.items()
        if cls.symbol_type.startswith("compound:")
    }


FILE_KINDS: tuple[str, ...] = ("pdf", "jpeg", "png", "heic", "docx", "xlsx", "csv", "txt", "zip")


@dataclass(frozen=True)
class Text:
    """A human-readable text: Japanese always, other languages optional (fall back to ja)."""

    values: Mapping[str, str]

    def get(self, language: str | None = None) -> str:
        if language:
            value = self.values.get(language) or self.values.get(language.split("-")[0])
            if value:
                return value
        return self.values[DEFAULT_LANGUAGE]

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        return self.get()


@dataclass(frozen=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True)
class FieldSpec:
    id: str
    type: str
    label: Text | None
    line: int
    help: Text | None = None
    required: bool = False
    show_if: Any = None  # forms_engine.procedure_format.expr.Expr or None
    profile: str | None = None
    options: tuple[Option, ...] = ()
    fields: tuple[FieldSpec, ...] = ()  # children of a group
    # Type-specific keys, already converted:
    #   text: min_length, max_length, pattern (str), pattern_message (Text)
    #   textarea/kana: min_length, max_length
    #   number: min, max (numbers), integer (bool, default True), unit (Text)
    #   date: min, max (DateBound), era (bool)
    #   checkboxes: min_selected, max_selected
    #   consent/static: content (Text)
    #   name: kana ("none" | "optional" | "required", default "none")
    #   postal_code: fills (id of an address field)
    #   file: accept (tuple of FILE_KINDS), max_size (bytes, default 10 MB),
    #         max_files (default 1), resize_images (int px or None)
    #   group: repeat_min (default 0), repeat_max (default 10 when absent), add_label (Text)
    params: Mapping[str, Any] = field(default_factory=dict)
    # HTML built from this spec alone (escaped labels and help, option lists), filled by
    # the field renderers (forms_engine.fields.base.spec_html) per input name and language.
    # It lives as long as this object: a version's spec is parsed once per process and
    # never changes, and another version (or a `dataclasses.replace` copy) gets its own.
    # Never anything of a resident's: answers, errors and tokens are added per request.
    render_cache: dict[Any, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def param(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass(frozen=True)
class DateBound:
    """`min`/`max` of a date field: a fixed date, `today`, or an offset such as -18y, +30d."""

    kind: str  # "date" | "today" | "offset"
    date: str | None = None  # ISO date when kind == "date"
    amount: int = 0  # signed, when kind == "offset"
    unit: str = "d"  # "y" | "m" | "d" (years, months, days)


@dataclass(frozen=True)
class PageSpec:
    id: str
    title: Text
    line: int
    fields: tuple[FieldSpec, ...]
    show_if: Any = None


@dataclass(frozen=True)
class FeeItem:
    label: Text
    amount: int
    line: int
    quantity: Any = None  # Expr or None (then 1)
    when: Any = None  # Expr or None (then always)


@dataclass(frozen=True)
class FeeSpec:
    timing: str  # "before_review" | "after_review"
    methods: tuple[str, ...]  # subset of ("card", "konbini")
    items: tuple[FeeItem, ...]


@dataclass(frozen=True)
class IntegrationSpec:
    id: str
    type: str
    line: int
    config: Mapping[str, Any]  # every other key, as written (env:NAME kept as a string)


@dataclass(frozen=True)
class AcceptingSpec:
    opens: datetime | None = None
    closes: datetime | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class RushSpec:
    """`rush:`: the waiting room (待合室) of a procedure whose opening draws a crowd.
    At most `admit_per_minute` residents are let through to the start page per minute, first
    come first served; an admission is valid for `admission_minutes` (time enough to start a
    filing: once a draft exists the resident never queues again)."""

    admit_per_minute: int
    admission_minutes: int = 30


@dataclass(frozen=True)
class ProcedureSpec:
    organization: str
    slug: str
    title: Text
    department: str
    contact_email: str
    pages: tuple[PageSpec, ...]
    source_path: str
    content_hash: str  # sha256 of the file's bytes
    description: Text | None = None
    login: str = "none"
    accepting: AcceptingSpec = AcceptingSpec()
    fee: FeeSpec | None = None
    integrations: tuple[IntegrationSpec, ...] = ()
    retention_days: int = 1825
    attachments_total_max: int | None = None  # bytes
    rush: RushSpec | None = None

    def iter_fields(self, include_group_children: bool = True) -> Iterator[FieldSpec]:
        for page in self.pages:
            for f in page.fields:
                yield f
                if include_group_children and f.type == "group":
                    yield from f.fields

    def field(self, field_id: str) -> FieldSpec | None:
        for f in self.iter_fields():
            if f.id == field_id:
                return f
        return None

    def page_of(self, field_id: str) -> PageSpec | None:
        for page in self.pages:
            for f in page.fields:
                if f.id == field_id or any(c.id == field_id for c in f.fields):
                    return page
        return None


@dataclass(frozen=True)
class DepartmentSpec:
    slug: str
    name: Text
    email: str | None = None


@dataclass(frozen=True)
class OrganizationSpec:
    slug: str
    name: Text
    departments: tuple[DepartmentSpec, ...]
    source_path: str
    content_hash: str
    contact: Text | None = None
    payment_account: str | None = None


@dataclass(frozen=True)
class BundleSpec:
    organization: str
    slug: str
    title: Text
    procedures: tuple[str, ...]
    source_path: str
    content_hash: str
    description: Text | None = None


@dataclass(frozen=True)
class LoadError:
    file: str  # path relative to the tree root, e.g. "sample-city/dog-registration.yaml"
    line: int
    path: str  # key path, e.g. "pages[1].fields[3].show_if"
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.path}: {self.message}"


@dataclass
class ProcedureTree:
    """Everything found under one procedures directory."""

    root: str
    organizations: dict[str, OrganizationSpec] = field(default_factory=dict)
    procedures: dict[tuple[str, str], ProcedureSpec] = field(default_factory=dict)
    bundles: dict[tuple[str, str], BundleSpec] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    # Files refused (relative paths): a broken file never replaces a live version.
    broken_files: set[str] = field(default_factory=set)
