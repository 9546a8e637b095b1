"""The object store interface: what the rest of the project may ask of file storage.

Two backends: S3-compatible object storage (`s3.py`, the only module that imports boto3)
and files under MEDIA_ROOT (`local.py`, the embedded default). `object_store()` in this
package picks one from the settings. Keys are opaque strings chosen by the caller
(`quarantine/<random>`, `files/<random>`); nothing here knows about attachments.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from typing import BinaryIO, Protocol, TypedDict, runtime_checkable
from urllib.parse import quote

# Direct upload parts: 8 MiB suits a phone's link (a lost part costs little to send again)
# and keeps a 1 GB file at 128 parts; S3 wants at least 5 MiB for every part but the last.
PART_SIZE = 8 * 1024 * 1024
# S3 allows parts numbered 1..10000.
MAX_PARTS = 10_000
# Server-side reads and writes go in chunks of this size: memory stays bounded.
CHUNK_SIZE = 8 * 1024 * 1024


class StorageError(Exception):
    """The store could not do what was asked (unreachable, refused, or no such object)."""


class ObjectMissing(StorageError):
    """No object (or no multipart upload) under that key."""


class DirectUploadUnsupported(StorageError):
    """This backend takes no uploads from the browser (the local files backend)."""


class Part(TypedDict):
    PartNumber: int
    ETag: str
    Size: int


class CompletedPart(TypedDict):
    PartNumber: int
    ETag: str


@runtime_checkable
class ObjectStore(Protocol):
    supports_direct_upload: bool

    # --- direct (multipart) upload from the browser ----------------------------------------
    def multipart_create(self, key: str, content_type: str) -> str: ...

    def multipart_sign_parts(
        self,
        key: str,
        upload_id: str,
        part_numbers: list[int],
        expires: int,
        *,
        part_sizes: dict[int, int] | None = None,
    ) -> dict[int, str]:
        """Presigned UploadPart URLs. With `part_sizes`, each URL signs its part's
        Content-Length: the store refuses a body of any other length (403)."""
        ...

    def multipart_list_parts(self, key: str, upload_id: str) -> list[Part]: ...

    def multipart_complete(self, key: str, upload_id: str, parts: list[CompletedPart]) -> None: ...

    def multipart_abort(self, key: str, upload_id: str) -> None: ...

    def multipart_list_stale(self, older_than: timedelta) -> list[tuple[str, str]]: ...

    # --- reading ---------------------------------------------------------------------------
    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def read_range(self, key: str, start: int, length: int) -> bytes: ...

    def open_stream(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]: ...

    def ranged_file(self, key: str) -> BinaryIO: ...

    # --- writing ---------------------------------------------------------------------------
    def upload_stream(self, key: str, fileobj: BinaryIO, content_type: str) -> int: ...

    def move(self, src_key: str, dst_key: str) -> None: ...

    def delete(self, key: str) -> None: ...

    # --- handing out -----------------------------------------------------------------------
    def download_url(self, key: str, filename: str, expires: int, content_type: str) -> str:
        """A short-lived URL that serves the object as `filename`, with `content_type` (the
        type its checked content has, never one the browser declared)."""
        ...


def content_disposition(filename: str) -> str:
    """`attachment` with the file's own name: an ASCII fallback for old clients and the
    UTF-8 name by RFC 5987 / RFC 6266 (Japanese names arrive intact in every current
    browser). Quotes, backslashes and control characters never reach the header."""
    cleaned = (
        "".join(
            ch for ch in filename if unicodedata.category(ch)[0] != "C" and ch not in "\\/"
        ).strip()
        or "file"
    )
    ascii_name = unicodedata.normalize("NFKD", cleaned).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(ch if ch.isalnum() or ch in "._- ()" else "_" for ch in ascii_name)
    ascii_name = ascii_name.strip(" ._") or "file"
    # Keep the extension in the fallback when the stem was all non-ASCII ("申請書.pdf").
    if "." in cleaned and "." not in ascii_name:
        ext = cleaned.rsplit(".", 1)[1]
        if ext.isascii() and ext.isalnum():
            ascii_name = f"{ascii_name}.{ext}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(cleaned, safe='')}"


class RangedFile(io.RawIOBase):
    """A seekable, read-only file over `read_range` calls: zip directories and file heads
    are read from the store without downloading the file. Wrap it in io.BufferedReader
    (as `ranged_reader` does) so small reads do not each cost a request."""

    def __init__(self, store: ObjectStore, key: str, size: int | None = None):
        self._store = store
        self._key = key
        self._size = store.size(key) if size is None else size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        length = min(len(view), max(self._size - self._pos, 0))
        if length <= 0:
            return 0
        data = self._store.read_range(self._key, self._pos, length)
        n = len(data)
        view[:n] = data
        self._pos += n
        return n


def ranged_reader(store: ObjectStore, key: str, buffer_size: int = 64 * 1024) -> BinaryIO:
    """A buffered RangedFile: one ranged request per `buffer_size` bytes read."""
    return io.BufferedReader(RangedFile(store, key), buffer_size=buffer_size)  # type: ignore[return-value]
