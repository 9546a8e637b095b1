"""Answers as flat columns of text, for spreadsheets (the staff CSV export; back-office CSV
deliveries may use it too).

The columns of a procedure version come from its spec alone, never from the answers, so
every row of one version has the same columns whatever was answered (the rule is in
docs/exports.md):

- one column per field, in page order, headed by the field's label; `static` fields have
  none;
- a compound answer (name, address, bank account, date is not one: it is one ISO date) has
  one column per part, headed `label（part）`: name: family, given, and the katakana
  readings when the field asks for them; address: prefecture, city, town, building; bank
  account: bank code, branch code, account type, number, holder;
- checkboxes: one column, the chosen options' labels joined with `、` in option order;
- yes/no and consent: the words for yes/no (consent: agreed or empty);
- files: one column, `name (size)` of each file joined by a line break;
- a group: its fields' columns once per possible entry, 1 to the group's `repeat.max`
  (headed `label 1: child label`), empty for entries not filled in;
- select and radio: the chosen option's label; a date: `YYYY-MM-DD`; a number: its digits.

Each field type's flattener is registered below by its `type:`; a new field type adds one
line there (a test checks every registered field type has one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from forms_engine import filekinds
from forms_engine.procedure_format.model import FieldSpec, ProcedureSpec, Text


def _text(value: Text | None, lang: str) -> str:
    return value.get(lang) if value is not None else ""


@dataclass(frozen=True)
class Column:
    """One column: a key unique within its procedure (`field`, `field.part`,
    `group[2].child`), its header, and how to read its cell from a submission's answers."""

    key: str
    label: str
    read: Callable[[Mapping[str, Any]], str]
    # A number, written as it is (a spreadsheet may read "-5" as a formula otherwise).
    numeric: bool = False


class Flattener:
    """How one field type becomes columns: `parts` gives (part key, header suffix) pairs
    (one pair with an empty key for a single column), `cells` the text of each part."""

    def parts(self, f: FieldSpec, lang: str) -> list[tuple[str, str]]:
        return [("", "")]

    def cells(self, f: FieldSpec, value: Any, lang: str) -> list[str]:
        return ["" if value is None else str(value)]


class NoColumns(Flattener):
    def parts(self, f: FieldSpec, lang: str) -> list[tuple[str, str]]:
        return []

    def cells(self, f: FieldSpec, value: Any, lang: str) -> list[str]:
        return []


class Choice(Flattener):
    def cells(self, f: FieldSpec, value: Any, lang: str) -> list[str]:
        if value is None or value == "":
            return [""]
        for opt in f.options:
            if opt.value == value:
                return [opt.label.get(lang)]
        return [str(value)]


class Checkboxes(Flattener):
    def cells(self, f: FieldSpec, value: Any, lang: str) -> list[str]:
        chosen = set(value or [])
        labels = [opt.label.get(lang) for opt in f.options if opt.value in chosen]
        # Values no longer among the version's options (never expected) are kept as they are.
        labels += sorted(str(v) for v in chosen - {opt.value for opt in f.options})
        return ["、".join(labels)]


class YesNo(Flattener):
    def cells(self, f: FieldSpec, value: Any, lang: str) -> list[str]:
        if value is None:
            return [""]
        return [pgettext("answer", "Yes") if value else pgettext("answer", "No")]


class Consent(Flattener):
    def cells(self, f: FieldSpec, value: Any, lang: str) -> list[str]:
        return [_("Agreed") if value else ""]


class Files(Flattener):
    def cells(self, f: FieldSpec, value: Any, lang: str) -> list[str]:
        items = [v for v in value or [] if isinstance(v, dict)]
        return [
            "\n".join(
                f"{v.get('name', '')} ({filekinds.format_size(int(v.get('size') or 0))})"
                for v in items
            )
        ]


class Compound(Flattener):
    """A dict answer, one column per part."""

    def part_labels(self, f: FieldSpec) -> list[tuple[str, str]]:
        raise NotImplementedError

    def parts(self, f: FieldSpec, lang: str) -> list[tuple[str, str]]:
        return self.part_labels(f)

    def cells(self, f: FieldSpec, value: Any, lang: str) -> list[str]:
        value = value if isinstance(value, dict) else {}
        return [self.part_text(part, value.get(part)) for part, _label in self.part_labels(f)]

    def part_text(self, part: str, value: Any) -> str:
        return "" if value is None else str(value)


class Name(Compound):
    def part_labels(self, f: FieldSpec) -> list[tuple[str, str]]:
        parts = [
            ("family", pgettext("name part", "Family name")),
            ("given", pgettext("name part", "Given name")),
        ]
        if f.param("kana", "none") != "none":
            parts += [
                ("kana_family", pgettext("name part", "Family name (katakana)")),
                ("kana_given", pgettext("name part", "Given name (katakana)")),
            ]
        return parts


class Address(Compound):
    def part_labels(self, f: FieldSpec) -> list[tuple[str, str]]:
        return [
            ("prefecture", _("Prefecture")),
            ("city", _("City, ward, town or village")),
            ("town", _("Town area and block number")),
            ("building", _("Building and room (if any)")),
        ]


class BankAccount(Compound):
    def part_labels(self, f: FieldSpec) -> list[tuple[str, str]]:
        return [
            ("bank_code", _("Bank code (4 digits)")),
            ("branch_code", _("Branch code (3 digits)")),
            ("account_type", _("Account type")),
            ("number", _("Account number (up to 7 digits)")),
            ("holder", _("Account holder (katakana)")),
        ]

    def part_text(self, part: str, value: Any) -> str:
        if part == "account_type" and value:
            return {
                "ordinary": pgettext("bank account type", "Ordinary"),
                "checking": pgettext("bank account type", "Checking"),
            }.get(str(value), str(value))
        return super().part_text(part, value)


FLATTENERS: dict[str, Flattener] = {
    "text": Flattener(),
    "textarea": Flattener(),
    "number": Flattener(),
    "email": Flattener(),
    "tel": Flattener(),
    "date": Flattener(),
    "select": Choice(),
    "radio": Choice(),
    "checkboxes": Checkboxes(),
    "yes_no": YesNo(),
    "consent": Consent(),
    "name": Name(),
    "kana": Flattener(),
    "postal_code": Flattener(),
    "address": Address(),
    "corporate_number": Flattener(),
    "bank_account": BankAccount(),
    "file": Files(),
    "static": NoColumns(),
    # Groups are expanded by `field_columns` itself (entries x children).
    "group": NoColumns(),
}

#: Numbers are the one kind of cell allowed to start with "-" or "+" in a spreadsheet
#: (see forms_engine.documents.csv_export: every other such cell is defused).
NUMERIC_TYPES = frozenset({"number"})


def _header(label: str, suffix: str) -> str:
    return f"{label}（{suffix}）" if suffix else label


def _field_columns(
    f: FieldSpec, lang: str, key: str, label: str, get: Callable[[Mapping[str, Any]], Any]
) -> list[Column]:
    if f.type == "group":
        out: list[Column] = []
        for i in range(int(f.param("repeat_max", 10) or 0)):
            entry_label = f"{label} {i + 1}"
            for child in f.fields:

                def child_get(answers: Mapping[str, Any], i: int = i, cid: str = child.id) -> Any:
                    entries = get(answers)
                    if not isinstance(entries, list) or i >= len(entries):
                        return None
                    entry = entries[i]
                    return entry.get(cid) if isinstance(entry, dict) else None

                out += _field_columns(
                    child,
                    lang,
                    f"{key}[{i + 1}].{child.id}",
                    f"{entry_label}: {_text(child.label, lang)}",
                    child_get,
                )
        return out
    flattener = FLATTENERS[f.type]
    columns = []
    for index, (part, suffix) in enumerate(flattener.parts(f, lang)):

        def read(
            answers: Mapping[str, Any],
            index: int = index,
            f: FieldSpec = f,
            fl: Flattener = flattener,
        ) -> str:
            return fl.cells(f, get(answers), lang)[index]

        columns.append(
            Column(
                f"{key}.{part}" if part else key,
                _header(label, suffix),
                read,
                numeric=f.type in NUMERIC_TYPES,
            )
        )
    return columns


def answer_columns(spec: ProcedureSpec, lang: str) -> list[Column]:
    """The answer columns of one procedure version, in page order."""
    columns: list[Column] = []
    for page in spec.pages:
        for f in page.fields:

            def get(answers: Mapping[str, Any], fid: str = f.id) -> Any:
                return answers.get(fid)

            columns += _field_columns(f, lang, f.id, _text(f.label, lang), get)
    return columns


@dataclass(frozen=True)
class Layout:
    """The answer columns of an export covering several versions, side by side: versions
    of one procedure share a column by key (a field a version lacks stays empty in its
    rows); the header is the label of the first version given that has the column (give
    the newest first). With more than one procedure, keys and headers start with the
    procedure (`slug:` and `title / `). Each row is read with its own version's columns."""

    headers: tuple[str, ...]
    keys: tuple[str, ...]
    per_version: Mapping[int, Mapping[str, Column]]

    def cells(self, version_id: int, answers: Mapping[str, Any]) -> list[tuple[str, bool]]:
        """(text, numeric) of each column for a row of this version."""
        own = self.per_version.get(version_id, {})
        out = []
        for key in self.keys:
            column = own.get(key)
            out.append((column.read(answers), column.numeric) if column else ("", False))
        return out


def layout_for(versions: Iterable[tuple[int, str, ProcedureSpec]], lang: str) -> Layout:
    """The layout of an export over (version id, procedure slug, spec), newest first."""
    versions = list(versions)
    several = len({slug for _pk, slug, _spec in versions}) > 1
    headers: dict[str, str] = {}
    per_version: dict[int, dict[str, Column]] = {}
    for pk, slug, spec in versions:
        title = spec.title.get(lang)
        own = per_version.setdefault(pk, {})
        for column in answer_columns(spec, lang):
            key = f"{slug}:{column.key}" if several else column.key
            own[key] = column
            headers.setdefault(key, f"{title} / {column.label}" if several else column.label)
    return Layout(tuple(headers.values()), tuple(headers), per_version)
