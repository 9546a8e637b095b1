"""`rush:` (the waiting room) in a procedure file: read into the spec, and every broken
form refused with file:line key.path: message."""

from __future__ import annotations

import pytest

from forms_engine.procedure_format.loader import load_tree
from forms_engine.procedure_format.model import RushSpec
from tests.procedure_format.test_loader import DOG, assert_refused, copy_samples, edit, line_of

ANCHOR = "retention_days: 1825"


def with_rush(tmp_path, block: str):
    root = copy_samples(tmp_path)
    text = edit(root, DOG, ANCHOR, f"{ANCHOR}\n{block}")
    return load_tree(root), text


def test_no_rush_by_default(tmp_path):
    tree = load_tree(copy_samples(tmp_path))
    assert tree.procedures[("sample-city", "dog-registration")].rush is None


def test_rush_is_read_with_its_default_admission(tmp_path):
    tree, _text = with_rush(tmp_path, "rush: {admit_per_minute: 600}")
    assert tree.errors == []
    assert tree.procedures[("sample-city", "dog-registration")].rush == RushSpec(600, 30)


def test_rush_with_an_admission_time(tmp_path):
    tree, _text = with_rush(tmp_path, "rush:\n  admit_per_minute: 90\n  admission_minutes: 45")
    assert tree.procedures[("sample-city", "dog-registration")].rush == RushSpec(90, 45)


@pytest.mark.parametrize(
    ("block", "needle", "message"),
    [
        ("rush: 600", "rush: 600", "rush: must be a mapping {admit_per_minute, admission_minutes}"),
        (
            "rush:\n  admission_minutes: 30",
            "rush:",
            "rush.admit_per_minute: required key is missing",
        ),
        (
            "rush:\n  admit_per_minute: 0",
            "admit_per_minute: 0",
            "rush.admit_per_minute: must be 1 or more",
        ),
        (
            "rush:\n  admit_per_minute: many",
            "admit_per_minute: many",
            "rush.admit_per_minute: must be a whole number",
        ),
        (
            "rush:\n  admit_per_minute: 200000",
            "admit_per_minute: 200000",
            "rush.admit_per_minute: must be at most 100,000",
        ),
        (
            "rush:\n  admit_per_minute: 60\n  admission_minutes: 2",
            "admission_minutes: 2",
            "rush.admission_minutes: must be 5 or more",
        ),
        (
            "rush:\n  admit_per_minute: 60\n  admission_minutes: 2000",
            "admission_minutes: 2000",
            "rush.admission_minutes: must be at most 1440 (a day)",
        ),
        (
            "rush:\n  admit_per_minute: 60\n  admit_per_hour: 10",
            "admit_per_hour: 10",
            "rush.admit_per_hour: unknown key 'admit_per_hour' (did you mean 'admit_per_minute'?)",
        ),
    ],
)
def test_a_broken_rush_is_refused_with_its_line(tmp_path, block, needle, message):
    tree, text = with_rush(tmp_path, block)
    assert_refused(tree, DOG, f"{DOG}:{line_of(text, needle)} {message}")
