"""Integration types are a registry in integrations/ (key -> class from the settings); the
core loader asks the registry for the known types and each type's check of its keys, and
names no type itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from forms_engine.procedure_format.integration_types import (
    register_integration_type,
    registered_integration_types,
    unregister_integration_type,
)
from forms_engine.procedure_format.loader import load_tree
from integrations.registry import integration_type, integration_types, integration_types_load
from integrations.targets.base import IntegrationType
from tests.procedure_format.test_loader import DOG, copy_samples, edit, errors_of, line_of

CORE = Path(__file__).resolve().parents[2] / "forms_engine"


def test_the_registry_holds_a_class_per_configured_type(settings):
    types = integration_types()
    assert sorted(types) == sorted(settings.INTEGRATION_TARGETS) == ["csv", "email", "webhook"]
    assert all(isinstance(t, IntegrationType) for t in types.values())
    assert integration_type("csv").scheduled and not integration_type("webhook").scheduled
    assert registered_integration_types() == tuple(settings.INTEGRATION_TARGETS)


def test_the_core_names_no_integration_type():
    # ("email" and "csv" are also a field type and a file kind elsewhere in the format.)
    for path in (CORE / "procedure_format").rglob("*.py"):
        assert '"webhook"' not in path.read_text(encoding="utf-8"), path
    for path in [
        CORE / "procedure_format" / "loader" / "integrations.py",
        CORE / "procedure_format" / "integration_types.py",
    ]:
        text = path.read_text(encoding="utf-8")
        for name in ('"webhook"', '"csv"', '"email"', "INTEGRATION_TARGETS"):
            assert name not in text, f"{path} names {name}"
    for path in [
        CORE / "checks.py",
        CORE / "services" / "procedures.py",
        CORE / "management" / "commands" / "validate_procedures.py",
    ]:
        assert "INTEGRATION_TARGETS" not in path.read_text(encoding="utf-8"), path


class SftpTarget(IntegrationType):
    key = "sftp"
    required_keys: ClassVar[tuple[str, ...]] = ("host",)
    optional_keys: ClassVar[tuple[str, ...]] = ("port",)

    def check_config(self, p: Any, entry: Any, path: Any, config: dict[str, Any]) -> None:
        host = p.c.string(entry.get("host"), path + ("host",), "a host name")
        if host is not None and "." not in host:
            p.c.error(path + ("host",), f"{host!r} is not a full host name")
        config["host"] = host


@pytest.fixture
def with_sftp(settings):
    settings.INTEGRATION_TARGETS = {
        **settings.INTEGRATION_TARGETS,
        "sftp": "tests.integrations.test_registry.SftpTarget",
    }
    integration_types_load()
    yield
    unregister_integration_type("sftp")


@pytest.fixture(autouse=True)
def _registry_restored():
    yield
    integration_types_load()


def test_a_type_registered_by_an_outer_app_is_checked_by_its_own_class(tmp_path, with_sftp):
    root = copy_samples(tmp_path)
    text = edit(
        root,
        DOG,
        "url: env:ANIMAL_DB_URL\n    secret: env:ANIMAL_DB_SECRET",
        "host: files",
    )
    text = edit(root, DOG, "type: webhook", "type: sftp")
    tree = load_tree(root)
    assert errors_of(tree, DOG) == [
        f"{DOG}:{line_of(text, 'host: files')} integrations[0].host: 'files' is not a full "
        "host name"
    ]


def test_a_type_nobody_registered_is_unknown_to_the_loader(tmp_path):
    root = copy_samples(tmp_path)
    text = (root / DOG).read_text(encoding="utf-8")
    unregister_integration_type("webhook")
    tree = load_tree(root)
    (error,) = errors_of(tree, DOG)
    assert error.startswith(
        f"{DOG}:{line_of(text, 'type: webhook')} integrations[0].type: unknown integration "
        "type 'webhook'"
    )


def test_a_registered_check_replaces_the_default_one(tmp_path):
    class Strict(IntegrationType):
        key = "email"
        required_keys: ClassVar[tuple[str, ...]] = ("to",)

        def check_config(self, p: Any, entry: Any, path: Any, config: dict[str, Any]) -> None:
            p.c.error(path + ("to",), "refused by the registered check")

    register_integration_type("email", Strict())
    tree = load_tree(copy_samples(tmp_path))
    assert any("refused by the registered check" in str(e) for e in tree.errors)
