"""Answers made of named parts, stored as a dict: a person's name, an address and a bank
account. Each part has its own label and its own error."""

from __future__ import annotations

from functools import lru_cache

from django.utils.translation import pgettext

from forms_engine import normalize

from .base import (
    ANSWER_MARKS,
    ChoiceBlock,
    FieldInvalid,
    FieldType,
    _,
    built_in,
    clip,
    error_html,
    esc,
    invalid_message,
    label_html,
    spec_html,
    subfield_html,
)

PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 "
    "東京都 神奈川県 新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 "
    "滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 "
    "香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県"
).split()

# English names shown on English pages; the stored value is always the Japanese name.
PREFECTURES_EN = dict(
    zip(
        PREFECTURES,
        (
            "Hokkaido Aomori Iwate Miyagi Akita Yamagata Fukushima Ibaraki Tochigi Gunma "
            "Saitama Chiba Tokyo Kanagawa Niigata Toyama Ishikawa Fukui Yamanashi Nagano Gifu "
            "Shizuoka Aichi Mie Shiga Kyoto Osaka Hyogo Nara Wakayama Tottori Shimane Okayama "
            "Hiroshima Yamaguchi Tokushima Kagawa Ehime Kochi Fukuoka Saga Nagasaki Kumamoto "
            "Oita Miyazaki Kagoshima Okinawa"
        ).split(),
        strict=True,
    )
)


@lru_cache(maxsize=8)
def _prefecture_options(lang: str) -> ChoiceBlock:
    """The 47 prefectures as <option>s, in the page's language (built once per language)."""
    please = built_in(lang, lambda: _("Please choose"))
    return ChoiceBlock(
        [
            (None, f'<option value="">{esc(please)}</option>', ""),
            *(
                (
                    pref,
                    f'<option value="{pref}"',
                    f">{esc(PREFECTURES_EN[pref] if lang == 'en' else pref)}</option>",
                )
                for pref in PREFECTURES
            ),
        ]
    )


class CompoundType(FieldType):
    """A set of named inputs stored as a dict."""

    grouped = True
    parts: tuple[str, ...] = ()
    kept_around_answer = True  # each part's answer in its own input (or list of options)

    def answer_placeholder(self, f):
        return {part: ANSWER_MARKS[i] for i, part in enumerate(self.active_parts(f))}

    def answer_parts(self, f, raw, name, ctx):
        raw = raw if isinstance(raw, dict) else {}
        return [self.part_answer(f, part, raw, name, ctx) for part in self.active_parts(f)]

    def part_answer(self, f, part: str, raw: dict, name: str, ctx) -> str:
        """How one part of the answer shows: escaped as its input's value here."""
        return esc(raw.get(part, ""))

    def active_parts(self, f) -> tuple[str, ...]:
        return self.parts

    def extract(self, f, data, name, ctx):
        return {
            part: clip(data.get(f"{name}-{part}", ""), self.part_max_length(f, part))
            for part in self.active_parts(f)
        }

    def part_error_key(self, part):
        return f"__-{part}"

    #: Parts that are not one input with the part's name as its id (radio buttons).
    unlinkable_parts: tuple[str, ...] = ()

    #: Parts that may be left empty in a required answer.
    optional_parts: tuple[str, ...] = ()

    def required_ids(self, f, name):
        return tuple(
            f"{name}-{p}"
            for p in self.active_parts(f)
            if p not in self.optional_parts and p not in self.unlinkable_parts
        )

    def anchor(self, f, name, error_keys):
        """The first part input in error; the first part when the whole field is."""
        for key in error_keys:
            part = key[len(name) + 1 :] if key.startswith(name + "-") else ""
            if part in self.active_parts(f) and part not in self.unlinkable_parts:
                return key
        if name in error_keys:
            return f"{name}-{self.active_parts(f)[0]}"
        return f"{name}-field"

    def to_raw(self, f, value):
        base = {p: "" for p in self.active_parts(f)}
        if isinstance(value, dict):
            base.update({k: "" if v is None else str(v) for k, v in value.items()})
        return base


class NameType(CompoundType):
    yaml_keys = ("kana",)
    symbol_type = "compound:name"
    params_check = "name_params"
    parts = ("family", "given", "kana_family", "kana_given")
    part_max_lengths = {"family": 50, "given": 50, "kana_family": 100, "kana_given": 100}

    def active_parts(self, f):
        if f.param("kana", "none") == "none":
            return ("family", "given")
        return self.parts

    def required_ids(self, f, name):
        parts = self.parts if f.param("kana", "none") == "required" else ("family", "given")
        return tuple(f"{name}-{p}" for p in parts)

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
            subfield_html(
                f"{name}-{part}",
                labels[part],
                raw.get(part, ""),
                errors,
                extra=f' autocomplete="{ac[part]}"' if part in ac else "",
                half=True,
                whole_error=f"{name}-error" if invalid else "",
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
    symbol_type = "compound:address"
    parts = ("prefecture", "city", "town", "building")
    optional_parts = ("building",)
    part_max_lengths = {
        "prefecture": max(map(len, PREFECTURES)),
        "city": 100,
        "town": 100,
        "building": 100,
    }

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

    def part_answer(self, f, part, raw, name, ctx):
        if part == "prefecture":
            return _prefecture_options(ctx.lang).render((raw.get("prefecture", ""),), " selected")
        return super().part_answer(f, part, raw, name, ctx)

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        raw = raw if isinstance(raw, dict) else {}
        out = []
        pname = f"{name}-prefecture"
        perr = errors.get(pname, [])
        options = self.part_answer(f, "prefecture", raw, name, ctx)
        inv = ' aria-invalid="true"' if perr or invalid else ""
        pdesc = " ".join(
            ([f"{pname}-error"] if perr else []) + ([f"{name}-error"] if invalid else [])
        )
        if pdesc:
            inv += f' aria-describedby="{pdesc}"'
        prefecture = _("Prefecture")
        out.append(
            f'<div class="subfield">{label_html(prefecture, pname)}{error_html(pname, perr)}'
            f'<select class="select" id="{pname}" name="{pname}" '
            f'autocomplete="address-level1"{inv}>{options}</select></div>'
        )
        for part, label, ac in (
            ("city", _("City, ward, town or village"), "address-level2"),
            ("town", _("Town area and block number"), "address-line1"),
            ("building", _("Building and room (if any)"), "address-line2"),
        ):
            out.append(
                subfield_html(
                    f"{name}-{part}",
                    label,
                    raw.get(part, ""),
                    errors,
                    extra=f' autocomplete="{ac}"',
                    whole_error=f"{name}-error" if invalid and part != "building" else "",
                )
            )
        return f'<div class="subfields" data-address="{name}">{"".join(out)}</div>'

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        line = "".join(value.get(p, "") for p in ("prefecture", "city", "town"))
        building = value.get("building", "")
        return esc(line) + (f"<br>{esc(building)}" if building else "")


class BankAccountType(CompoundType):
    symbol_type = "compound:bank_account"
    parts = ("bank_code", "branch_code", "account_type", "number", "holder")
    unlinkable_parts = ("account_type",)
    part_max_lengths = {
        "bank_code": 4,
        "branch_code": 3,
        "account_type": len("checking"),  # or 普通/当座(預金)
        "number": 7,
        "holder": 60,
    }

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

    def part_answer(self, f, part, raw, name, ctx):
        if part != "account_type":
            return super().part_answer(f, part, raw, name, ctx)
        pname = f"{name}-account_type"

        def build() -> ChoiceBlock:
            return ChoiceBlock(
                (
                    value,
                    f'<div class="choice"><input class="choice__input" type="radio" '
                    f'id="{pname}-{value}" name="{pname}" value="{value}"',
                    f'><label class="choice__label" for="{pname}-{value}">{esc(label)}</label></div>',
                )
                for value, label in (
                    ("ordinary", _("Ordinary (普通)")),
                    ("checking", _("Checking (当座)")),
                )
            )

        return spec_html(f, ("account_type", name), ctx.lang, build).render(
            (raw.get("account_type"),), " checked"
        )

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        raw = raw if isinstance(raw, dict) else {}
        out = []
        for part, label in (
            ("bank_code", _("Bank code (4 digits)")),
            ("branch_code", _("Branch code (3 digits)")),
        ):
            out.append(
                subfield_html(
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
        radios = self.part_answer(f, "account_type", raw, name, ctx)
        account_type = _("Account type")
        out.append(
            f'<fieldset class="subfield"><legend class="field__sublabel">{esc(account_type)}</legend>'
            f'{error_html(pname, perr)}<div class="choices choices--inline">{radios}</div></fieldset>'
        )
        out.append(
            subfield_html(
                f"{name}-number",
                _("Account number (up to 7 digits)"),
                raw.get("number", ""),
                errors,
                cls="input input--8",
                extra=' inputmode="numeric"',
            )
        )
        out.append(
            subfield_html(
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
