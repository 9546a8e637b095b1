"""Field types: read the posted input, validate it again on the server, and render it.

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
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from html import escape
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop, ngettext, pgettext

from . import filekinds, markdown, normalize
from .procedure_format.model import FieldSpec, Text

PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 "
    "東京都 神奈川県 新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 "
    "滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 "
    "香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県"
).split()

# autocomplete tokens per profile key (WCAG 1.3.5 identify input purpose).
AUTOCOMPLETE = {
    "email": "email",
    "phone": "tel",
    "postal_code": "postal-code",
    "organization_name": "organization",
}


@lru_cache(maxsize=4096)
def _translated(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


# The language of the page being rendered or validated, set once per entry point
# (`in_language`): Django's get_language() goes through asgiref's Local, and a 40-field
# page asks for the same few labels (Required, Optional, Error:) over a hundred times.
_LANGUAGE: ContextVar[str | None] = ContextVar("forms_engine_language", default=None)


def _(message: str) -> str:
    """gettext, remembered per language."""
    return _translated(_LANGUAGE.get() or translation.get_language() or "ja", message)


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


def text_of(value: Text | None, lang: str) -> str:
    return value.get(lang) if value is not None else ""


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
    # Messages shown on the postal-code button after a lookup without JavaScript.
    notices: dict[str, str] = field(default_factory=dict)


def _describedby(name: str, has_help: bool, has_error: bool) -> str:
    ids = []
    if has_help:
        ids.append(f"{name}-help")
    if has_error:
        ids.append(f"{name}-error")
    return f' aria-describedby="{" ".join(ids)}"' if ids else ""


def _error_html(name: str, messages: list[str]) -> str:
    if not messages:
        return ""
    hidden = esc(_("Error:"))
    body = "<br>".join(esc(m) for m in messages)
    return (
        f'<p class="field__error" id="{name}-error">'
        f'<span class="visually-hidden">{hidden} </span>{body}</p>'
    )


def _mark(required: bool) -> str:
    if required:
        text = _("Required")
        return f' <span class="mark mark--required">{esc(text)}</span>'
    text = _("Optional")
    return f' <span class="mark mark--optional">{esc(text)}</span>'


def _input(
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


def _label(text: str, for_: str, cls: str = "field__sublabel") -> str:
    return f'<label class="{cls}" for="{for_}">{esc(text)}</label>'


def _subfield(
    name: str,
    label: str,
    value: Any,
    errors: Mapping[str, list[str]],
    *,
    cls: str = "input",
    extra: str = "",
    half: bool = False,
) -> str:
    """One part of a compound answer (a name part, an address line, a bank code): its
    own label, its own error tied to its input."""
    perr = errors.get(name, [])
    wrapper = "subfield subfield--half" if half else "subfield"
    return (
        f'<div class="{wrapper}">{_label(label, name)}{_error_html(name, perr)}'
        + _input(
            name,
            value,
            cls=cls,
            describedby=f' aria-describedby="{name}-error"' if perr else "",
            invalid=bool(perr),
            extra=extra,
        )
        + "</div>"
    )


class FieldType:
    """Base class. Subclasses set `grouped` when their control is a set of inputs (fieldset)."""

    grouped = False
    empty_value: Any = None

    # ---- input -------------------------------------------------------------------------
    def extract(self, f: FieldSpec, data: Mapping, name: str, ctx: Ctx) -> Any:
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

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
    def render(self, f: FieldSpec, raw: Any, name: str, errors: dict, ctx: Ctx) -> str:
        own = errors.get(name, []) + errors.get("", [])
        has_help = f.help is not None or bool(self.hint(f, ctx))
        help_html = ""
        if has_help:
            parts = []
            if f.help is not None:
                parts.append(markdown.render(f.help.get(ctx.lang)))
            hint = self.hint(f, ctx)
            if hint:
                parts.append(f"<p>{esc(hint)}</p>")
            help_html = f'<div class="field__help" id="{name}-help">{"".join(parts)}</div>'
        label = text_of(f.label, ctx.lang)
        describedby = _describedby(name, has_help, bool(own))
        control = self.render_control(f, raw, name, errors, ctx, describedby, bool(own))
        cls = "field field--error" if (own or self._has_part_errors(name, errors)) else "field"
        if self.grouped:
            return (
                f'<fieldset class="{cls} field--group" id="{name}-field"{describedby}>'
                f'<legend class="field__label">{esc(label)}{_mark(f.required)}</legend>'
                f"{help_html}{_error_html(name, own)}{control}</fieldset>"
            )
        return (
            f'<div class="{cls}" id="{name}-field">'
            f'<label class="field__label" for="{name}">{esc(label)}{_mark(f.required)}</label>'
            f"{help_html}{_error_html(name, own)}{control}</div>"
        )

    def _has_part_errors(self, name: str, errors: dict) -> bool:
        prefix = name + "-"
        return any(k.startswith(prefix) and v for k, v in errors.items())

    def hint(self, f: FieldSpec, ctx: Ctx) -> str:
        return ""

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid) -> str:
        return _input(name, raw, describedby=describedby, invalid=invalid)

    def display(self, f: FieldSpec, value: Any, ctx: Ctx) -> str:
        """Escaped HTML for the confirmation page and receipts."""
        if value is None or value == "" or value == []:
            text = _("(not entered)")
            return f'<span class="muted">{esc(text)}</span>'
        return esc(value)


def _length_hint(f: FieldSpec) -> str:
    lo, hi = f.param("min_length"), f.param("max_length")
    if lo and hi:
        return _("%(min)s to %(max)s characters.") % {"min": lo, "max": hi}
    if hi:
        return _("Up to %(max)s characters.") % {"max": hi}
    if lo:
        return _("At least %(min)s characters.") % {"min": lo}
    return ""


def _check_length(f: FieldSpec, value: str) -> None:
    lo, hi = f.param("min_length"), f.param("max_length")
    # Count code points, not UTF-16 units: 𠮷 is one character to a resident.
    n = len(value)
    if hi is not None and n > hi:
        raise FieldInvalid(
            _("Enter %(max)s characters or fewer (now %(n)s).") % {"max": hi, "n": n}
        )
    if lo is not None and n < lo:
        raise FieldInvalid(_("Enter at least %(min)s characters.") % {"min": lo})


class TextType(FieldType):
    def hint(self, f, ctx):
        return _length_hint(f)

    def clean_value(self, f, raw, ctx):
        import re

        value = normalize.normalize_text(raw)
        _check_length(f, value)
        pattern = f.param("pattern")
        if pattern and not re.fullmatch(pattern, value):
            msg = f.param("pattern_message")
            raise FieldInvalid(
                msg.get(ctx.lang) if msg else _("Check the format of what you entered.")
            )
        return value

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        ac = AUTOCOMPLETE.get(f.profile or "")
        extra = f' autocomplete="{ac}"' if ac else ""
        return _input(name, raw, describedby=describedby, invalid=invalid, extra=extra)


class TextareaType(FieldType):
    def hint(self, f, ctx):
        return _length_hint(f)

    def clean_value(self, f, raw, ctx):
        value = normalize.normalize_text(raw, multiline=True)
        _check_length(f, value)
        return value

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        inv = ' aria-invalid="true"' if invalid else ""
        return (
            f'<textarea class="textarea" id="{name}" name="{name}" rows="5"'
            f"{describedby}{inv}>{esc(raw)}</textarea>"
        )

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        return esc(value).replace("\n", "<br>")


class NumberType(FieldType):
    def hint(self, f, ctx):
        lo, hi = f.param("min"), f.param("max")
        if lo is not None and hi is not None:
            return _("From %(min)s to %(max)s.") % {"min": lo, "max": hi}
        if hi is not None:
            return _("Up to %(max)s.") % {"max": hi}
        if lo is not None:
            return _("At least %(min)s.") % {"min": lo}
        return ""

    def clean_value(self, f, raw, ctx):
        try:
            value = normalize.normalize_number(raw, integer=f.param("integer", True))
        except normalize.Invalid as exc:
            raise FieldInvalid(invalid_message(exc)) from None
        lo, hi = f.param("min"), f.param("max")
        if lo is not None and value < lo:
            raise FieldInvalid(_("Enter %(min)s or more.") % {"min": lo})
        if hi is not None and value > hi:
            raise FieldInvalid(_("Enter %(max)s or less.") % {"max": hi})
        return value

    def to_raw(self, f, value):
        return "" if value is None else str(value)

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        unit = f.param("unit")
        if unit:
            # The unit is part of what the number means: screen readers hear it too.
            ids = describedby.partition('"')[2].rstrip('"')
            describedby = f' aria-describedby="{(ids + " " if ids else "") + name}-unit"'
        control = _input(
            name,
            raw,
            cls="input input--number",
            describedby=describedby,
            invalid=invalid,
            extra=' inputmode="decimal"',
        )
        if unit:
            control += f' <span class="unit" id="{name}-unit">{esc(unit.get(ctx.lang))}</span>'
        return control

    def display(self, f, value, ctx):
        if value is None:
            return super().display(f, value, ctx)
        unit = f.param("unit")
        text = f"{value:,}" if isinstance(value, int) else str(value)
        return esc(text + (" " + unit.get(ctx.lang) if unit else ""))


class NormalizedInputType(FieldType):
    """One input whose text a normaliser checks and turns into the stored value."""

    normalizer: Any = None  # a function of forms_engine.normalize raising Invalid
    input_type = "text"
    css = "input"
    attrs = ""
    hint_text = ""

    def hint(self, f, ctx):
        return _(self.hint_text) if self.hint_text else ""

    def clean_value(self, f, raw, ctx):
        try:
            return type(self).normalizer(raw)
        except normalize.Invalid as exc:
            raise FieldInvalid(invalid_message(exc)) from None

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        return _input(
            name,
            raw,
            type_=self.input_type,
            cls=self.css,
            describedby=describedby,
            invalid=invalid,
            extra=self.attrs,
        )


class EmailType(NormalizedInputType):
    normalizer = staticmethod(normalize.normalize_email)
    input_type = "email"
    attrs = ' autocomplete="email" inputmode="email" spellcheck="false"'


class TelType(NormalizedInputType):
    normalizer = staticmethod(normalize.normalize_phone)
    input_type = "tel"
    css = "input input--tel"
    attrs = ' autocomplete="tel"'
    hint_text = gettext_noop("With or without hyphens, such as 090-1234-5678.")


class CorporateNumberType(NormalizedInputType):
    normalizer = staticmethod(normalize.normalize_corporate_number)
    css = "input input--corporate"
    attrs = ' inputmode="numeric" autocomplete="off"'
    hint_text = gettext_noop("13 digits.")


class KanaType(TextType):
    def clean_value(self, f, raw, ctx):
        try:
            value = normalize.validate_katakana(raw)
        except normalize.Invalid as exc:
            raise FieldInvalid(invalid_message(exc)) from None
        _check_length(f, value)
        return value

    def hint(self, f, ctx):
        base = _("In katakana (hiragana is converted for you).")
        length = _length_hint(f)
        return f"{base} {length}".strip()


def _options_html(f, raw_values, name, ctx, type_, describedby) -> str:
    out = []
    for i, opt in enumerate(f.options):
        oid = f"{name}-{i}"
        checked = " checked" if opt.value in raw_values else ""
        out.append(
            f'<div class="choice"><input class="choice__input" type="{type_}" id="{oid}" '
            f'name="{name}" value="{esc(opt.value)}"{checked}>'
            f'<label class="choice__label" for="{oid}">{esc(opt.label.get(ctx.lang))}</label></div>'
        )
    return f'<div class="choices">{"".join(out)}</div>'


def _option_label(f, value, ctx) -> str:
    for opt in f.options:
        if opt.value == value:
            return opt.label.get(ctx.lang)
    return str(value)


class SelectType(FieldType):
    def required_message(self, f, ctx):
        return _("Choose %(label)s.") % {"label": text_of(f.label, ctx.lang)}

    def clean_value(self, f, raw, ctx):
        if raw not in {o.value for o in f.options}:
            raise FieldInvalid(_("Choose one of the options."))
        return raw

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        inv = ' aria-invalid="true"' if invalid else ""
        please = _("Please choose")
        opts = [f'<option value="">{esc(please)}</option>']
        for opt in f.options:
            sel = " selected" if opt.value == raw else ""
            opts.append(
                f'<option value="{esc(opt.value)}"{sel}>{esc(opt.label.get(ctx.lang))}</option>'
            )
        return (
            f'<select class="select" id="{name}" name="{name}"{describedby}{inv}>'
            f"{''.join(opts)}</select>"
        )

    def display(self, f, value, ctx):
        if value is None:
            return super().display(f, value, ctx)
        return esc(_option_label(f, value, ctx))


class RadioType(SelectType):
    grouped = True

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        return _options_html(f, {raw}, name, ctx, "radio", describedby)


class CheckboxesType(SelectType):
    grouped = True

    def extract(self, f, data, name, ctx):
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist else data.get(name, [])
        return [v for v in values if isinstance(v, str)]

    def to_raw(self, f, value):
        return list(value or [])

    def clean_value(self, f, raw, ctx):
        allowed = [o.value for o in f.options]
        chosen = [v for v in allowed if v in raw]  # keep the file's order, drop unknowns
        if len(chosen) != len(set(raw)):
            raise FieldInvalid(_("Choose from the options shown."))
        lo, hi = f.param("min_selected"), f.param("max_selected")
        if lo is not None and len(chosen) < lo:
            raise FieldInvalid(_("Choose at least %(n)s.") % {"n": lo})
        if hi is not None and len(chosen) > hi:
            raise FieldInvalid(_("Choose at most %(n)s.") % {"n": hi})
        return chosen

    def hint(self, f, ctx):
        lo, hi = f.param("min_selected"), f.param("max_selected")
        if lo and hi:
            return _("Choose %(min)s to %(max)s.") % {"min": lo, "max": hi}
        if hi:
            return _("Choose up to %(max)s.") % {"max": hi}
        if lo and lo > 1:
            return _("Choose at least %(min)s.") % {"min": lo}
        return _("Choose all that apply.")

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        return _options_html(f, set(raw or []), name, ctx, "checkbox", describedby)

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        return "、".join(esc(_option_label(f, v, ctx)) for v in value)


class YesNoType(FieldType):
    grouped = True

    def required_message(self, f, ctx):
        return _("Choose yes or no.")

    def to_raw(self, f, value):
        return {True: "yes", False: "no"}.get(value, "")

    def clean_value(self, f, raw, ctx):
        if raw not in ("yes", "no"):
            raise FieldInvalid(_("Choose yes or no."))
        return raw == "yes"

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        out = []
        for value, label in (("yes", pgettext("answer", "Yes")), ("no", pgettext("answer", "No"))):
            checked = " checked" if raw == value else ""
            out.append(
                f'<div class="choice"><input class="choice__input" type="radio" '
                f'id="{name}-{value}" name="{name}" value="{value}"{checked}>'
                f'<label class="choice__label" for="{name}-{value}">{esc(label)}</label></div>'
            )
        return f'<div class="choices choices--inline">{"".join(out)}</div>'

    def display(self, f, value, ctx):
        if value is None:
            return super().display(f, value, ctx)
        return esc(pgettext("answer", "Yes") if value else pgettext("answer", "No"))


class ConsentType(FieldType):
    grouped = True

    def to_raw(self, f, value):
        return "yes" if value else ""

    def required_message(self, f, ctx):
        return _("Tick the box to agree before you go on.")

    def clean(self, f, raw, ctx):
        # A consent field must be ticked to go on, whether or not `required` was written.
        if raw != "yes":
            raise FieldInvalid(self.required_message(f, ctx))
        return True

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        content = f.param("content")
        body = (
            f'<div class="consent__content" tabindex="0" role="region" '
            f'aria-label="{esc(text_of(f.label, ctx.lang))}">'
            f"{markdown.render(content.get(ctx.lang))}</div>"
            if content
            else ""
        )
        checked = " checked" if raw == "yes" else ""
        agree = _("I agree")
        return (
            f'{body}<div class="choice"><input class="choice__input" type="checkbox" '
            f'id="{name}" name="{name}" value="yes"{checked}>'
            f'<label class="choice__label" for="{name}">{esc(agree)}</label></div>'
        )

    def display(self, f, value, ctx):
        return esc(_("Agreed")) if value else super().display(f, value, ctx)


class CompoundType(FieldType):
    """A set of named inputs stored as a dict."""

    grouped = True
    parts: tuple[str, ...] = ()

    def active_parts(self, f) -> tuple[str, ...]:
        return self.parts

    def extract(self, f, data, name, ctx):
        out = {}
        for part in self.active_parts(f):
            value = data.get(f"{name}-{part}", "")
            out[part] = value if isinstance(value, str) else ""
        return out

    def to_raw(self, f, value):
        base = {p: "" for p in self.active_parts(f)}
        if isinstance(value, dict):
            base.update({k: "" if v is None else str(v) for k, v in value.items()})
        return base


class NameType(CompoundType):
    parts = ("family", "given", "kana_family", "kana_given")

    def active_parts(self, f):
        if f.param("kana", "none") == "none":
            return ("family", "given")
        return self.parts

    def clean_value(self, f, raw, ctx):
        errors: dict[str, list[str]] = {}
        name = "__"
        out = {p: normalize.normalize_text(raw.get(p, "")) for p in ("family", "given")}
        if not out["family"]:
            errors.setdefault(f"{name}-family", []).append(_("Enter the family name."))
        if not out["given"]:
            errors.setdefault(f"{name}-given", []).append(_("Enter the given name."))
        for p in ("family", "given"):
            if len(out[p]) > 50:
                errors.setdefault(f"{name}-{p}", []).append(_("Enter 50 characters or fewer."))
        kana = f.param("kana", "none")
        if kana != "none":
            for p in ("kana_family", "kana_given"):
                value = raw.get(p, "")
                if not value.strip():
                    out[p] = ""
                    if kana == "required":
                        errors.setdefault(f"{name}-{p}", []).append(
                            _("Enter the reading in katakana.")
                        )
                    continue
                try:
                    out[p] = normalize.validate_katakana(value)
                except normalize.Invalid as exc:
                    errors.setdefault(f"{name}-{p}", []).append(invalid_message(exc))
        if errors:
            raise FieldInvalid(errors)
        return out

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        raw = raw if isinstance(raw, dict) else {}
        labels = {
            "family": pgettext("name part", "Family name"),
            "given": pgettext("name part", "Given name"),
            "kana_family": pgettext("name part", "Family name (katakana)"),
            "kana_given": pgettext("name part", "Given name (katakana)"),
        }
        ac = {"family": "family-name", "given": "given-name"}
        out = [
            _subfield(
                f"{name}-{part}",
                labels[part],
                raw.get(part, ""),
                errors,
                extra=f' autocomplete="{ac[part]}"' if part in ac else "",
                half=True,
            )
            for part in self.active_parts(f)
        ]
        return f'<div class="subfields">{"".join(out)}</div>'

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        full = f"{value.get('family', '')}　{value.get('given', '')}"
        kana = f"{value.get('kana_family', '')}　{value.get('kana_given', '')}".strip("　 ")
        return esc(full) + (f'<br><span class="muted">{esc(kana)}</span>' if kana else "")


class AddressType(CompoundType):
    parts = ("prefecture", "city", "town", "building")

    def clean_value(self, f, raw, ctx):
        out = {p: normalize.normalize_text(raw.get(p, "")) for p in ("city", "town", "building")}
        out["prefecture"] = raw.get("prefecture", "")
        errors: dict[str, list[str]] = {}
        if out["prefecture"] not in PREFECTURES:
            errors["__-prefecture"] = [_("Choose the prefecture.")]
        if not out["city"]:
            errors["__-city"] = [_("Enter the city, ward, town or village.")]
        if not out["town"]:
            errors["__-town"] = [_("Enter the town area and block number.")]
        for p in ("city", "town", "building"):
            if len(out[p]) > 100:
                errors[f"__-{p}"] = [_("Enter 100 characters or fewer.")]
        if errors:
            raise FieldInvalid(errors)
        return {p: out[p] for p in self.parts}

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        raw = raw if isinstance(raw, dict) else {}
        out = []
        pname = f"{name}-prefecture"
        perr = errors.get(pname, [])
        please = _("Please choose")
        opts = [f'<option value="">{esc(please)}</option>']
        current = raw.get("prefecture", "")
        for pref in PREFECTURES:
            sel = " selected" if pref == current else ""
            opts.append(f'<option value="{pref}"{sel}>{pref}</option>')
        inv = ' aria-invalid="true"' if perr else ""
        prefecture = _("Prefecture")
        out.append(
            f'<div class="subfield">{_label(prefecture, pname)}{_error_html(pname, perr)}'
            f'<select class="select" id="{pname}" name="{pname}" '
            f'autocomplete="address-level1"{inv}>{"".join(opts)}</select></div>'
        )
        for part, label, ac in (
            ("city", _("City, ward, town or village"), "address-level2"),
            ("town", _("Town area and block number"), "address-line1"),
            ("building", _("Building and room (if any)"), "address-line2"),
        ):
            out.append(
                _subfield(
                    f"{name}-{part}",
                    label,
                    raw.get(part, ""),
                    errors,
                    extra=f' autocomplete="{ac}"',
                )
            )
        return f'<div class="subfields" data-address="{name}">{"".join(out)}</div>'

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        line = "".join(value.get(p, "") for p in ("prefecture", "city", "town"))
        building = value.get("building", "")
        return esc(line) + (f"<br>{esc(building)}" if building else "")


class PostalCodeType(NormalizedInputType):
    normalizer = staticmethod(normalize.normalize_postal_code)
    css = "input input--postal"
    attrs = ' inputmode="numeric" autocomplete="postal-code"'
    hint_text = gettext_noop("7 digits, such as 540-8570.")

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        control = super().render_control(f, raw, name, errors, ctx, describedby, invalid)
        fills = f.param("fills")
        if not fills:
            return control
        target = name.rsplit("-", 1)[0] + "-" + fills if "-" in name[2:] else f"f-{fills}"
        notice = ctx.notices.get(name, "")
        find = _("Find the address")
        return (
            f'<div class="postal">{control}'
            f'<button class="button button--secondary" type="submit" name="_action" '
            f'value="postal:{name}" formnovalidate data-postal-target="{target}">'
            f"{esc(find)}</button></div>"
            f'<p class="postal__status" id="{name}-status" role="status">{esc(notice)}</p>'
        )

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        return esc(f"〒{value[:3]}-{value[3:]}")


class DateType(FieldType):
    grouped = True

    def extract(self, f, data, name, ctx):
        return {p: data.get(f"{name}-{p}", "") or "" for p in ("year", "month", "day")}

    def to_raw(self, f, value):
        if not value:
            return {"year": "", "month": "", "day": ""}
        y, m, d = str(value).split("-")
        return {"year": str(int(y)), "month": str(int(m)), "day": str(int(d))}

    def bounds(self, f, ctx) -> tuple[dt.date | None, dt.date | None]:
        def resolve(b):
            if b is None:
                return None
            return normalize.resolve_date_bound(b.kind, b.date, b.amount, b.unit, ctx.today)

        return resolve(f.param("min")), resolve(f.param("max"))

    def hint(self, f, ctx):
        hint = _("Year (western, or an era such as 令和8), month and day.")
        return hint

    def clean_value(self, f, raw, ctx):
        missing = [p for p in ("year", "month", "day") if not str(raw.get(p, "")).strip()]
        if missing:
            raise FieldInvalid(_("Enter the year, the month and the day."))
        try:
            value = normalize.parse_date_parts(raw["year"], raw["month"], raw["day"])
        except normalize.Invalid as exc:
            raise FieldInvalid(invalid_message(exc)) from None
        lo, hi = self.bounds(f, ctx)
        if lo and value < lo:
            raise FieldInvalid(_("Enter a date on or after %(d)s.") % {"d": self.fmt(lo, f, ctx)})
        if hi and value > hi:
            raise FieldInvalid(_("Enter a date on or before %(d)s.") % {"d": self.fmt(hi, f, ctx)})
        return value.isoformat()

    def fmt(self, d: dt.date, f, ctx) -> str:
        if ctx.lang == "ja":
            western = f"{d.year}年{d.month}月{d.day}日"
            return f"{western}（{normalize.wareki(d)}）" if f.param("era") else western
        western = d.isoformat()
        return f"{western} ({normalize.wareki(d)})" if f.param("era") else western

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        raw = raw if isinstance(raw, dict) else {}
        out = []
        birthday = f.profile == "birth_date"
        for part, label, size in (
            ("year", _("Year"), "input--year"),
            ("month", _("Month"), "input--2"),
            ("day", _("Day"), "input--2"),
        ):
            pname = f"{name}-{part}"
            ac = f' autocomplete="bday-{part}"' if birthday else ""
            mode = ' inputmode="numeric"' if part != "year" else ""
            out.append(
                f'<div class="subfield subfield--date">{_label(label, pname)}'
                + _input(
                    pname, raw.get(part, ""), cls=f"input {size}", invalid=invalid, extra=ac + mode
                )
                + "</div>"
            )
        era = ""
        if f.param("era"):
            shown = ""
            try:
                d = normalize.parse_date_parts(
                    raw.get("year", ""), raw.get("month", ""), raw.get("day", "")
                )
                shown = normalize.wareki(d)
            except (normalize.Invalid, KeyError, TypeError, ValueError):
                pass
            era = f'<p class="date__era" id="{name}-era" aria-live="polite">{esc(shown)}</p>'
        return f'<div class="subfields subfields--date" data-era="{1 if f.param("era") else 0}">{"".join(out)}</div>{era}'

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        return esc(self.fmt(dt.date.fromisoformat(value), f, ctx))


class BankAccountType(CompoundType):
    parts = ("bank_code", "branch_code", "account_type", "number", "holder")

    def clean_value(self, f, raw, ctx):
        try:
            return normalize.normalize_bank_account(
                raw.get("bank_code", ""),
                raw.get("branch_code", ""),
                raw.get("account_type", ""),
                raw.get("number", ""),
                raw.get("holder", ""),
            )
        except normalize.Invalid as exc:
            part = (exc.params or {}).get("part", "")
            raise FieldInvalid({f"__-{part}" if part else "": [invalid_message(exc)]}) from None

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        raw = raw if isinstance(raw, dict) else {}
        out = []
        for part, label in (
            ("bank_code", _("Bank code (4 digits)")),
            ("branch_code", _("Branch code (3 digits)")),
        ):
            out.append(
                _subfield(
                    f"{name}-{part}",
                    label,
                    raw.get(part, ""),
                    errors,
                    cls="input input--4",
                    extra=' inputmode="numeric"',
                    half=True,
                )
            )
        pname = f"{name}-account_type"
        perr = errors.get(pname, [])
        radios = []
        for value, label in (
            ("ordinary", _("Ordinary (普通)")),
            ("checking", _("Checking (当座)")),
        ):
            checked = " checked" if raw.get("account_type") == value else ""
            radios.append(
                f'<div class="choice"><input class="choice__input" type="radio" id="{pname}-{value}" '
                f'name="{pname}" value="{value}"{checked}>'
                f'<label class="choice__label" for="{pname}-{value}">{esc(label)}</label></div>'
            )
        account_type = _("Account type")
        out.append(
            f'<fieldset class="subfield"><legend class="field__sublabel">{esc(account_type)}</legend>'
            f'{_error_html(pname, perr)}<div class="choices choices--inline">{"".join(radios)}</div></fieldset>'
        )
        out.append(
            _subfield(
                f"{name}-number",
                _("Account number (up to 7 digits)"),
                raw.get("number", ""),
                errors,
                cls="input input--8",
                extra=' inputmode="numeric"',
            )
        )
        out.append(
            _subfield(
                f"{name}-holder", _("Account holder (katakana)"), raw.get("holder", ""), errors
            )
        )
        return f'<div class="subfields">{"".join(out)}</div>'

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        kind = (
            pgettext("bank account type", "Ordinary")
            if value.get("account_type") == "ordinary"
            else pgettext("bank account type", "Checking")
        )
        return esc(
            f"{value.get('bank_code')}-{value.get('branch_code')} {kind} "
            f"{value.get('number')} {value.get('holder')}"
        )


class StaticType(FieldType):
    def extract(self, f, data, name, ctx):
        return None

    def clean(self, f, raw, ctx):
        return None

    def render(self, f, raw, name, errors, ctx):
        content = f.param("content")
        title = f"<h3>{esc(text_of(f.label, ctx.lang))}</h3>" if f.label else ""
        body = markdown.render(content.get(ctx.lang)) if content else ""
        return f'<div class="static" id="{name}-field">{title}{body}</div>'


class FileType(FieldType):
    grouped = True

    def extract(self, f, data, name, ctx):
        # Files already stored for this input, minus those the resident removed.
        kept = list(ctx.files.get(name, []))
        return {
            "kept": kept,
            "new": list(ctx.uploads.get(name, [])),
            "refused": list(ctx.refused.get(name, [])),
        }

    def is_empty(self, raw):
        if isinstance(raw, dict):
            return not raw.get("kept") and not raw.get("new") and not raw.get("refused")
        return not raw

    def to_raw(self, f, value):
        return {"kept": list(value or []), "new": []}

    def required_message(self, f, ctx):
        return _("Attach %(label)s.") % {"label": text_of(f.label, ctx.lang)}

    def hint(self, f, ctx):
        kinds = ", ".join(k.upper() for k in f.param("accept", ()) or ()) or _("any")
        size = filekinds.format_size(f.param("max_size", 10 * 1024 * 1024))
        n = f.param("max_files", 1)
        return ngettext(
            "File types: %(kinds)s. Up to %(size)s, %(n)s file.",
            "File types: %(kinds)s. Up to %(size)s each, %(n)s files at most.",
            n,
        ) % {
            "kinds": kinds,
            "size": size,
            "n": f.param("max_files", 1),
        }

    def clean_value(self, f, raw, ctx):
        kept = list(raw.get("kept", []))
        stored = []
        limit = min(f.param("max_size", 10 << 20), settings.UPLOAD_FILE_MAX_BYTES)
        errors = [
            _("%(name)s is larger than %(size)s.")
            % {"name": name, "size": filekinds.format_size(limit)}
            for name in raw.get("refused", [])
        ]
        max_files = f.param("max_files", 1)
        for upload in raw.get("new", []):
            if len(kept) + len(stored) >= max_files:
                errors.append(
                    ngettext(
                        "You can attach %(n)s file only.",
                        "You can attach %(n)s files at most.",
                        max_files,
                    )
                    % {"n": max_files}
                )
                break
            try:
                stored.append(ctx.store_upload(f, upload))
            except FieldInvalid as exc:
                errors.extend(m for ms in exc.errors.values() for m in ms)
        value = kept + stored
        if errors:
            # Files that passed are kept: a resident never uploads the same photo twice.
            raise FieldInvalid({"": errors, "__kept__": value})  # type: ignore[dict-item]
        return value or None

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        raw = raw if isinstance(raw, dict) else {"kept": raw or []}
        items = []
        remove = _("Remove")
        for item in raw.get("kept", []):
            items.append(
                f'<li class="files__item"><span class="files__name">{esc(item.get("name"))}</span> '
                f'<span class="muted">({esc(filekinds.format_size(item.get("size", 0)))})</span> '
                f'<button class="button button--text" type="submit" name="_action" '
                f'value="remove-file:{name}:{esc(item.get("id"))}" formnovalidate>'
                f'{esc(remove)}<span class="visually-hidden"> {esc(item.get("name"))}</span>'
                f"</button></li>"
            )
        listing = f'<ul class="files">{"".join(items)}</ul>' if items else ""
        accept = ",".join(filekinds.ACCEPT_ATTR.get(k, "") for k in f.param("accept", ()) or ())
        multiple = " multiple" if f.param("max_files", 1) > 1 else ""
        inv = ' aria-invalid="true"' if invalid else ""
        resize = f.param("resize_images")
        data = f' data-resize="{int(resize)}"' if resize else ""
        choose = _("Choose a file")
        pick = (
            f'<label class="field__sublabel" for="{name}">{esc(choose)}</label>'
            f'<input class="file-input" type="file" id="{name}" name="{name}"'
            f"{' accept=' + chr(34) + esc(accept) + chr(34) if accept else ''}{multiple}{inv}{data}>"
        )
        return listing + pick

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        return "<br>".join(
            f"{esc(v.get('name'))} ({esc(filekinds.format_size(v.get('size', 0)))})" for v in value
        )


class GroupType(FieldType):
    grouped = True

    def entry_count(self, f, data, name) -> int:
        try:
            n = int(data.get(f"{name}-count", "0"))
        except (TypeError, ValueError):
            n = 0
        return max(0, min(n, f.param("repeat_max", 10)))

    def extract(self, f, data, name, ctx):
        entries = []
        for i in range(self.entry_count(f, data, name)):
            entry = {}
            for child in f.fields:
                entry[child.id] = FIELD_TYPES[child.type].extract(
                    child, data, f"{name}-{i}-{child.id}", ctx
                )
            entries.append(entry)
        return entries

    def is_empty(self, raw):
        return not raw

    def to_raw(self, f, value):
        return [
            {c.id: FIELD_TYPES[c.type].to_raw(c, (entry or {}).get(c.id)) for c in f.fields}
            for entry in (value or [])
        ]

    def render(self, f, raw, name, errors, ctx):  # rendered by forms_engine.pages
        raise NotImplementedError("groups are rendered by forms_engine.pages")

    def display(self, f, value, ctx):  # displayed by forms_engine.pages
        raise NotImplementedError("groups are displayed by forms_engine.pages")


FIELD_TYPES: dict[str, FieldType] = {
    "text": TextType(),
    "textarea": TextareaType(),
    "number": NumberType(),
    "email": EmailType(),
    "tel": TelType(),
    "date": DateType(),
    "select": SelectType(),
    "radio": RadioType(),
    "checkboxes": CheckboxesType(),
    "yes_no": YesNoType(),
    "consent": ConsentType(),
    "name": NameType(),
    "kana": KanaType(),
    "postal_code": PostalCodeType(),
    "address": AddressType(),
    "corporate_number": CorporateNumberType(),
    "bank_account": BankAccountType(),
    "file": FileType(),
    "static": StaticType(),
    "group": GroupType(),
}
