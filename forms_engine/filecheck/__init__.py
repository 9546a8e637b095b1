"""Content checks of an uploaded file, independent of where it is stored: its type by
content, programs disguised as documents, polyglots, archive and image bombs.

`inspect(reader, name, size, accept) -> kind` or `FileRefused` (whose `message` says, in
the active language, what was wrong and what would be accepted)."""

from .check import MAX_PIXELS, inspect
from .refusals import FileRefused

__all__ = ["MAX_PIXELS", "FileRefused", "inspect"]
