"""Text field patterns run on RE2 (linear time): the loader refuses what RE2 cannot run,
naming the construct, and the semantics the fields rely on hold."""

from __future__ import annotations

import pytest

from forms_engine.procedure_format.loader import load_tree
from forms_engine.procedure_format.patterns import compile_pattern, pattern_matches

from .test_loader import DOG, assert_refused, copy_samples, edit, line_of

DOG_NAME = "        label: {ja: 犬の名前, en: Dog's name}\n        max_length: 40\n"


@pytest.mark.parametrize(
    "pattern, construct",
    [
        (r"(\w)\1", r"backreference (\1)"),
        (r"(?=.*[0-9]).+", "lookahead (?=...)"),
        (r"(?!x).+", "negative lookahead (?!...)"),
        (r"(?<=a)b", "lookbehind (?<=...)"),
        (r"(?P<c>a)(?P=c)", "named backreference (?P=name)"),
    ],
)
def test_the_loader_refuses_a_pattern_re2_cannot_run_and_names_the_construct(
    tmp_path, pattern, construct
):
    root = copy_samples(tmp_path)
    line = f"        pattern: '{pattern}'\n"
    text = edit(root, DOG, DOG_NAME, DOG_NAME + line)
    tree = load_tree(root)
    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line_of(text, line.strip())} pages[1].fields[0].pattern: {construct} is not "
        "supported: patterns run in linear time (RE2 syntax), without backreferences, "
        "lookarounds or possessive quantifiers",
    )


def test_the_loader_reports_a_broken_pattern_with_re2s_reason(tmp_path):
    root = copy_samples(tmp_path)
    text = edit(root, DOG, DOG_NAME, DOG_NAME + "        pattern: '[a-'\n")
    tree = load_tree(root)
    assert_refused(
        tree,
        DOG,
        f"{DOG}:{line_of(text, 'pattern:')} pages[1].fields[0].pattern: invalid regular "
        "expression (RE2 syntax): missing ]: [a-",
    )


def test_a_pattern_must_match_the_whole_value_even_through_an_alternative():
    assert pattern_matches("a|ab", "ab")
    assert not pattern_matches("[A-Z]", "AB")
    assert not pattern_matches("[0-9]+", "12\n")


def test_a_pattern_counts_code_points_and_reads_japanese_scripts():
    assert pattern_matches(".", "𠮷")
    assert pattern_matches(r"\p{Han}+", "𠮷野")
    assert pattern_matches("[ァ-ヶー]+", "ヤマダ")
    assert not pattern_matches(r"\p{Katakana}+", "やまだ")


def test_a_pattern_is_compiled_once_per_process():
    assert compile_pattern("[0-9]{3}-[0-9]{4}") is compile_pattern("[0-9]{3}-[0-9]{4}")
