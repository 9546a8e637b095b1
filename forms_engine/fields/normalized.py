"""One input whose text a normaliser turns into a canonical value: numbers, email
addresses, phone numbers, corporate numbers and postal codes."""

from __future__ import annotations

from typing import Any

from forms_engine import normalize

from .base import (
    ENTRY_LABEL,
    FieldInvalid,
    FieldType,
    _,
    esc,
    gettext_noop,
    input_html,
    invalid_message,
    text_of,
)


class NumberType(FieldType):
    yaml_keys = ("min", "max", "integer", "unit")
    symbol_type = "number"
    params_check = "number_params"
    # Fifteen digits with commas, a sign and some decimals (normalize.NUMBER_LIMIT).
    default_max_length = 32
    kept_around_answer = True  # esc(raw) as the input's value; the unit is the spec's

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
        control = input_html(
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
    kept_around_answer = True  # esc(raw) as the input's value
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
        return input_html(
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
    default_max_length = normalize.EMAIL_MAX_LENGTH
    input_type = "email"
    attrs = ' autocomplete="email" inputmode="email" spellcheck="false"'


class TelType(NormalizedInputType):
    normalizer = staticmethod(normalize.normalize_phone)
    default_max_length = 30  # "+81 (0)90-1234-5678" with room for spaces
    input_type = "tel"
    css = "input input--tel"
    attrs = ' autocomplete="tel"'
    hint_text = gettext_noop("With or without hyphens, such as 090-1234-5678.")


class CorporateNumberType(NormalizedInputType):
    normalizer = staticmethod(normalize.normalize_corporate_number)
    default_max_length = 24  # 13 digits, grouped
    css = "input input--corporate"
    attrs = ' inputmode="numeric" autocomplete="off"'
    hint_text = gettext_noop("13 digits.")


class PostalCodeType(NormalizedInputType):
    yaml_keys = ("fills",)
    params_check = "postal_code_params"
    normalizer = staticmethod(normalize.normalize_postal_code)
    default_max_length = 10  # "〒540-8570"
    css = "input input--postal"
    attrs = ' inputmode="numeric" autocomplete="postal-code"'
    hint_text = gettext_noop("7 digits, such as 540-8570.")
    # Its button says what the last look-up found (ctx.notices): never built once.
    kept_around_answer = False

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        control = super().render_control(f, raw, name, errors, ctx, describedby, invalid)
        fills = f.param("fills")
        if not fills:
            return control
        target = name.rsplit("-", 1)[0] + "-" + fills if "-" in name[2:] else f"f-{fills}"
        notice = ctx.notices.get(name, "")
        find = _("Find the address")
        # Two postal codes on a page give two such buttons: the field's label makes each
        # one's accessible name distinct ("Find the address (Postal code of the office)").
        label = text_of(f.label, ctx.lang)
        entry = ENTRY_LABEL.get()
        which = _("(%(label)s)") % {"label": f"{entry} {label}" if entry else label}
        return (
            f'<div class="postal">{control}'
            f'<button class="button button--secondary" type="submit" name="_action" '
            f'value="postal:{name}" formnovalidate data-postal-target="{target}">'
            f'{esc(find)}<span class="visually-hidden"> {esc(which)}</span></button></div>'
            f'<p class="postal__status" id="{name}-status" role="status">{esc(notice)}</p>'
        )

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        return esc(f"〒{value[:3]}-{value[3:]}")
