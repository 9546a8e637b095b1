"""Errors the filing services raise for the views to translate."""

from __future__ import annotations


class FilingError(Exception):
    """A filing cannot go on; `code` says why (closed, full, not_open, ...)."""

    def __init__(self, code: str, message: str = "", step_key: str = ""):
        self.code = code
        self.step_key = step_key  # for "incomplete": the page to show ("0.owner")
        super().__init__(message or code)


class AttachmentNotStored(Exception):
    """The storage refused a file (a full or read-only disk, an unreachable store).
    Nothing of the file is left behind; trying again later may work."""
