"""The first upload handler of every request: a file part is read only for an input the view
expects, within byte limits, and is discarded while it arrives otherwise.

Django turns a multipart body into files (in memory, or in the temporary folder) before a
view looks at it, so without this a single POST could put any number of files of any size on
disk under invented names. By default a request may bring no file at all; the filing page
installs the allowance of its own file inputs (`page_allowance`, `guard_install`) before
anything reads request.POST or request.FILES.

Limits, all counted as the body is read:
- a part for an input the allowance does not have is skipped at its first byte;
- a part larger than its input's limit (the field's max_size, within UPLOAD_FILE_MAX_BYTES)
  is discarded when it passes the limit (what was written of it is deleted);
- once the parts of the request together pass the allowance's total (the page's own sum of
  max_size x max_files, within UPLOAD_REQUEST_MAX_BYTES), the part that passed it and every
  later one are discarded. Every byte handed on counts, so no request writes more than that
  total to memory or disk.
Refused parts of the page's inputs are listed in request.uploads_refused (input name -> file
names): the page shows them as field errors, and the rest of what was typed is kept."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

# A field's max_size when its YAML gives none, as the file field type reads it.
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
# Entries of a group when its YAML gives no repeat_max, as the page actions read it.
DEFAULT_REPEAT_MAX = 10


@dataclass(frozen=True)
class GroupFileInput:
    """A file input inside a group: `f-<group>-<entry>-<child>` for entries 0..entries-1."""

    pattern: re.Pattern[str]
    entries: int
    limit: int


@dataclass(frozen=True)
class UploadAllowance:
    """Which file inputs a request may bring, with a byte limit per file and in total."""

    inputs: Mapping[str, int] = field(default_factory=dict)  # input name -> limit per file
    groups: tuple[GroupFileInput, ...] = ()
    total: int = 0

    def limit_for(self, name: str) -> int | None:
        """The per-file limit of an input, or None when it is not one of the allowed."""
        if name in self.inputs:
            return self.inputs[name]
        for group in self.groups:
            match = group.pattern.fullmatch(name)
            if match and int(match["entry"]) < group.entries:
                return group.limit
        return None


NOTHING = UploadAllowance()


def page_allowance(page) -> UploadAllowance:
    """The allowance of a filing page, from its YAML: its file inputs (top level and inside
    groups), each up to its max_size, and in total the sum of max_size x max_files over
    them (times the entries of a group), within UPLOAD_REQUEST_MAX_BYTES."""
    file_cap = settings.UPLOAD_FILE_MAX_BYTES
    inputs: dict[str, int] = {}
    groups: list[GroupFileInput] = []
    total = 0
    for f in page.fields:
        if f.type == "file":
            limit = min(f.param("max_size", DEFAULT_MAX_SIZE), file_cap)
            inputs[f"f-{f.id}"] = limit
            total += limit * f.param("max_files", 1)
        elif f.type == "group":
            entries = f.param("repeat_max", DEFAULT_REPEAT_MAX)
            for c in f.fields:
                if c.type != "file":
                    continue
                limit = min(c.param("max_size", DEFAULT_MAX_SIZE), file_cap)
                pattern = re.compile(
                    rf"f-{re.escape(f.id)}-(?P<entry>[0-9]{{1,4}})-{re.escape(c.id)}"
                )
                groups.append(GroupFileInput(pattern, entries, limit))
                total += limit * c.param("max_files", 1) * entries
    return UploadAllowance(inputs, tuple(groups), min(total, settings.UPLOAD_REQUEST_MAX_BYTES))


def guard_install(request, allowance: UploadAllowance) -> None:
    """Put a guard with this allowance first, in place of the default one. Must run before
    anything reads the body (Django raises AttributeError otherwise, which is better than
    reading it unguarded)."""
    others = [h for h in request.upload_handlers if not isinstance(h, UploadGuard)]
    request.upload_handlers = [UploadGuard(request, allowance), *others]


class UploadGuard(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS. Built by Django with the request only, it allows
    nothing; guard_install builds one with a page's allowance."""

    def __init__(self, request=None, allowance: UploadAllowance = NOTHING):
        super().__init__(request)
        self.allowance = allowance
        self.total = 0  # bytes handed on to the memory / temporary-file handlers

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0
        self.limit = self.allowance.limit_for(field_name)
        # Refused at the first chunk, not here: Django closes every handler's current file
        # on SkipFile, and until the next handlers have opened this part's file that is the
        # previous part's, which must be kept.
        self.unexpected = self.limit is None

    def receive_data_chunk(self, raw_data, start):
        if self.unexpected:
            raise SkipFile  # not an input of this page: no one to tell
        self.received += len(raw_data)
        self.total += len(raw_data)
        if self.received > self.limit or self.total > self.allowance.total:
            refused = getattr(self.request, "uploads_refused", None)
            if refused is None:
                refused = self.request.uploads_refused = {}
            refused.setdefault(self.field_name, []).append(self.file_name)
            raise SkipFile
        return raw_data  # passed on to the memory / temporary-file handlers

    def file_complete(self, file_size):
        return None  # the next handlers build the file
