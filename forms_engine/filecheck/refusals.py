"""Why a file was refused, said to the resident in their language: what was wrong, and
what would be accepted. Built when the refusal is raised, in the language then active."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from forms_engine.filekinds import format_size
from forms_engine.procedure_format.model import FILE_KINDS


class FileRefused(Exception):
    """A file that may not be attached. `reason` is for code and tests ('empty', 'type',
    'executable', 'polyglot', 'image_too_large', 'image_unreadable', 'archive',
    'unreadable'); `message` is for the resident."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        self.message = message
        super().__init__(message)


def kinds_text(accept: Iterable[str] | None) -> str:
    return ", ".join(k.upper() for k in (tuple(accept or ()) or FILE_KINDS))


def refuse(reason: str, problem: str, accept: Iterable[str] | None) -> FileRefused:
    accepted = _("Accepted: %(kinds)s.") % {"kinds": kinds_text(accept)}
    return FileRefused(
        reason, _("%(problem)s %(accepted)s") % {"problem": problem, "accepted": accepted}
    )


def empty(name: str, accept: Iterable[str] | None) -> FileRefused:
    return refuse("empty", _("%(name)s is empty.") % {"name": name}, accept)


def unknown_type(name: str, accept: Iterable[str] | None) -> FileRefused:
    return refuse(
        "type",
        _("%(name)s is not a file of a type this form accepts, or it is damaged.") % {"name": name},
        accept,
    )


def other_type(name: str, found: str, accept: Iterable[str] | None) -> FileRefused:
    return refuse(
        "type",
        _("%(name)s is a file of type %(found)s.") % {"name": name, "found": found.upper()},
        accept,
    )


def executable(name: str, accept: Iterable[str] | None) -> FileRefused:
    return refuse(
        "executable",
        _("%(name)s is a program (an executable file), not a document or a picture.")
        % {"name": name},
        accept,
    )


def polyglot_html(name: str, found: str, accept: Iterable[str] | None) -> FileRefused:
    return refuse(
        "polyglot",
        _(
            "%(name)s is a file of type %(found)s that also holds web page code (HTML or "
            "script), which could run when it is opened. Save it again from the program "
            "that made it (a PDF can be printed to a new PDF) and attach the new file."
        )
        % {"name": name, "found": found.upper()},
        accept,
    )


def polyglot_hidden(name: str, found: str, other: str, accept: Iterable[str] | None) -> FileRefused:
    return refuse(
        "polyglot",
        _(
            "%(name)s is a file of type %(found)s with another file (%(other)s) hidden in "
            "it. Save it again from the program that made it and attach the new file."
        )
        % {"name": name, "found": found.upper(), "other": other.upper()},
        accept,
    )


def image_too_large(name: str, pixels: int, limit: int) -> FileRefused:
    megapixels = max(1, round(pixels / 1_000_000))
    return FileRefused(
        "image_too_large",
        _(
            "%(name)s claims to be a picture of %(megapixels)s million pixels. Pictures of "
            "at most %(limit)s million pixels are accepted (a phone photo has about 12 "
            "million)."
        )
        % {"name": name, "megapixels": f"{megapixels:,}", "limit": f"{limit // 1_000_000:,}"},
    )


def image_unreadable(name: str, found: str) -> FileRefused:
    return FileRefused(
        "image_unreadable",
        _(
            "%(name)s cannot be read as a %(found)s picture: the part that gives its size "
            "is missing or damaged. Attach the picture as it came from the camera or phone."
        )
        % {"name": name, "found": found.upper()},
    )


def archive(name: str, reason: str, *, max_entries: int, max_expanded: int) -> FileRefused:
    if reason in ("too_many_entries", "directory_too_large"):
        problem = _(
            "%(name)s holds more than %(limit)s files, too many to be checked. Attach an "
            "archive of fewer files."
        ) % {"name": name, "limit": f"{max_entries:,}"}
    elif reason == "too_slow":
        problem = _(
            "%(name)s could not be checked in the time allowed. Attach an archive of fewer files."
        ) % {"name": name}
    elif reason in ("overlapping", "expands_too_much"):
        problem = _(
            "%(name)s would expand far beyond its own size when opened (a zip bomb). "
            "Archives that expand to at most %(limit)s are accepted."
        ) % {"name": name, "limit": format_size(max_expanded)}
    else:
        problem = _("%(name)s is damaged and cannot be opened.") % {"name": name}
    return FileRefused("archive", problem)


def unreadable(name: str) -> FileRefused:
    return FileRefused(
        "unreadable",
        _("%(name)s could not be checked. Attach the file again as it was saved.") % {"name": name},
    )
