"""What the page keeps between requests to render faster (escaped spec text and option
lists per field and language, the chrome's translated strings, URLs and static names) must
never show one request's answers, errors, language or version on another."""

from __future__ import annotations

import dataclasses
import re
from contextlib import nullcontext

import pytest
from django.template import Context, Engine, engines
from django.templatetags.static import static
from django.test import override_settings
from django.urls import reverse, set_script_prefix
from django.utils import translation

from config.staticfiles import ManifestStaticFilesStorage
from forms_engine.fields import FIELD_TYPES, Ctx
from forms_engine.fields.base import (
    _CONTROL_ID,
    ANSWER_MARKS,
    ChoiceBlock,
    conditional_rendering,
    mark_required_inputs,
)
from forms_engine.procedure_format.model import FieldSpec, Option, Text


def spec(
    type_, *, label=("項目", "Item"), options=(), required=True, profile=None, **params
) -> FieldSpec:
    return FieldSpec(
        id="x",
        type=type_,
        label=Text({"ja": label[0], "en": label[1]}),
        line=1,
        required=required,
        help=Text({"ja": "説明 **太字**", "en": "Help **bold**"}),
        options=tuple(Option(v, Text({"ja": f"選択{v}", "en": f"Choice {v}"})) for v in options),
        params=params,
        profile=profile,
    )


def kept_text(value) -> str:
    """Every piece of HTML a render cache holds (strings, option lists), joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, ChoiceBlock):
        return value.html
    if isinstance(value, dict):
        return "".join(kept_text(v) for v in value.values())
    if isinstance(value, tuple | list):
        return "".join(kept_text(v) for v in value)
    return ""


def render(f: FieldSpec, raw, lang="ja", errors=None, name="f-x") -> str:
    with translation.override(lang):
        return FIELD_TYPES[f.type].render(f, raw, name, errors or {}, Ctx(lang=lang))


def fresh(f: FieldSpec) -> FieldSpec:
    """An equal spec with nothing cached yet."""
    return dataclasses.replace(f)


def chosen(html: str, mark: str) -> list[str]:
    return re.findall(rf'value="([^"]*)"[^>]*?\b{mark}\b', html)


CHOICE_TYPES = [
    ("select", "selected", "b"),
    ("radio", "checked", "b"),
    ("checkboxes", "checked", ["b"]),
]


@pytest.mark.parametrize(("type_", "mark", "answer"), CHOICE_TYPES)
def test_a_cached_option_list_marks_only_this_requests_answer(type_, mark, answer):
    f = spec(type_, options=("a", "b", "c"))
    first = render(f, answer)
    assert chosen(first, mark) == ["b"]
    # Another resident's answer, then none: the block built for the first is not marked.
    other = render(f, "c" if type_ != "checkboxes" else ["a", "c"])
    assert chosen(other, mark) == (["c"] if type_ != "checkboxes" else ["a", "c"])
    assert chosen(render(f, "" if type_ != "checkboxes" else []), mark) == []
    # And the same answer again gives what an uncached spec gives.
    assert render(f, answer) == first == render(fresh(f), answer)


def test_an_answer_with_markup_is_chosen_and_stays_escaped():
    f = spec("select", options=('a"b', "<c>&"))
    html = render(f, "<c>&")
    assert '<option value="&lt;c&gt;&amp;" selected>' in html
    assert '<option value="a&quot;b">' in html
    # Something that is not one of the options (a tampered draft) chooses nothing.
    assert chosen(render(f, ["<c>&"]), "selected") == []
    assert chosen(render(f, 'a"b" selected'), "selected") == []


def test_yes_no_bank_account_and_prefecture_choices_follow_the_answer():
    yes_no = spec("yes_no")
    assert chosen(render(yes_no, "yes"), "checked") == ["yes"]
    assert chosen(render(yes_no, "no"), "checked") == ["no"]
    assert chosen(render(yes_no, ""), "checked") == []
    bank = spec("bank_account")
    assert chosen(render(bank, {"account_type": "checking"}), "checked") == ["checking"]
    assert chosen(render(bank, {"account_type": ""}), "checked") == []
    address = spec("address")
    assert chosen(render(address, {"prefecture": "大阪府"}), "selected") == ["大阪府"]
    assert chosen(render(address, {"prefecture": "北海道"}), "selected") == ["北海道"]
    assert chosen(render(address, {}), "selected") == []


def test_switching_language_gives_each_language_its_own_text():
    f = spec("select", options=("a",), max_selected=None)
    ja = render(f, "a", "ja")
    en = render(f, "a", "en")
    assert "項目" in ja and "選択a" in ja and "説明 <strong>太字</strong>" in ja
    assert "選択してください" in ja  # "Please choose"
    assert "Item" in en and "Choice a" in en and "Help <strong>bold</strong>" in en
    assert "Please choose" in en and "項目" not in en and "選択" not in en
    assert render(f, "a", "ja") == ja == render(fresh(f), "a", "ja")
    assert render(f, "a", "en") == en == render(fresh(f), "a", "en")
    address = spec("address")
    assert ">大阪府</option>" in render(address, {}, "ja")
    assert ">Osaka</option>" in render(address, {}, "en")
    assert ">大阪府</option>" in render(address, {}, "ja")


def test_the_cache_follows_the_pages_language_not_the_callers():
    # Built while Django's active language differs from the page's (a mail, a task):
    # what is kept is still in the page's language.
    f = spec("yes_no", options=())
    with translation.override("en"):
        html = FIELD_TYPES[f.type].render(f, "", "f-x", {}, Ctx(lang="ja"))
    assert "項目" in html and "はい" in html
    assert render(f, "", "en").count("Yes") == 1


def test_two_versions_of_a_field_never_share_what_was_kept():
    # The same field id in two versions of a procedure: each spec object has its own.
    old = spec("radio", label=("旧", "Old"), options=("a", "b"))
    new = spec("radio", label=("新", "New"), options=("a", "c"))
    old_html = render(old, "a")
    new_html = render(new, "a")
    assert "旧" in old_html and "選択b" in old_html and "選択c" not in old_html
    assert "新" in new_html and "選択c" in new_html and "選択b" not in new_html
    assert render(old, "a") == old_html
    # A copy made with other rules (a profile page makes fields optional) starts afresh.
    optional = dataclasses.replace(old, required=False)
    assert "任意" in render(optional, "a") and "任意" not in old_html
    assert "必須" in render(old, "a")


def test_errors_and_the_conditional_mark_are_never_kept():
    f = spec("text")
    with_error = render(f, "x", errors={"f-x": ["だめです"]})
    assert "だめです" in with_error and 'aria-invalid="true"' in with_error
    clean = render(f, "x")
    assert "だめです" not in clean and "aria-invalid" not in clean and "field--error" not in clean
    assert 'aria-required="true"' in clean
    with conditional_rendering():
        conditional = render(f, "x")
    assert "mark--conditional" in conditional and "aria-required" not in conditional
    assert render(f, "x") == clean


def test_entries_of_a_group_keep_their_own_input_names():
    f = spec("checkboxes", options=("a", "b"))
    first = render(f, ["a"], name="f-g-0-x")
    second = render(f, ["b"], name="f-g-1-x")
    assert 'id="f-g-0-x-0"' in first and "f-g-1-x" not in first
    assert 'id="f-g-1-x-1"' in second and "f-g-0-x" not in second
    assert chosen(second, "checked") == ["b"]


# ---- the HTML around an answer (kept_around_answer) ----------------------------------

AROUND_ANSWER = [
    (spec("text"), ["", "山田商店", '<b class="x">&\'', "\ue000", None, 12]),
    (spec("text", required=False, profile=None), ["値", ""]),
    (spec("textarea"), ["一行目\n二行目 <br>", ""]),
    (spec("kana"), ["ヤマダ", ""]),
    (spec("number", unit=Text({"ja": "円", "en": "yen"})), ["1,200", "", "<1>"]),
    (
        spec("email"),
        ["a@example.jp", '"@<'],
    ),
    (spec("tel"), ["06-1234-5678"]),
    (spec("corporate_number"), ["1234567890123"]),
    (spec("select", options=("a", "b", '<c>"')), ["b", "", '<c>"', "zz", None]),
    (spec("radio", options=("a", "b")), ["a", "", "zz"]),
    (spec("checkboxes", options=("a", "b", "c")), [["a", "c"], [], None, ["zz"]]),
    (spec("yes_no"), ["yes", "no", "", "maybe"]),
    (
        spec("name", kana="required"),
        [{"family": "山田", "given": "<太郎>", "kana_family": "ヤマダ"}, {}, None, "x"],
    ),
    (spec("name"), [{"family": "山田", "given": "太郎"}, {"family": '"&'}]),
    (
        spec("address"),
        [
            {"prefecture": "大阪府", "city": "大阪市", "town": "1-2", "building": "<b>"},
            {"prefecture": "どこか"},
            None,
        ],
    ),
    (
        spec("bank_account"),
        [
            {"bank_code": "0001", "account_type": "checking", "holder": "ヤマダ"},
            {"account_type": "<x>"},
            {},
        ],
    ),
    (spec("date"), [{"year": "令和8", "month": "1", "day": "<2>"}, {}, None]),
    (spec("date", profile="birth_date", required=False), [{"year": "1985"}]),
]


@pytest.mark.parametrize(("f", "answers"), AROUND_ANSWER, ids=lambda v: getattr(v, "type", ""))
def test_a_field_built_around_its_answer_is_the_field_built_whole(f, answers):
    field_type = FIELD_TYPES[f.type]
    assert field_type.kept_around_answer
    for lang in ("ja", "en"):
        for name in ("f-x", "f-g-1-x"):
            for conditional in (False, True):
                for raw in answers:
                    with translation.override(lang):
                        context = conditional_rendering() if conditional else nullcontext()
                        with context:
                            fast = field_type.render(f, raw, name, {}, Ctx(lang=lang))
                            whole = field_type.render_with_errors(f, raw, name, {}, Ctx(lang=lang))
                    assert fast == whole, (lang, name, conditional, raw)


def test_a_date_with_its_era_is_built_whole_each_time():
    # The era line is worked out from the whole answer: not a part kept around.
    f = spec("date", era=True)
    assert "平成" in render(f, {"year": "1990", "month": "1", "day": "1"})
    assert "令和" in render(f, {"year": "2020", "month": "1", "day": "1"})
    assert not any(key[0][0] == "around answer" for key in f.render_cache)


def test_what_is_kept_around_an_answer_holds_no_answer():
    f = spec("text")
    first = render(f, "秘密の回答 <1>")
    assert "秘密の回答 &lt;1&gt;" in first
    kept = kept_text(f.render_cache)
    assert kept and "秘密" not in kept and not any(mark in render(f, "") for mark in ANSWER_MARKS)
    # Another resident's answer, then none, on the kept HTML: only theirs shows.
    assert "別の回答" in render(f, "別の回答") and "秘密" not in render(f, "別の回答")
    assert 'value=""' in render(f, None)
    select = spec("select", options=("a", "b"))
    render(select, "b")
    kept = kept_text(select.render_cache)
    assert 'value="b"' in kept and "selected" not in kept


def test_errors_are_rendered_whole_never_from_what_was_kept():
    f = spec("text")
    render(f, "x")  # the HTML around the answer is kept
    html = render(f, "x", errors={"f-x": ["だめです"]})
    assert "だめです" in html and 'aria-invalid="true"' in html and "field--error" in html
    # An error of another field (or of the page) on the same page: each field built whole,
    # still as it was without it.
    assert render(f, "x", errors={"f-other": ["だめ"]}) == render(f, "x")


def test_a_postal_code_is_never_kept_around_its_answer():
    # Its button says what the last look-up found (ctx.notices): a request's own.
    f = spec("postal_code", fills="address")
    assert not FIELD_TYPES["postal_code"].kept_around_answer
    with translation.override("ja"):
        noticed = FIELD_TYPES[f.type].render(
            f, "5408570", "f-x", {}, Ctx(lang="ja", notices={"f-x": "住所が見つかりません"})
        )
    assert "住所が見つかりません" in noticed
    assert "住所が見つかりません" not in render(f, "5408570")


def test_a_type_that_shows_its_answer_twice_cannot_be_built_around_it():
    class Twice(type(FIELD_TYPES["text"])):
        def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
            return super().render_control(f, raw, name, errors, ctx, describedby, invalid) * 2

    with pytest.raises(AssertionError, match="not in one place"):
        Twice().render(spec("text"), "x", "f-x", {}, Ctx())


# ---- the chrome ----------------------------------------------------------------------


def from_string(text: str):
    return engines["django"].from_string(text)


def test_remembered_translations_follow_the_language():
    ours = from_string('{% load i18n chrome %}{% translate "Next" %}|{% translate "Back" %}')
    django = from_string('{% load i18n %}{% translate "Next" %}|{% translate "Back" %}')
    seen = []
    for lang in ("ja", "en", "ja", "en"):
        with translation.override(lang):
            seen.append(ours.render({}))
            assert seen[-1] == django.render({})
    assert seen[0] == seen[2] != seen[1] == seen[3] == "Next|Back"


def test_translations_that_depend_on_the_context_are_not_remembered():
    t = from_string(
        "{% load i18n chrome %}{% translate word %}|{% translate 'Next' as label %}{{ label }}"
        '|{% translate "May" context "month name" %}|{% translate "Next"|upper %}'
    )
    with translation.override("en"):
        assert t.render({"word": "Back"}) == "Back|Next|May|NEXT"
        assert t.render({"word": "Next"}) == "Next|Next|May|NEXT"


def test_remembered_translations_render_like_djangos_own_tag():
    body = '{% translate "<b>" %}{% autoescape off %}{% translate "<b>" %}{% endautoescape %}'
    ours = from_string("{% load i18n chrome %}" + body)
    django = from_string("{% load i18n %}" + body)
    assert ours.render({}) == ours.render({}) == django.render({})


def test_remembered_urls_follow_the_script_prefix():
    t = from_string("{% load chrome %}{% url 'home' %}|{% url 'status' %}")
    assert t.render({}) == f"{reverse('home')}|{reverse('status')}"
    set_script_prefix("/sub/")
    try:
        rendered = t.render({})
        assert rendered.startswith("/sub/")
        assert rendered == f"{reverse('home')}|{reverse('status')}"
    finally:
        set_script_prefix("/")
    assert t.render({}) == f"{reverse('home')}|{reverse('status')}"


def test_urls_with_arguments_are_not_remembered():
    t = from_string("{% load chrome %}{% url 'filing_done' draft %}")
    a = "11111111-1111-1111-1111-111111111111"
    b = "22222222-2222-2222-2222-222222222222"
    assert t.render({"draft": a}) == reverse("filing_done", args=[a])
    assert t.render({"draft": b}) == reverse("filing_done", args=[b])


def test_static_urls_are_worked_out_once_and_stay_right(tmp_path, monkeypatch):
    storage = ManifestStaticFilesStorage(location=str(tmp_path), base_url="/static/")
    calls = []
    original = ManifestStaticFilesStorage.stored_name

    def counting(self, name):
        calls.append(name)
        return original(self, name)

    monkeypatch.setattr(ManifestStaticFilesStorage, "stored_name", counting)
    with override_settings(DEBUG=False):
        # Not collected: the plain name, worked out once.
        assert storage.url("css/app.css") == "/static/css/app.css"
        assert storage.url("css/app.css") == "/static/css/app.css"
        assert calls == ["css/app.css"]
        assert storage.url("js/app.js") == "/static/js/app.js"
    # The storage the templates use gives the same names as before.
    assert static("css/app.css").endswith("css/app.css")


def _mark_by_pattern(control: str, ids: tuple[str, ...]) -> str:
    """The plain way: the tag pattern over the whole control (what the fast one must equal)."""
    wanted = set(ids)
    return _CONTROL_ID.sub(
        lambda m: m.group(0) + ' aria-required="true"' if m.group(1) in wanted else m.group(0),
        control,
    )


@pytest.mark.parametrize(
    "f",
    [
        spec("text"),
        spec("textarea"),
        spec("number", unit=Text({"ja": "円"})),
        spec("select", options=("a", "b")),
        spec("radio", options=("a", "b")),
        spec("checkboxes", options=("a", "b")),
        spec("yes_no"),
        spec("consent", content=Text({"ja": "同意事項"})),
        spec("name", kana="required"),
        spec("address"),
        spec("bank_account"),
        spec("date"),
        spec("postal_code"),
    ],
    ids=lambda f: f.type,
)
def test_required_inputs_are_marked_as_the_tag_pattern_marks_them(f):
    field_type = FIELD_TYPES[f.type]
    raw = field_type.to_raw(f, None)
    for errors in ({}, {"f-x": ["だめ"]}):
        with translation.override("ja"):
            control = field_type.render_control(f, raw, "f-x", errors, Ctx(), "", bool(errors))
        ids = field_type.required_ids(f, "f-x")
        marked = mark_required_inputs(control, ids)
        assert marked == _mark_by_pattern(control, ids)
        assert marked.count('aria-required="true"') == len(ids) or f.type in (
            "radio",
            "checkboxes",
            "yes_no",
        )
    # An id on an element that is no input, or after another id-like attribute: exactly as
    # the pattern does.
    tricky = '<div id="f-x"><input data-id="f-x" id="f-y"><select id="f-x"></select></div>'
    assert mark_required_inputs(tricky, ("f-x",)) == _mark_by_pattern(tricky, ("f-x",))


# ---- {% extends %} ----------------------------------------------------------------------


def _engine(templates: dict[str, str], *, ours: bool) -> Engine:
    return Engine(
        loaders=[("django.template.loaders.locmem.Loader", templates)],
        builtins=["forms_engine.templatetags.inheritance"] if ours else [],
    )


INHERITANCE = {
    "root.html": (
        "<title>{% block title %}Root{% endblock %}</title>"
        "{% if flag %}{% block a %}A{{ x }}{% endblock %}{% else %}none{% endif %}"
        "{% for i in items %}{% block b %}B{% endblock %}{{ i }}{% endfor %}"
        "{% block c %}C{% endblock %}"
    ),
    "middle.html": (
        '{% extends "root.html" %}{% block a %}M[{{ block.super }}]{% endblock %}'
        "{% block c %}MC{% endblock %}"
    ),
    "leaf.html": (
        '{% extends "middle.html" %}{% block title %}Leaf {{ block.super }}{% endblock %}'
        "{% block c %}{{ block.super }}+L{% endblock %}"
    ),
}


def test_the_remembered_extends_renders_as_djangos_own():
    ours, django = _engine(INHERITANCE, ours=True), _engine(INHERITANCE, ours=False)
    for name in INHERITANCE:
        if "{% extends" in INHERITANCE[name]:
            node = ours.get_template(name).nodelist[0]
            assert type(node).__name__ == "RootBlocksRememberedExtendsNode"
        for context in (
            {"flag": True, "x": "<x>", "items": [1, 2]},
            {"flag": False, "items": []},
        ):
            for _twice in range(2):
                assert ours.get_template(name).render(Context(context)) == django.get_template(
                    name
                ).render(Context(context))
    assert ours.get_template("leaf.html").render(Context({"flag": True, "x": 1})) == (
        "<title>Leaf Root</title>M[A1]MC+L"
    )


def test_a_changed_root_template_gives_its_own_blocks():
    # Without the cached loader every load compiles anew: the blocks found for one
    # compiled root are never those of another.
    templates = {
        "root.html": "{% block a %}old{% endblock %}",
        "leaf.html": '{% extends "root.html" %}',
    }
    engine = _engine(templates, ours=True)
    assert engine.get_template("leaf.html").render(Context()) == "old"
    templates["root.html"] = "<{% block a %}new{% endblock %}{% block b %}b{% endblock %}>"
    assert engine.get_template("leaf.html").render(Context()) == "<newb>"


def test_the_sites_templates_use_the_remembered_extends():
    page = engines["django"].get_template("forms_engine/page.html").template
    assert type(page.nodelist[0]).__name__ == "RootBlocksRememberedExtendsNode"
