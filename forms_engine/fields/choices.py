"""Answers chosen from what the procedure offers: select, radio, checkboxes, yes/no and
consent."""

from __future__ import annotations

from django.utils.translation import pgettext

from forms_engine import markdown

from .base import (
    ANSWER_MARKS,
    ChoiceBlock,
    FieldInvalid,
    FieldType,
    _,
    clip,
    esc,
    spec_html,
    text_of,
)


def _options_html(f, raw_values, name, ctx, type_) -> str:
    """Radio buttons or checkboxes: built once per field, name and language (spec_html);
    the answer's choices are ticked on each request."""

    def build() -> ChoiceBlock:
        items = []
        for i, opt in enumerate(f.options):
            oid = f"{name}-{i}"
            items.append(
                (
                    opt.value,
                    f'<div class="choice"><input class="choice__input" type="{type_}" id="{oid}" '
                    f'name="{name}" value="{esc(opt.value)}"',
                    f'><label class="choice__label" for="{oid}">{esc(opt.label.get(ctx.lang))}'
                    "</label></div>",
                )
            )
        return ChoiceBlock([(None, '<div class="choices">', ""), *items, (None, "</div>", "")])

    return spec_html(f, ("choices", type_, name), ctx.lang, build).render(raw_values, " checked")


def select_options(options, lang: str) -> ChoiceBlock:
    """The <option>s of a select, "Please choose" first (never chosen)."""
    please = _("Please choose")
    return ChoiceBlock(
        [
            (None, f'<option value="">{esc(please)}</option>', ""),
            *(
                (
                    opt.value,
                    f'<option value="{esc(opt.value)}"',
                    f">{esc(opt.label.get(lang))}</option>",
                )
                for opt in options
            ),
        ]
    )


def _option_label(f, value, ctx) -> str:
    for opt in f.options:
        if opt.value == value:
            return opt.label.get(ctx.lang)
    return str(value)


class SelectType(FieldType):
    yaml_keys: tuple[str, ...] = ("options",)  # required: choice_params says so at the key itself
    params_check = "choice_params"

    def max_length(self, f):
        # Nothing longer than the longest option can be one.
        return max((len(o.value) for o in f.options), default=1) or 1

    def required_message(self, f, ctx):
        return _("Choose %(label)s.") % {"label": text_of(f.label, ctx.lang)}

    def clean_value(self, f, raw, ctx):
        if raw not in {o.value for o in f.options}:
            raise FieldInvalid(_("Choose one of the options."))
        return raw

    kept_around_answer = True

    def answer_parts(self, f, raw, name, ctx):
        options = spec_html(f, ("options",), ctx.lang, lambda: select_options(f.options, ctx.lang))
        return [options.render((raw,), " selected")]

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        inv = ' aria-invalid="true"' if invalid else ""
        return (
            f'<select class="select" id="{name}" name="{name}"{describedby}{inv}>'
            f"{self.answer_parts(f, raw, name, ctx)[0]}</select>"
        )

    def display(self, f, value, ctx):
        if value is None:
            return super().display(f, value, ctx)
        return esc(_option_label(f, value, ctx))


class RadioType(SelectType):
    grouped = True

    def answer_parts(self, f, raw, name, ctx):
        return [_options_html(f, {raw}, name, ctx, "radio")]

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        return self.answer_parts(f, raw, name, ctx)[0]


class CheckboxesType(SelectType):
    yaml_keys = ("options", "min_selected", "max_selected")
    symbol_type = "list"
    params_check = "checkboxes_params"
    grouped = True

    def extract(self, f, data, name, ctx):
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist else data.get(name, [])
        # One value more than there are options is enough to say that something else
        # was sent; the rest of a posted list is never kept.
        limit = self.max_length(f)
        return [clip(v, limit) for v in values[: len(f.options) + 1] if isinstance(v, str)]

    def check_size(self, f, raw):
        if not isinstance(raw, list):
            return super().check_size(f, raw)
        limit = self.max_length(f)
        if len(raw) > len(f.options) or any(len(v) > limit for v in raw):
            raise FieldInvalid(_("Choose from the options shown."))

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

    def answer_placeholder(self, f):
        return [ANSWER_MARKS[0]]

    def answer_parts(self, f, raw, name, ctx):
        return [_options_html(f, set(raw or []), name, ctx, "checkbox")]

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        return self.answer_parts(f, raw, name, ctx)[0]

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        return "、".join(esc(_option_label(f, v, ctx)) for v in value)


class YesNoType(FieldType):
    symbol_type = "bool"
    grouped = True
    default_max_length = len("yes")

    def required_message(self, f, ctx):
        return _("Choose yes or no.")

    def to_raw(self, f, value):
        return {True: "yes", False: "no"}.get(value, "")

    def clean_value(self, f, raw, ctx):
        if raw not in ("yes", "no"):
            raise FieldInvalid(_("Choose yes or no."))
        return raw == "yes"

    kept_around_answer = True

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        return self.answer_parts(f, raw, name, ctx)[0]

    def answer_parts(self, f, raw, name, ctx):
        def build() -> ChoiceBlock:
            items = []
            for value, label in (
                ("yes", pgettext("answer", "Yes")),
                ("no", pgettext("answer", "No")),
            ):
                items.append(
                    (
                        value,
                        f'<div class="choice"><input class="choice__input" type="radio" '
                        f'id="{name}-{value}" name="{name}" value="{value}"',
                        f'><label class="choice__label" for="{name}-{value}">{esc(label)}'
                        "</label></div>",
                    )
                )
            return ChoiceBlock(
                [(None, '<div class="choices choices--inline">', ""), *items, (None, "</div>", "")]
            )

        return [spec_html(f, ("yes_no", name), ctx.lang, build).render((raw,), " checked")]

    def display(self, f, value, ctx):
        if value is None:
            return super().display(f, value, ctx)
        return esc(pgettext("answer", "Yes") if value else pgettext("answer", "No"))


class ConsentType(FieldType):
    yaml_keys = ("content",)
    symbol_type = "bool"
    params_check = "content_params"
    grouped = True
    default_max_length = len("yes")

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
