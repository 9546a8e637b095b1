"""Translations: the gettext catalogues in locale/ are complete, agree with the source, and
their committed .mo files are what the .po files compile to.

Japanese (ja) is the default language and must be translated in full. English (en) keeps
empty msgstr (gettext falls back to the English msgid), except plural entries.

When a test here fails because the source changed, run (see the `messages-update` target):

    .venv/bin/python manage.py makemessages -l ja -l en --no-location --no-obsolete \\
        --ignore='.venv/*' --ignore='node_modules/*' --ignore='var/*' \\
        --ignore='tests/*' --ignore='benchmarks/*'

translate the new entries in locale/ja/LC_MESSAGES/django.po, then
`.venv/bin/python manage.py compilemessages --ignore='.venv/*' --ignore='node_modules/*'`.
"""

from __future__ import annotations

import ast
import functools
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCALE = REPO_ROOT / "locale"
LANGS = ("ja", "en")
FIX = "run `make messages-update`, translate what is new in locale/ja, then `make messages`"

# The same options as the `messages-update` target.
MAKEMESSAGES_IGNORES = [
    "--ignore=.venv/*",
    "--ignore=node_modules/*",
    "--ignore=var/*",
    "--ignore=tests/*",
    "--ignore=benchmarks/*",
]
# Not copied into the scratch tree where makemessages runs: not source, or ignored above.
NOT_SOURCE = {
    ".git",
    ".venv",
    "node_modules",
    "var",
    "tests",
    "benchmarks",
    "locale",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
    "staticfiles",
}


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.mo"


def msgfmt() -> str:
    path = shutil.which("msgfmt")
    if path is None:
        pytest.fail("msgfmt is missing: install GNU gettext (scripts/apt-ensure.sh gettext)")
    return path


# ---- reading catalogues (polib) ----------------------------------------------------------


def key(e: polib.POEntry) -> tuple[str | None, str]:
    return (e.msgctxt, e.msgid)


def forms(e: polib.POEntry) -> dict[int, str]:
    """The translations of an entry by plural index (index 0 only for a singular entry)."""
    return dict(e.msgstr_plural) if e.msgid_plural else {0: e.msgstr}


def describe(e: polib.POEntry) -> str:
    ctx = f"[{e.msgctxt}] " if e.msgctxt else ""
    return f"{ctx}{e.msgid!r} (line {e.linenum})"


def catalogue(lang: str) -> tuple[polib.POFile, list[polib.POEntry]]:
    """(the committed catalogue of `lang`, its active entries); the header is not an entry."""
    po = polib.pofile(str(po_path(lang)))
    assert po.metadata, "no PO header"
    return po, [e for e in po if not e.obsolete]


PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?(?P<conv>[a-zA-Z%])"
)


def placeholders(text: str) -> list[str]:
    """Python %-placeholders of a string: named ones by name, positional ones by conversion."""
    found = []
    for m in PLACEHOLDER.finditer(text):
        if m["conv"] == "%":
            continue
        found.append(f"%({m['name']})" if m["name"] is not None else f"%{m['conv']}")
    return sorted(found)


# ---- (a) complete and final ------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_exists_and_msgfmt_accepts_it(lang):
    assert po_path(lang).is_file(), f"{po_path(lang)} is missing: {FIX}"
    result = subprocess.run(
        [msgfmt(), "--check", "--statistics", "-o", os.devnull, str(po_path(lang))],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    if lang == "ja":
        # Only a complete catalogue gets the bare "N translated messages." line.
        assert re.fullmatch(r"\d+ translated messages?\.\n", result.stderr), (
            f"ja catalogue is not complete: {result.stderr.strip()}"
        )


def test_japanese_header():
    po, _entries = catalogue("ja")
    header = po.metadata
    assert header.get("Language") == "ja"
    assert header.get("Content-Type") == "text/plain; charset=UTF-8"
    assert header.get("Plural-Forms") == "nplurals=1; plural=0;"
    assert header.get("Project-Id-Version", "").startswith("denshi-shinsei")
    assert "fuzzy" not in po.metadata_is_fuzzy, "the ja header is still marked fuzzy"


def test_every_japanese_entry_is_translated_and_reviewed():
    _po, entries = catalogue("ja")
    assert entries, "the ja catalogue has no entries"
    fuzzy = [describe(e) for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy entries (review the translation, then drop the flag):\n" + "\n".join(
        fuzzy
    )
    empty = [describe(e) for e in entries if not forms(e).get(0, "").strip()]
    assert not empty, "untranslated entries in locale/ja:\n" + "\n".join(empty)
    wrong_forms = [describe(e) for e in entries if e.msgid_plural and set(forms(e)) != {0}]
    assert not wrong_forms, "Japanese has one plural form (msgstr[0] only):\n" + "\n".join(
        wrong_forms
    )


def test_english_catalogue_falls_back_to_the_msgids():
    po, entries = catalogue("en")
    assert po.metadata.get("Language") == "en"
    assert po.metadata.get("Plural-Forms") == "nplurals=2; plural=(n != 1);"
    assert not [describe(e) for e in entries if "fuzzy" in e.flags]
    for e in entries:
        if not e.msgid_plural:
            assert e.msgstr in ("", e.msgid), f"en entry should stay empty: {describe(e)}"
        else:
            assert forms(e) == {0: e.msgid, 1: e.msgid_plural}, f"en plural entry: {describe(e)}"


def test_japanese_and_english_catalogues_have_the_same_entries():
    ja = {key(e) for e in catalogue("ja")[1]}
    en = {key(e) for e in catalogue("en")[1]}
    assert ja == en, f"only in ja: {sorted(ja - en)}; only in en: {sorted(en - ja)}; {FIX}"


# ---- (b) placeholders -------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_the_placeholders_of_their_msgid(lang):
    _po, entries = catalogue(lang)
    problems = []
    for e in entries:
        # A plural form may use the singular's or the plural's placeholders (Japanese has one
        # form for every n, so its msgstr[0] stands for msgid_plural too).
        sources = [e.msgid, e.msgid_plural] if e.msgid_plural else [e.msgid]
        for index, text in forms(e).items():
            if not text:
                continue
            if placeholders(text) not in [placeholders(s) for s in sources]:
                problems.append(
                    f"{describe(e)} msgstr[{index}]={text!r}: {placeholders(text)}"
                    f" but the msgid has {placeholders(sources[-1])}"
                )
            if "python-brace-format" in e.flags:
                braces = [sorted(re.findall(r"\{[^{}]*\}", s)) for s in sources]
                if sorted(re.findall(r"\{[^{}]*\}", text)) not in braces:
                    problems.append(f"{describe(e)} msgstr[{index}]={text!r}: brace fields differ")
            if e.msgid.endswith("\n") != text.endswith("\n"):
                problems.append(f"{describe(e)} msgstr[{index}]: trailing newline differs")
    assert not problems, "\n".join(problems)


def test_the_placeholder_reader_sees_named_and_positional_placeholders():
    assert placeholders("Step %(current)s of %(total)s (%d%%)") == ["%(current)", "%(total)", "%d"]
    assert placeholders("ステップ %(current)s / %(total)s") == ["%(current)", "%(total)"]


# ---- the established Japanese terms --------------------------------------------------------

GLOSSARY = {
    (None, "Required"): "必須",
    (None, "Optional"): "任意",
    (None, "Next"): "次へ進む",
    (None, "Back"): "戻る",
    (None, "Save and continue later"): "一時保存する",
    (None, "Check your answers"): "入力内容の確認",
    (None, "Change"): "変更",
    (None, "Submit the application"): "申請する",
    (None, "Application received"): "申請を受け付けました",
    (None, "Receipt number"): "受付番号",
    (None, "Status code"): "確認コード",
    (None, "Sign in"): "ログイン",
    (None, "Sign out"): "ログアウト",
    (None, "Fee"): "手数料",
    (None, "Total"): "合計",
    (None, "%(amount)s yen"): "%(amount)s円",
    (None, "Prefecture"): "都道府県",
    (None, "City, ward, town or village"): "市区町村",
    (None, "Town area and block number"): "町域・番地",
    (None, "Building and room (if any)"): "建物名・部屋番号（任意）",
    ("name part", "Family name"): "姓",
    ("name part", "Given name"): "名",
    ("name part", "Family name (katakana)"): "セイ",
    ("name part", "Given name (katakana)"): "メイ",
    (None, "Find the address"): "住所を検索",
    (None, "Error:"): "エラー：",
    (None, "Check the following"): "入力内容を確認してください",
    (None, "Year"): "年",
    (None, "Month"): "月",
    (None, "Day"): "日",
    (None, "Yes"): "はい",
    (None, "No"): "いいえ",
    (None, "Enter %(label)s."): "%(label)sを入力してください。",
    (None, "Choose %(label)s."): "%(label)sを選択してください。",
    (None, "Attach %(label)s."): "%(label)sを添付してください。",
    (None, "Step %(current)s of %(total)s"): "ステップ %(current)s / %(total)s",
}


def test_established_terms_are_used():
    translated = {key(e): forms(e).get(0, "") for e in catalogue("ja")[1]}
    wrong = {
        key: (translated[key], want)
        for key, want in GLOSSARY.items()
        if key in translated and translated[key] != want
    }
    assert not wrong, f"(msgctxt, msgid): (now, agreed term) {wrong}"
    # The acceptance window and capacity messages (forms_engine/views/start.py).
    for msgid, words in (
        ("This procedure is not accepting applications yet.", "受付"),
        ("This procedure is no longer accepting applications.", "受付は終了しました"),
        ("This procedure has reached its capacity and accepts no more applications.", "定員"),
    ):
        assert words in translated.get((None, msgid), words), (msgid, translated.get((None, msgid)))


# ---- (c) up to date with the source ---------------------------------------------------

GETTEXT_CALLS = {  # function name -> (index of msgctxt or None, index of msgid)
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}


def source_files(suffix: str):
    for directory, dirnames, filenames in os.walk(REPO_ROOT):
        top = Path(directory) == REPO_ROOT
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d != "__pycache__"
            and not d.endswith(".egg-info")
            and not (top and (d in NOT_SOURCE or d.startswith(".")))
        )
        for name in sorted(filenames):
            if name.endswith(suffix):
                yield Path(directory) / name


@functools.cache
def python_msgids() -> dict[tuple[str | None, str], str]:
    """Literal gettext calls in the Python source, found with `ast` (so also those inside
    f-strings, which xgettext before 0.23 does not see) -> where the first one is."""
    found: dict[tuple[str | None, str], str] = {}
    for path in source_files(".py"):
        rel = path.relative_to(REPO_ROOT)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(rel))
        except (SyntaxError, UnicodeDecodeError):
            continue  # not ours to judge here; ruff and the other tests report it
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in GETTEXT_CALLS:
                continue
            ctx_at, id_at = GETTEXT_CALLS[name]
            args = node.args
            literal = [isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args]
            if len(args) <= id_at or not literal[id_at] or (ctx_at is not None and not literal[0]):
                continue
            key = (args[ctx_at].value if ctx_at is not None else None, args[id_at].value)
            found.setdefault(key, f"{rel}:{node.lineno}")
    return found


def _not_source(directory: str, names: list[str]) -> set[str]:
    top = Path(directory).resolve() == REPO_ROOT
    return {
        n
        for n in names
        if n == "__pycache__" or n.endswith(".egg-info") or (top and n in NOT_SOURCE)
    }


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[tuple[str | None, str]]:
    """msgids makemessages extracts now, run on a scratch copy of the source tree so that
    the committed catalogue is never touched."""
    before = {lang: po_path(lang).read_bytes() for lang in LANGS if po_path(lang).exists()}
    work = tmp_path_factory.mktemp("makemessages") / "repo"
    shutil.copytree(REPO_ROOT, work, ignore=_not_source, symlinks=True)
    (work / "locale").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("LOCALE_PATHS", "PYTHONPATH")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ja", "--no-location"]
        + ["--no-obsolete", *MAKEMESSAGES_IGNORES],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    produced = work / "locale" / "ja" / "LC_MESSAGES" / "django.po"
    assert produced.is_file(), f"makemessages wrote no catalogue in the scratch tree\n{result}"
    after = {lang: po_path(lang).read_bytes() for lang in LANGS if po_path(lang).exists()}
    assert before == after, "makemessages in the scratch tree changed the committed catalogue"
    return {key(e) for e in polib.pofile(str(produced)) if not e.obsolete}


def test_every_string_of_the_source_is_in_the_catalogue(extracted):
    committed = {key(e) for e in catalogue("ja")[1]}
    missing = sorted(extracted - committed, key=str)
    assert not missing, (
        f"{len(missing)} msgid(s) in the source are not in locale/ja/LC_MESSAGES/django.po; "
        f"{FIX}:\n" + "\n".join(f"  {ctx + ': ' if ctx else ''}{mid!r}" for ctx, mid in missing)
    )


def test_gettext_calls_inside_f_strings_are_in_the_catalogue(extracted):
    # xgettext 0.21 (Debian 12) skips f-strings: f'{_("Optional")}' is never extracted and
    # makemessages --no-obsolete drops its entry. Move the call out of the f-string
    # (`optional = _("Optional")`) and run make messages-update.
    committed = {key(e) for e in catalogue("ja")[1]}
    unseen = {k: where for k, where in python_msgids().items() if k not in extracted}
    missing = {k: where for k, where in unseen.items() if k not in committed}
    assert not missing, (
        "gettext calls that makemessages does not extract (inside an f-string?) and that have "
        f"no catalogue entry; move the call out of the f-string, then {FIX}:\n"
        + "\n".join(f"  {where}: {mid!r}" for (_ctx, mid), where in sorted(missing.items()))
    )


def test_the_catalogue_has_no_stale_entries(extracted):
    committed = {key(e) for e in catalogue("ja")[1]}
    stale = sorted(committed - extracted - set(python_msgids()), key=str)
    assert not stale, (
        f"entries no longer used in the source (`make messages-update` drops them): {stale}"
    )


# ---- (d) compiled catalogues match -----------------------------------------------------


def _mo_catalog(path: Path) -> tuple[dict, int, int]:
    with path.open("rb") as fh:
        translations = gettext.GNUTranslations(fh)
    return dict(translations._catalog), translations.plural(1), translations.plural(2)


@pytest.mark.parametrize("lang", LANGS)
def test_committed_mo_is_the_compiled_po(lang, tmp_path):
    assert mo_path(lang).is_file(), f"{mo_path(lang)} is missing: run `make messages`"
    fresh = tmp_path / "django.mo"
    result = subprocess.run(
        [msgfmt(), "--check-format", "-o", str(fresh), str(po_path(lang))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Compare what gettext reads, not bytes: msgfmt versions lay the file out differently.
    assert _mo_catalog(mo_path(lang)) == _mo_catalog(fresh), (
        f"{mo_path(lang)} is out of date with its .po: run `make messages` and commit the .mo"
    )


@pytest.mark.skipif(
    shutil.which("git") is None or not (REPO_ROOT / ".git").exists(), reason="not a git checkout"
)
def test_mo_files_are_not_git_ignored():
    for lang in LANGS:
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(mo_path(lang).relative_to(REPO_ROOT))],
            cwd=REPO_ROOT,
            timeout=30,
        )
        assert ignored.returncode == 1, f"{mo_path(lang)} is git-ignored; it must be committed"


# ---- (e) the pages come out in the chosen language -------------------------------------


@pytest.mark.django_db
def test_home_page_in_japanese_then_in_english(client):
    page = client.get("/").content.decode()
    assert '<html lang="ja">' in page
    assert "電子申請" in page
    assert "Online application" not in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Online application" in page
    assert "電子申請サービス" not in page
