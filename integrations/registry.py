"""Integration types as a registry: `type:` key -> class, from settings.INTEGRATION_TARGETS
(key -> dotted path, as Django's backends). Filled when Django starts
(`IntegrationsConfig.ready`), which also hands each type's YAML check to the core loader's
registry (`forms_engine.procedure_format.integration_types`): the loader knows no type by
name."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from forms_engine.procedure_format.integration_types import (
    register_integration_type,
    unregister_integration_type,
)

from .targets.base import IntegrationType

_TYPES: dict[str, IntegrationType] = {}


def integration_types_load() -> None:
    """(Re)build the registry from the settings."""
    for key in list(_TYPES):
        unregister_integration_type(key)
    _TYPES.clear()
    for key, dotted in settings.INTEGRATION_TARGETS.items():
        cls = import_string(dotted)
        if not (isinstance(cls, type) and issubclass(cls, IntegrationType)):
            raise TypeError(f"INTEGRATION_TARGETS[{key!r}]: {dotted} is no IntegrationType")
        target = cls()
        _TYPES[key] = target
        register_integration_type(key, target)


def integration_type(key: str) -> IntegrationType:
    """The registered type `key`; KeyError when none is."""
    return _TYPES[key]


def integration_types() -> dict[str, IntegrationType]:
    return dict(_TYPES)
