"""What every field type shares: the base class, the context it renders and validates in,
its error, the small HTML helpers, and gettext remembered per language.

Rendering builds HTML strings directly (escaped with html.escape) instead of a template
per widget: a 40-field page is on the hot path and Django's widget templates cost about
20x more. Markup follows the Digital Agency design system's form patterns: a visible
label, required/optional marks, help text and error text tied with aria-describedby,
and fieldsets with legends for grouped inputs.

Input names: a top-level field `x` posts as `f-x`, a part of a compound answer as
`f-x-part`, and field `c` of entry `i` of group `g` as `f-g-i-c`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from html import escape
from typing import Any

from django.utils import translation

from forms_engine import markdown, normalize
from forms_engine.procedure_format.model import MAX_LENGTH_CEILING, FieldSpec, Text

# ---- gettext per language ---------------------------------------------------------------


@lru_cache(maxsize=4096)
def _translated(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


# The language of the page being rendered or validated, set once per entry point
# (`in_language`): Django's get_language() goes through asgiref's Local, and a 40-field
# page asks for the same few labels (Required, Optional, Error:) over a hundred times.
_LANGUAGE: ContextVar[str | None] = ContextVar("forms_engine_language", default=None)

# True while a field behind a condition that the server cannot decide (it depends on an
# answer on the same page) is rendered: it shows without JavaScript, and may be left empty
# when the condition does not hold, so it is marked "required if it applies" and its
# inputs carry no aria-required.
_CONDITIONAL: ContextVar[bool] = ContextVar("forms_engine_conditional", default=False)


# The entry a field belongs to while a repeated group's entry is rendered ("補助者 2"):
# names that must be unique on the page (a button's accessible name) include it.
ENTRY_LABEL: ContextVar[str] = ContextVar("forms_engine_entry_label", default="")


class conditional_rendering:
    """Context manager: fields rendered inside are conditional (see _CONDITIONAL)."""

    def __enter__(self) -> None:
        self._token = _CONDITIONAL.set(True)

    def __exit__(self, *exc: object) -> None:
        _CONDITIONAL.reset(self._token)


def _(message: str) -> str:
    """gettext, remembered per language."""
    return _translated(_LANGUAGE.get() or translation.get_language() or "ja", message)


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue (makemessages looks for this name) without
    translating it. Django's own reads settings when called: the field classes that use it
    at import time are also read by the procedure loader, which needs no settings."""
    return message


def in_language(function):
    """Decorator for entry points taking a Ctx (as `ctx` or positionally): field code
    below them translates into ctx.lang."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        ctx = kwargs.get("ctx") or next(a for a in args if isinstance(a, Ctx))
        token = _LANGUAGE.set(ctx.lang)
        try:
            return function(*args, **kwargs)
        finally:
            _LANGUAGE.reset(token)

    return wrapper


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def spec_html(f: FieldSpec, key: tuple, lang: str, build: Callable[[], Any]) -> Any:
    """HTML made from the field's spec alone (its escaped label and help, an option
    list), built once per process for each `key` and language and kept on the spec (see
    FieldSpec.render_cache). `key` must hold everything else the HTML depends on besides
    the spec: the input name, the conditional mark. Never a resident's answer, an error
    or a token: those are added to the cached HTML on every request."""
    cache = f.render_cache
    try:
        return cache[key, lang]
    except KeyError:
        value = cache[key, lang] = built_in(lang, build)
        return value


def built_in(lang: str, build: Callable[[], Any]) -> Any:
    """build() with every translation in `lang` (ours and Django's), whatever language the
    caller has active: what it builds is cached under that language."""
    token = _LANGUAGE.set(lang)
    try:
        with translation.override(lang):
            return build()
    finally:
        _LANGUAGE.reset(token)


# Where each part of an answer goes while the HTML around it is built
# (FieldType._around_answer): random per process, so that no resident can type one (a
# ChoiceBlock shows it instead of its options); no markup, so escaping leaves it as it is.
_MARK_KEY = secrets.token_hex(8)
ANSWER_MARKS = tuple(f"\ue000{_MARK_KEY}-{i}\ue000" for i in range(8))
_MARK_SET = frozenset(ANSWER_MARKS)
_MARK_PATTERN = re.compile(f"\ue000{_MARK_KEY}-(\\d)\ue000")


class ChoiceBlock:
    """A list of choices as HTML, built once, in which the chosen ones are marked on each
    request (` selected` or ` checked` inserted where each choice's mark goes)."""

    __slots__ = ("html", "points")

    def __init__(self, items: Iterable[tuple[str | None, str, str]]):
        """items: (value, HTML before the mark, HTML after it); value None: never chosen
        (the "Please choose" line)."""
        parts: list[str] = []
        points: dict[str, list[int]] = {}
        at = 0
        for value, before, after in items:
            at += len(before)
            if value is not None:
                points.setdefault(value, []).append(at)
            at += len(after)
            parts.append(before + after)
        self.html = "".join(parts)
        self.points = {value: tuple(offsets) for value, offsets in points.items()}

    def render(self, chosen: Iterable[Any], mark: str) -> str:
        chosen = tuple(chosen)  # read twice below
        for v in chosen:
            if isinstance(v, str) and v in _MARK_SET:
                # A placeholder answer: the list's place while the field around it is cut.
                return v
        offsets = sorted(
            {at for v in chosen if isinstance(v, str) for at in self.points.get(v, ())}
        )
        if not offsets:
            return self.html
        html = self.html
        out = []
        start = 0
        for at in offsets:
            out.append(html[start:at])
            out.append(mark)
            start = at
        out.append(html[start:])
        return "".join(out)


def text_of(value: Text | None, lang: str) -> str:
    return value.get(lang) if value is not None else ""


# ---- bounded input ----------------------------------------------------------------------


def raw_limit(max_length: int) -> int:
    """How long a raw input may be before it is refused unread. Normalising can shorten
    what was typed (half-width ｶﾞ becomes ガ, CRLF becomes LF, invisible characters and
    surrounding spaces go), so the raw input gets twice the field's limit and some room."""
    return 2 * max_length + 16


def clip(value: Any, max_length: int) -> str:
    """A posted value as it is kept for the page and in Draft.pending: one character past
    what `clean` refuses unread, so that the refusal still happens and is explained, but a
    megabyte never reaches a normaliser, the draft or the page again."""
    if not isinstance(value, str):
        return ""
    return value[: raw_limit(max_length) + 1]


def too_long(value: Any, max_length: int) -> bool:
    return isinstance(value, str) and len(value) > raw_limit(max_length)


def too_long_message(max_length: int) -> str:
    return _("Too long: enter at most %(max)s characters.") % {"max": max_length}


# ---- errors and context -----------------------------------------------------------------


class FieldInvalid(Exception):
    """Validation failed; `errors` maps an input name (or "" for the whole field) to messages."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"": [errors]}
        self.errors = errors
        super().__init__(errors)


def invalid_message(exc: normalize.Invalid) -> str:
    """A translated message for a normaliser's error code."""
    params = dict(exc.params or {})
    messages = {
        "phone_invalid": _("Enter a Japanese phone number, such as 06-1234-5678 or 090-1234-5678."),
        "postal_invalid": _("Enter the postal code as 7 digits, such as 540-8570."),
        "corporate_number_length": _("Enter the 13-digit corporate number."),
        "corporate_number_checksum": _(
            "This corporate number is not valid. Check the 13 digits again."
        ),
        "kana_only": _("Enter this in katakana (hiragana is converted for you)."),
        "number_invalid": _("Enter a number."),
        "number_not_integer": _("Enter a whole number."),
        "number_too_large": _("Enter a number with at most 15 digits."),
        "date_invalid": _("Enter a real date."),
        "email_invalid": _("Enter an email address such as name@example.jp."),
    }
    code = exc.code
    if code in messages:
        return messages[code]
    if code.startswith("bank_"):
        part = params.get("part", "")
        return {
            "bank_code": _("Enter the 4-digit bank code."),
            "branch_code": _("Enter the 3-digit branch code."),
            "account_type": _("Choose the account type."),
            "number": _("Enter the account number (up to 7 digits)."),
            "holder": _("Enter the account holder's name in katakana."),
        }.get(part, _("Check the bank account details."))
    return _("Check what you entered.")


@dataclass
class Ctx:
    """What a field needs besides its own spec when it renders or validates."""

    lang: str = "ja"
    today: dt.date = field(default_factory=dt.date.today)
    # Attachments already stored for this draft: field key -> list of file values.
    files: Mapping[str, list[dict]] = field(default_factory=dict)
    # Uploaded files of this request: input name -> list of UploadedFile.
    uploads: Mapping[str, list[Any]] = field(default_factory=dict)
    # Callback storing one upload; returns the stored file value dict. Set by the view.
    store_upload: Any = None
    # Files stopped while the request was read (over UPLOAD_FILE_MAX_BYTES): name -> names.
    refused: Mapping[str, list[str]] = field(default_factory=dict)
    # The state of each stored file (attachment id -> Attachment.Status value): the page
    # and the confirmation page say which files are still being checked for viruses.
    file_states: Mapping[str, str] = field(default_factory=dict)
    # Messages shown on the postal-code button after a lookup without JavaScript.
    notices: dict[str, str] = field(default_factory=dict)
    # Direct upload to the object store: the endpoint the page's uploader starts files at,
    # and the page's key ("<position>.<page id>"); empty when files go with the form.
    upload_url: str = ""
    page_key: str = ""


# ---- small HTML helpers -----------------------------------------------------------------


def describedby_attr(name: str, has_help: bool, has_error: bool) -> str:
    ids = []
    if has_help:
        ids.append(f"{name}-help")
    if has_error:
        ids.append(f"{name}-error")
    return f' aria-describedby="{" ".join(ids)}"' if ids else ""


def error_html(name: str, messages: list[str]) -> str:
    if not messages:
        return ""
    hidden = esc(_("Error:"))
    body = "<br>".join(esc(m) for m in messages)
    return (
        f'<p class="field__error" id="{name}-error">'
        f'<span class="visually-hidden">{hidden} </span>{body}</p>'
    )


def mark_html(required: bool, conditional: bool | None = None) -> str:
    if conditional is None:
        conditional = _CONDITIONAL.get()
    if required and conditional:
        text = _("Required if it applies")
        return f' <span class="mark mark--conditional">{esc(text)}</span>'
    if required:
        text = _("Required")
        return f' <span class="mark mark--required">{esc(text)}</span>'
    text = _("Optional")
    return f' <span class="mark mark--optional">{esc(text)}</span>'


def input_html(
    name: str,
    value: Any,
    *,
    type_: str = "text",
    cls: str = "input",
    describedby: str = "",
    invalid: bool = False,
    extra: str = "",
) -> str:
    inv = ' aria-invalid="true"' if invalid else ""
    return (
        f'<input class="{cls}" type="{type_}" id="{name}" name="{name}" '
        f'value="{esc(value)}"{describedby}{inv}{extra}>'
    )


_CONTROL_ID = re.compile(r'<(?:input|select|textarea)\b[^>]*?\bid="([^"]+)"')


def mark_required_inputs(control: str, ids: tuple[str, ...]) -> str:
    """Add aria-required="true" to the inputs of `control` whose id is in `ids`.

    Each id is found with str.find, then checked with the tag pattern from the '<' that
    opens its tag (values and text are escaped, so a tag holds no other '<'): scanning
    the whole control with the pattern took a sixth of the page's field HTML."""
    points = []
    for wanted in set(ids):
        needle = f'id="{wanted}"'
        at = control.find(needle)
        while at != -1:
            end = at + len(needle)
            start = control.rfind("<", 0, at)
            match = _CONTROL_ID.match(control, start) if start != -1 else None
            if match is not None and match.end() == end:
                points.append(end)
            at = control.find(needle, end)
    if not points:
        return control
    points.sort()
    out = []
    last = 0
    for end in points:
        out.append(control[last:end])
        out.append(' aria-required="true"')
        last = end
    out.append(control[last:])
    return "".join(out)


def label_html(text: str, for_: str, cls: str = "field__sublabel") -> str:
    return f'<label class="{cls}" for="{for_}">{esc(text)}</label>'


def subfield_html(
    name: str,
    label: str,
    value: Any,
    errors: Mapping[str, list[str]],
    *,
    cls: str = "input",
    extra: str = "",
    half: bool = False,
    whole_error: str = "",
) -> str:
    """One part of a compound answer (a name part, an address line, a bank code): its
    own label, its own error tied to its input. `whole_error`: the id of the error of the
    whole field (e.g. "Enter the name." when nothing was typed), which makes every part
    invalid too and describes it."""
    perr = errors.get(name, [])
    wrapper = "subfield subfield--half" if half else "subfield"
    ids = ([f"{name}-error"] if perr else []) + ([whole_error] if whole_error else [])
    return (
        f'<div class="{wrapper}">{label_html(label, name)}{error_html(name, perr)}'
        + input_html(
            name,
            value,
            cls=cls,
            describedby=f' aria-describedby="{" ".join(ids)}"' if ids else "",
            invalid=bool(perr) or bool(whole_error),
            extra=extra,
        )
        + "</div>"
    )


# ---- the base class ---------------------------------------------------------------------


class FieldType:
    """Base class. Subclasses set `grouped` when their control is a set of inputs (fieldset).

    What the procedure format knows of a type is declared here too, and read by the loader
    (forms_engine.procedure_format.loader.field_types) from the registry.
    """

    #: Keys a field of this type takes in a procedure file besides the common ones (id,
    #: type, label, help, required, show_if, profile), and those of them it must have.
    yaml_keys: tuple[str, ...] = ()
    required_yaml_keys: tuple[str, ...] = ()
    #: What the condition language knows an answer of this type as: "string", "number",
    #: "date", "bool", "list", "files", "group", "compound:<type>" or "none".
    symbol_type = "string"
    #: The function of forms_engine.procedure_format.loader.field_params that checks
    #: `yaml_keys` in a procedure file and fills in their defaults.
    params_check = "no_params"

    grouped = False
    empty_value: Any = None
    #: Characters one input takes when the procedure file sets no `max_length` (or the
    #: type has no such key). Every input has a limit: see `check_size`.
    default_max_length = 1000
    #: Limits of the parts of a compound input (name -> characters); the others take
    #: `max_length`.
    part_max_lengths: Mapping[str, int] = {}

    # ---- input -------------------------------------------------------------------------
    def max_length(self, f: FieldSpec) -> int:
        """The most characters this field's input takes: its own `max_length`, else the
        type's default, and never more than MAX_LENGTH_CEILING."""
        own = f.param("max_length")
        limit = own if isinstance(own, int) and own > 0 else self.default_max_length
        return min(limit, MAX_LENGTH_CEILING)

    def part_max_length(self, f: FieldSpec, part: str) -> int:
        return self.part_max_lengths.get(part) or self.max_length(f)

    def part_error_key(self, part: str) -> str:
        """Where an error about one part of the input goes: the whole field by default."""
        return ""

    def extract(self, f: FieldSpec, data: Mapping, name: str, ctx: Ctx) -> Any:
        return clip(data.get(name, ""), self.max_length(f))

    def check_size(self, f: FieldSpec, raw: Any) -> None:
        """Refuse an over-long input before anything reads it, on the raw text: this
        runs first in `clean`, so a normaliser never sees more than twice a field's limit."""
        if isinstance(raw, str):
            limit = self.max_length(f)
            if too_long(raw, limit):
                raise FieldInvalid(too_long_message(limit))
        elif isinstance(raw, dict):
            errors: dict[str, list[str]] = {}
            for part, value in raw.items():
                limit = self.part_max_length(f, part)
                if too_long(value, limit):
                    messages = errors.setdefault(self.part_error_key(part), [])
                    if too_long_message(limit) not in messages:
                        messages.append(too_long_message(limit))
            if errors:
                raise FieldInvalid(errors)

    def is_empty(self, raw: Any) -> bool:
        if raw is None:
            return True
        if isinstance(raw, str):
            return not raw.strip()
        if isinstance(raw, dict):
            return all(self.is_empty(v) for v in raw.values())
        if isinstance(raw, list):
            return not raw
        return False

    def clean(self, f: FieldSpec, raw: Any, ctx: Ctx) -> Any:
        """Return the stored value (None when empty and allowed) or raise FieldInvalid."""
        self.check_size(f, raw)
        if self.is_empty(raw):
            if f.required:
                raise FieldInvalid(self.required_message(f, ctx))
            return None
        return self.clean_value(f, raw, ctx)

    def clean_value(self, f: FieldSpec, raw: Any, ctx: Ctx) -> Any:
        return normalize.normalize_text(raw)

    def required_message(self, f: FieldSpec, ctx: Ctx) -> str:
        return _("Enter %(label)s.") % {"label": text_of(f.label, ctx.lang)}

    def to_raw(self, f: FieldSpec, value: Any) -> Any:
        return "" if value is None else value

    # ---- output ------------------------------------------------------------------------
    #: Each part of the answer shows in one place of the field's HTML, made by
    #: `answer_parts`, and nothing else of the field depends on the answer or the request
    #: (ctx.notices, uploads, today...): then, on a page without errors, the HTML around
    #: the answer is built once per field, name, language and conditional mark, and only
    #: the answer on each request (docs/performance.md).
    kept_around_answer = False

    def answer_parts(self, f: FieldSpec, raw: Any, name: str, ctx: Ctx) -> list[str]:
        """The answer as it shows in the field (kept_around_answer types), one string per
        part of `answer_placeholder`: here the input's escaped value; the options with the
        chosen ones marked for choices. render_control puts exactly these in place."""
        return [esc(raw)]

    def answer_placeholder(self, f: FieldSpec) -> Any:
        """An answer whose parts render_control shows as ANSWER_MARKS[0], [1]... (each
        part's own mark), for cutting the HTML around them (_around_answer)."""
        return ANSWER_MARKS[0]

    def render(
        self, f: FieldSpec, raw: Any, name: str, errors: Mapping[str, list[str]], ctx: Ctx
    ) -> str:
        if self.kept_around_answer and not errors:
            texts, order = spec_html(
                f,
                ("around answer", name, _CONDITIONAL.get()),
                ctx.lang,
                lambda: self._around_answer(f, name, ctx),
            )
            parts = self.answer_parts(f, raw, name, ctx)
            if len(order) == 1:
                return texts[0] + parts[0] + texts[1]
            out = [texts[0]]
            for part, text in zip(order, texts[1:], strict=True):
                out.append(parts[part])
                out.append(text)
            return "".join(out)
        return self.render_with_errors(f, raw, name, errors, ctx)

    def _around_answer(
        self, f: FieldSpec, name: str, ctx: Ctx
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """The field's HTML without errors cut where the parts of its answer go: rendered
        the one way there is (render_with_errors) with a placeholder answer. Returns the
        texts between the parts and which part goes after each text. Spec text only, like
        everything spec_html keeps: the placeholder is no one's answer."""
        placeholder = self.answer_placeholder(f)
        marks = self.answer_parts(f, placeholder, name, ctx)
        html = self.render_with_errors(f, placeholder, name, {}, ctx)
        pieces = _MARK_PATTERN.split(html)
        order = tuple(int(i) for i in pieces[1::2])
        if marks != list(ANSWER_MARKS[: len(marks)]) or sorted(order) != list(range(len(marks))):
            raise AssertionError(f"{type(self).__name__}: the answer is not in one place")
        return tuple(pieces[0::2]), order

    def render_with_errors(
        self, f: FieldSpec, raw: Any, name: str, errors: Mapping[str, list[str]], ctx: Ctx
    ) -> str:
        """The field's HTML, built whole (errors, if any, shown)."""
        own = errors.get(name, []) + errors.get("", [])
        conditional = _CONDITIONAL.get()
        label, help_html, has_help = spec_html(
            f,
            ("head", name, conditional),
            ctx.lang,
            lambda: self._head(f, name, ctx, conditional),
        )
        describedby = describedby_attr(name, has_help, bool(own))
        control = self.render_control(f, raw, name, errors, ctx, describedby, bool(own))
        if f.required and not conditional:
            control = mark_required_inputs(control, self.required_ids(f, name))
        cls = "field field--error" if (own or self._has_part_errors(name, errors)) else "field"
        if self.grouped:
            return (
                f'<fieldset class="{cls} field--group" id="{name}-field"{describedby}>'
                f"{label}{help_html}{error_html(name, own)}{control}</fieldset>"
            )
        return (
            f'<div class="{cls}" id="{name}-field">'
            f"{label}{help_html}{error_html(name, own)}{control}</div>"
        )

    def _head(self, f: FieldSpec, name: str, ctx: Ctx, conditional: bool) -> tuple[str, str, bool]:
        """The label (a legend for a group of inputs) and the help of a field, which
        depend on its spec, name and language only (`hint` too): built once, see
        spec_html. Returns (label HTML, help HTML, whether there is help)."""
        hint = self.hint(f, ctx)
        has_help = f.help is not None or bool(hint)
        help_html = ""
        if has_help:
            parts = []
            if f.help is not None:
                parts.append(markdown.render(f.help.get(ctx.lang)))
            if hint:
                parts.append(f"<p>{esc(hint)}</p>")
            help_html = f'<div class="field__help" id="{name}-help">{"".join(parts)}</div>'
        text = esc(text_of(f.label, ctx.lang)) + mark_html(f.required, conditional)
        if self.grouped:
            return f'<legend class="field__label">{text}</legend>', help_html, has_help
        return f'<label class="field__label" for="{name}">{text}</label>', help_html, has_help

    def _has_part_errors(self, name: str, errors: Mapping[str, list[str]]) -> bool:
        prefix = name + "-"
        return any(k.startswith(prefix) and v for k, v in errors.items())

    def hint(self, f: FieldSpec, ctx: Ctx) -> str:
        """A line of help derived from the field's rules. It may depend on the spec and
        the language only: it is built once per field and language (see spec_html)."""
        return ""

    def required_ids(self, f: FieldSpec, name: str) -> tuple[str, ...]:
        """Ids of the inputs that get aria-required when the field is required (not the
        browser's own `required`: the server validates, and the error summary explains)."""
        return (name,)

    def anchor(self, f: FieldSpec, name: str, error_keys: list[str]) -> str:
        """The element id the error summary links to: the input itself where there is one
        input, the fieldset of a group of inputs."""
        return f"{name}-field" if self.grouped else name

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid) -> str:
        return input_html(name, raw, describedby=describedby, invalid=invalid)

    def display(self, f: FieldSpec, value: Any, ctx: Ctx) -> str:
        """Escaped HTML for the confirmation page and receipts."""
        if value is None or value == "" or value == []:
            text = _("(not entered)")
            return f'<span class="muted">{esc(text)}</span>'
        return esc(value)
