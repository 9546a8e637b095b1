"""Free text typed by the resident: one line, several lines, and katakana readings."""

from __future__ import annotations

from forms_engine import normalize
from forms_engine.procedure_format.model import FieldSpec
from forms_engine.procedure_format.patterns import pattern_matches

from .base import FieldInvalid, FieldType, _, esc, input_html, invalid_message

# autocomplete tokens per profile key (WCAG 1.3.5 identify input purpose).
AUTOCOMPLETE = {
    "email": "email",
    "phone": "tel",
    "postal_code": "postal-code",
    "organization_name": "organization",
}


def _length_hint(f: FieldSpec) -> str:
    lo, hi = f.param("min_length"), f.param("max_length")
    if lo and hi:
        return _("%(min)s to %(max)s characters.") % {"min": lo, "max": hi}
    if hi:
        return _("Up to %(max)s characters.") % {"max": hi}
    if lo:
        return _("At least %(min)s characters.") % {"min": lo}
    return ""


def _check_length(f: FieldSpec, value: str, hi: int) -> None:
    """`hi` is the field's limit (FieldType.max_length): its own max_length, else its
    type's default. Checked on the normalised value; the raw input was only refused past
    about twice that (`check_size`), to leave room for what normalising removes."""
    lo = f.param("min_length")
    # Count code points, not UTF-16 units: 𠮷 is one character to a resident.
    n = len(value)
    if n > hi:
        raise FieldInvalid(
            _("Enter %(max)s characters or fewer (now %(n)s).") % {"max": hi, "n": n}
        )
    if lo is not None and n < lo:
        raise FieldInvalid(_("Enter at least %(min)s characters.") % {"min": lo})


class TextType(FieldType):
    yaml_keys: tuple[str, ...] = ("min_length", "max_length", "pattern", "pattern_message")
    params_check = "text_params"
    kept_around_answer = True  # esc(raw) as the input's value

    def hint(self, f, ctx):
        return _length_hint(f)

    def clean_value(self, f, raw, ctx):
        value = normalize.normalize_text(raw)
        _check_length(f, value, self.max_length(f))
        pattern = f.param("pattern")
        if pattern and not pattern_matches(pattern, value):
            msg = f.param("pattern_message")
            raise FieldInvalid(
                msg.get(ctx.lang) if msg else _("Check the format of what you entered.")
            )
        return value

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        ac = AUTOCOMPLETE.get(f.profile or "")
        extra = f' autocomplete="{ac}"' if ac else ""
        return input_html(name, raw, describedby=describedby, invalid=invalid, extra=extra)


class TextareaType(FieldType):
    yaml_keys = ("min_length", "max_length")
    params_check = "length_params"
    default_max_length = 10_000
    kept_around_answer = True  # esc(raw) as the text

    def hint(self, f, ctx):
        return _length_hint(f)

    def clean_value(self, f, raw, ctx):
        value = normalize.normalize_text(raw, multiline=True)
        _check_length(f, value, self.max_length(f))
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


class KanaType(TextType):
    yaml_keys = ("min_length", "max_length")
    params_check = "length_params"
    default_max_length = 200

    def clean_value(self, f, raw, ctx):
        try:
            value = normalize.validate_katakana(raw)
        except normalize.Invalid as exc:
            raise FieldInvalid(invalid_message(exc)) from None
        _check_length(f, value, self.max_length(f))
        return value

    def hint(self, f, ctx):
        base = _("In katakana (hiragana is converted for you).")
        length = _length_hint(f)
        return f"{base} {length}".strip()
