"""The registry of integration types the loader accepts in `integrations[].type`.

The core knows no type by name: the integrations room registers each type's check of its
own YAML keys here when Django starts (`integrations.apps.IntegrationsConfig.ready`), and
the loader asks this registry for the known types and for the check of each entry.

Outside the site (the loader run without Django: a linter, CI on the YAML alone) nobody
calls `ready()`: an empty registry is then filled once from the installed packages' entry
points in the group `denshi_shinsei.integration_types` (pyproject.toml), which name the
same classes as settings.INTEGRATION_TARGETS.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from .loader.checks import Entry
    from .loader.pages import ProcedureCheck
    from .yamlsource import Path as KeyPath


class IntegrationTypeCheck(Protocol):
    """The YAML side of an integration type."""

    #: Keys besides `id` and `type`: those the entry must have, and those it may have.
    required_keys: ClassVar[tuple[str, ...]]
    optional_keys: ClassVar[tuple[str, ...]]

    def check_config(
        self, p: ProcedureCheck, entry: Entry, path: KeyPath, config: dict[str, Any]
    ) -> None:
        """Check the entry's own keys (errors through `p.c`, with file, line and key
        path) and put the checked values in `config`."""


ENTRY_POINT_GROUP = "denshi_shinsei.integration_types"

_TYPES: dict[str, IntegrationTypeCheck] = {}
_filled = False


def register_integration_type(key: str, check: IntegrationTypeCheck) -> None:
    global _filled
    _filled = True
    _TYPES[key] = check


def _fill_from_entry_points() -> None:
    global _filled
    if _filled:
        return
    _filled = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        _TYPES.setdefault(entry.name, entry.load()())


def unregister_integration_type(key: str) -> None:
    _TYPES.pop(key, None)


def integration_type_check(key: str) -> IntegrationTypeCheck | None:
    _fill_from_entry_points()
    return _TYPES.get(key)


def registered_integration_types() -> tuple[str, ...]:
    """The known types, in the order they were registered."""
    _fill_from_entry_points()
    return tuple(_TYPES)
