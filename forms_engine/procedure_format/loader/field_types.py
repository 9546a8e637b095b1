"""What the loader knows of each field type, read from the one registry of field types
(`forms_engine.fields.registry`): the type names, the keys each type takes (`yaml_keys`,
`required_yaml_keys`), the type the condition checker sees (`symbol_type`) and the check of
its own keys (`params_check`, the name of a function of `field_params`). Adding a type is
one class and one registry line; nothing here changes.

The registry is imported on first use, not while this package loads: its classes import
the model (which would be a cycle for the model) and Django's translation functions, which
loading a procedure tree never calls, so the loader still runs without Django settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from . import field_params as fp

if TYPE_CHECKING:
    from forms_engine.fields.base import FieldType

COMMON_FIELD_KEYS = ("id", "type", "label", "help", "required", "show_if", "profile")


def field_type_classes() -> Mapping[str, type[FieldType]]:
    """Type name -> class, as the registry has them."""
    from forms_engine.fields.registry import FIELD_TYPE_CLASSES

    return FIELD_TYPE_CLASSES


def type_names() -> tuple[str, ...]:
    """The type names of the format, in the registry's order."""
    return tuple(field_type_classes())


def type_keys() -> dict[str, tuple[str, ...]]:
    """Field type -> the keys it adds to the common ones."""
    return {name: cls.yaml_keys for name, cls in field_type_classes().items()}


def required_keys(type_name: str) -> tuple[str, ...]:
    """The keys a field of this type must have besides id, type and (mostly) label."""
    return field_type_classes()[type_name].required_yaml_keys


def all_field_keys() -> tuple[str, ...]:
    """Every key some field type takes, the common ones first."""
    return tuple(
        dict.fromkeys(COMMON_FIELD_KEYS + tuple(k for ks in type_keys().values() for k in ks))
    )


def symbol_type(type_name: str | None) -> str | None:
    """The type name the condition checker knows a field type by (None if unknown)."""
    cls = field_type_classes().get(type_name or "")
    return cls.symbol_type if cls is not None else None


def params_check(type_name: str) -> fp.ParamsCheck:
    """The check of a field type's own keys (it fills in their defaults too)."""
    check: fp.ParamsCheck = getattr(fp, field_type_classes()[type_name].params_check)
    return check
