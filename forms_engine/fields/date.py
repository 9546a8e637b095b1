"""Dates typed as year, month and day (western or Japanese era years)."""

from __future__ import annotations

import datetime as dt

from forms_engine import normalize

from .base import (
    ANSWER_MARKS,
    FieldInvalid,
    FieldType,
    _,
    clip,
    esc,
    input_html,
    invalid_message,
    label_html,
)


class DateType(FieldType):
    yaml_keys = ("min", "max", "era")
    symbol_type = "date"
    params_check = "date_params"
    grouped = True
    # "令和元年", "1985年", "12月": a few characters each.
    part_max_lengths = {"year": 10, "month": 4, "day": 4}
    # Each part's answer in its own input; not with `era`, whose era line is worked out
    # from the whole answer (see render).
    kept_around_answer = True

    def answer_placeholder(self, f):
        return {"year": ANSWER_MARKS[0], "month": ANSWER_MARKS[1], "day": ANSWER_MARKS[2]}

    def answer_parts(self, f, raw, name, ctx):
        raw = raw if isinstance(raw, dict) else {}
        return [esc(raw.get(part, "")) for part in ("year", "month", "day")]

    def render(self, f, raw, name, errors, ctx):
        if f.param("era"):
            return self.render_with_errors(f, raw, name, errors, ctx)
        return super().render(f, raw, name, errors, ctx)

    def extract(self, f, data, name, ctx):
        return {
            p: clip(data.get(f"{name}-{p}", ""), self.part_max_length(f, p))
            for p in ("year", "month", "day")
        }

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
            message = _("Enter a date on or after %(d)s.") % {"d": self.fmt(lo, f, ctx)}
            why = self._age_reason(f.param("min"), older=False)
            raise FieldInvalid(f"{why} {message}" if why else message)
        if hi and value > hi:
            message = _("Enter a date on or before %(d)s.") % {"d": self.fmt(hi, f, ctx)}
            why = self._age_reason(f.param("max"), older=True)
            raise FieldInvalid(f"{why} {message}" if why else message)
        return value.isoformat()

    @staticmethod
    def _age_reason(bound, *, older: bool) -> str:
        """Why a limit like `max: -18y` (born at least 18 years ago) exists, said as an age:
        "You must be 18 or older." Other limits have no reason to derive."""
        if bound is None or bound.kind != "offset" or bound.unit != "y" or bound.amount >= 0:
            return ""
        years = -bound.amount
        if older:
            return _("You must be %(years)s or older.") % {"years": years}
        return _("You must be under %(years)s.") % {"years": years}

    def fmt(self, d: dt.date, f, ctx) -> str:
        if ctx.lang == "ja":
            western = f"{d.year}年{d.month}月{d.day}日"
            return f"{western}（{normalize.wareki(d)}）" if f.param("era") else western
        western = d.isoformat()
        return f"{western} ({normalize.wareki(d)})" if f.param("era") else western

    def required_ids(self, f, name):
        return (f"{name}-year", f"{name}-month", f"{name}-day")

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
                f'<div class="subfield subfield--date">{label_html(label, pname)}'
                + input_html(
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
