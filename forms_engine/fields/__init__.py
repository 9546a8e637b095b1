"""Field types: read the posted input, validate it again on the server, and render it.

`base` holds what every type shares (FieldType, Ctx, FieldInvalid, the HTML helpers and
gettext per language); the types live by family (`text`, `normalized`, `choices`,
`compound`, `date`, `file`, `structure`); `registry` maps each `type:` of the procedure
format to its class, and is what the loader, the model and the renderer read.
"""

from .base import (
    Ctx,
    FieldInvalid,
    FieldType,
    _,
    esc,
    in_language,
    invalid_message,
    text_of,
)
from .registry import FIELD_TYPE_CLASSES, FIELD_TYPES

__all__ = [
    "FIELD_TYPES",
    "FIELD_TYPE_CLASSES",
    "Ctx",
    "FieldInvalid",
    "FieldType",
    "_",
    "esc",
    "in_language",
    "invalid_message",
    "text_of",
]
