"""One registry of field types (forms_engine.fields.registry) is what the loader, the
model and the renderer read: the loader accepts exactly its types and, for each type,
exactly the keys its class declares; a type added to it is known everywhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from forms_engine.fields import FIELD_TYPES
from forms_engine.fields.registry import FIELD_TYPE_CLASSES
from forms_engine.fields.text import TextType
from forms_engine.procedure_format import model
from forms_engine.procedure_format.loader import parse_procedure

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_field(field_yaml: str) -> list[str]:
    """Errors of a one-field procedure (the field written as YAML flow mapping)."""
    text = (
        "title: 試験\ndepartment: general\ncontact_email: mail\npages:\n"
        "  - id: p\n    title: P\n    fields:\n"
        "      - {id: mail, type: email, label: メール}\n"
        f"      - {field_yaml}\n"
    )
    _spec, errors = parse_procedure(
        text, organization=None, org_slug="t", slug="p", rel_path="t/p.yaml"
    )
    return [e.message for e in errors]


ALL_KEYS = sorted({k for cls in FIELD_TYPE_CLASSES.values() for k in cls.yaml_keys})


@pytest.mark.parametrize("type_name", list(FIELD_TYPE_CLASSES))
def test_the_loader_knows_every_type_of_the_registry(type_name):
    errors = load_field(f"{{id: x, type: {type_name}, label: X}}")
    assert not [e for e in errors if "unknown field type" in e]


def test_the_loader_knows_no_type_outside_the_registry():
    (error,) = [e for e in load_field("{id: x, type: colour, label: X}") if "unknown" in e]
    listed = re.search(r"valid types: (.*)", error)[1]
    assert listed.replace("'", "").split(", ") == list(FIELD_TYPE_CLASSES)


@pytest.mark.parametrize("type_name", list(FIELD_TYPE_CLASSES))
def test_each_type_takes_exactly_the_keys_its_class_declares(type_name):
    declared = FIELD_TYPE_CLASSES[type_name].yaml_keys
    for key in ALL_KEYS:
        errors = load_field(f"{{id: x, type: {type_name}, label: X, {key}: 1}}")
        refused = f"key {key!r} does not apply to a {type_name} field" in " ".join(errors)
        assert refused == (key not in declared), (type_name, key, errors)


def test_the_model_and_the_renderer_read_the_same_registry():
    assert model.field_types() == tuple(FIELD_TYPE_CLASSES) == tuple(FIELD_TYPES)
    for name, cls in FIELD_TYPE_CLASSES.items():
        assert type(FIELD_TYPES[name]) is cls
    assert model.compound_parts() == {
        "name": ("family", "given", "kana_family", "kana_given"),
        "address": ("prefecture", "city", "town", "building"),
        "bank_account": ("bank_code", "branch_code", "account_type", "number", "holder"),
    }


def test_a_type_added_to_the_registry_is_one_class_and_one_line(monkeypatch):
    class ColourType(TextType):
        yaml_keys = ("palette",)
        symbol_type = "string"
        params_check = "no_params"

    monkeypatch.setitem(FIELD_TYPE_CLASSES, "colour", ColourType)

    assert "colour" in model.field_types()
    assert load_field("{id: x, type: colour, label: X, palette: warm}") == []
    assert "does not apply to a text field (it is for colour)" in " ".join(
        load_field("{id: x, type: text, label: X, palette: warm}")
    )
    # Conditions know its answers as strings (its symbol_type).
    text = (
        "title: 試験\ndepartment: general\ncontact_email: mail\npages:\n"
        "  - id: p\n    title: P\n    fields:\n"
        "      - {id: mail, type: email, label: メール}\n"
        "      - {id: x, type: colour, label: X}\n"
        "      - {id: y, type: text, label: Y, show_if: \"x == 'red'\"}\n"
    )
    _spec, errors = parse_procedure(
        text, organization=None, org_slug="t", slug="p", rel_path="t/p.yaml"
    )
    assert errors == []


def test_every_type_names_a_parameter_check_that_exists():
    from forms_engine.procedure_format.loader import field_params

    for name, cls in FIELD_TYPE_CLASSES.items():
        assert callable(getattr(field_params, cls.params_check, None)), name


def test_the_loader_reads_the_registry_without_django_settings(tmp_path):
    # The procedure format stays usable outside the site (a linter, CI on YAML alone).
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}
    code = (
        "from forms_engine.procedure_format.loader import load_tree\n"
        f"tree = load_tree({str(REPO_ROOT / 'procedures')!r})\n"
        "assert tree.errors == [], tree.errors\n"
        "assert tree.procedures\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_a_limit_past_what_any_field_takes_is_refused_when_loaded():
    # The fields cap these at run time; the author hears of it when the file is loaded.
    assert load_field("{id: x, type: textarea, label: X, max_length: 100000}") == []
    assert load_field("{id: x, type: textarea, label: X, max_length: 100001}") == [
        "must be 100000 or less"
    ]
    group = (
        "{id: g, type: group, label: G, repeat: {max: %d}, fields: [{id: c, type: text, label: C}]}"
    )
    assert load_field(group % 100) == []
    assert load_field(group % 101) == ["must be 100 or less"]
