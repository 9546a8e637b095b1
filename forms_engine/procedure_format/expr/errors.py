"""ExprError, the one error of the expression language, and the hints in its messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ExprError(Exception):
    """A syntax error or a static error in an expression; `offset` is a 0-based index."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message, offset)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at character {self.offset + 1})"


def suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""
