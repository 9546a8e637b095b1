"""Low-level checks of one file: reading its YAML, typed values, unknown and missing keys,
and collecting the errors found, each with its file, line and key path."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from forms_engine import normalize
from forms_engine.procedure_format import expr as expr_lang
from forms_engine.procedure_format.model import LoadError, Text
from forms_engine.procedure_format.yamlsource import Path as KeyPath
from forms_engine.procedure_format.yamlsource import YamlDocument, format_path, parse_yaml

#: A YAML mapping as read: keys are text, values anything YAML can hold.
Entry = dict[str, Any]

FILE_PATH = "(file)"  # key path of problems that concern a whole file


def org_env_prefix(org_slug: str) -> str:
    """The namespace of an organization's environment variables: `ORG_<SLUG>_`."""
    return "ORG_" + org_slug.upper().replace("-", "_") + "_"


class SourceTrust:
    """Where a procedure file comes from, a context option of the load.

    Files of the procedures tree, loaded by the operator, are trusted (`TRUSTED`). Text
    published from the staff console is not (`SourceTrust.console(org_slug)`): every
    `env:NAME` it names must be in the organization's own namespace (`ORG_<SLUG>_*`), and
    the integration types refuse literal destinations and URLs in it. The core knows no
    integration type: the types read `ProcedureCheck.untrusted` while checking their keys.

    `trusted_integrations`: `integrations:` entries taken as already trusted (those of the
    live version, loaded by the operator): an entry identical to one of them is checked
    as a trusted file's."""

    def __init__(
        self, env_prefix: str | None = None, trusted_integrations: Iterable[Entry] = ()
    ) -> None:
        self.env_prefix = env_prefix
        self.trusted_integrations = tuple(trusted_integrations)

    @property
    def trusted(self) -> bool:
        return self.env_prefix is None

    @classmethod
    def console(cls, org_slug: str, trusted_integrations: Iterable[Entry] = ()) -> SourceTrust:
        return cls(org_env_prefix(org_slug), trusted_integrations)


TRUSTED = SourceTrust()

LANGUAGE_RE = re.compile(r"^[a-z]{2}(-[A-Za-z]+)?$")
ENV_RE = re.compile(r"^env:(.*)$")
ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


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


def quote_list(values: Iterable[str]) -> str:
    return ", ".join(values)


class FileCheck:
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

    def mapping(self, value: Any, path: KeyPath, what: str = "a mapping of keys") -> Entry | None:
        if isinstance(value, dict):
            return value
        self.error(path, f"must be {what}")
        return None

    def sequence(
        self, value: Any, path: KeyPath, what: str, *, non_empty: bool = True
    ) -> list[Any]:
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
        number: int | float = value
        return number

    def choice(self, value: Any, path: KeyPath, choices: Iterable[str]) -> str | None:
        choices = tuple(choices)
        text = self.scalar_str(value, path)
        if text in choices:
            return text
        shown = "nothing" if text is None else repr(text)
        self.error(
            path,
            f"{shown} is not one of {quote_list(choices)}{suggest(text or '', choices)}",
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


def read_yaml(
    text: str | bytes, rel_path: str
) -> tuple[FileCheck | None, Any, str, list[LoadError]]:
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
    check = FileCheck(rel_path, doc)
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
