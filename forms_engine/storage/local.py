"""Files under MEDIA_ROOT: the embedded default (one machine, no object store).

No direct upload from the browser: the plain form post brings the file to the server,
which writes it here in chunks. Downloads go through a short-lived ticket URL served by a
Django view (`views.files.local_file`) that streams the file.
"""

from __future__ import annotations

import errno
import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from django.core.cache import cache
from django.urls import reverse
from django.utils._os import safe_join

from .base import (
    CHUNK_SIZE,
    CompletedPart,
    DirectUploadUnsupported,
    ObjectMissing,
    Part,
    StorageError,
)

# Download tickets live in the cache: the URL carries a random ticket only, never the
# file's name (personal data) or its key.
TICKET_PREFIX = "storage:download:"


class LocalStore:
    supports_direct_upload = False

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        try:
            return Path(safe_join(str(self.root), key))
        except Exception as exc:  # SuspiciousFileOperation: a key outside the root
            raise StorageError("key outside the storage root") from exc

    # --- direct upload: not here -------------------------------------------------------------

    def multipart_create(self, key: str, content_type: str) -> str:
        raise DirectUploadUnsupported

    def multipart_sign_parts(
        self,
        key: str,
        upload_id: str,
        part_numbers: list[int],
        expires: int,
        *,
        part_sizes: dict[int, int] | None = None,
    ) -> dict[int, str]:
        raise DirectUploadUnsupported

    def multipart_list_parts(self, key: str, upload_id: str) -> list[Part]:
        raise DirectUploadUnsupported

    def multipart_complete(self, key: str, upload_id: str, parts: list[CompletedPart]) -> None:
        raise DirectUploadUnsupported

    def multipart_abort(self, key: str, upload_id: str) -> None:
        return None  # nothing was begun here

    def multipart_list_stale(self, older_than: timedelta) -> list[tuple[str, str]]:
        return []

    # --- reading -----------------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        except OSError as exc:
            raise StorageError(_reason(exc)) from exc

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            with open(self.path(key), "rb") as f:
                f.seek(start)
                return f.read(length)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    def open_stream(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        try:
            f = open(self.path(key), "rb")  # noqa: SIM115 - closed by the generator
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        with f:
            while chunk := f.read(chunk_size):
                yield chunk

    def ranged_file(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    # --- writing -----------------------------------------------------------------------------

    def upload_stream(self, key: str, fileobj: BinaryIO, content_type: str) -> int:
        """Written to a temporary file beside the target, then renamed: a full or read-only
        disk leaves no partial file under the key."""
        target = self.path(key)
        tmp_name = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                count = _copy(fileobj, out)
            os.replace(tmp_name, target)
            tmp_name = None
        except OSError as exc:
            raise StorageError(_reason(exc)) from exc
        finally:
            if tmp_name is not None:
                try:
                    os.unlink(tmp_name)
                except OSError:
                    pass
        return count

    def move(self, src_key: str, dst_key: str) -> None:
        src, dst = self.path(src_key), self.path(dst_key)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
        except FileNotFoundError as exc:
            raise ObjectMissing(src_key) from exc
        except OSError as exc:
            raise StorageError(_reason(exc)) from exc

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(_reason(exc)) from exc

    # --- handing out -------------------------------------------------------------------------

    def download_url(self, key: str, filename: str, expires: int, content_type: str) -> str:
        ticket = secrets.token_urlsafe(32)
        cache.set(
            TICKET_PREFIX + ticket,
            {"key": key, "name": filename, "type": content_type},
            timeout=expires,
        )
        return reverse("storage_local_file", args=[ticket])


def _copy(fileobj: BinaryIO, out: BinaryIO) -> int:
    """Copy in chunks (never the whole file in memory); the bytes copied."""
    count = 0
    while chunk := fileobj.read(CHUNK_SIZE):
        out.write(chunk)
        count += len(chunk)
    return count


def _reason(exc: OSError) -> str:
    """The error's code (ENOSPC, EROFS...): no path, which may hold a key."""
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def ticket_take(ticket: str) -> dict[str, str] | None:
    """The key and file name a download ticket stands for, while it has not expired."""
    if not ticket or len(ticket) > 100:
        return None
    value = cache.get(TICKET_PREFIX + ticket)
    return value if isinstance(value, dict) else None
