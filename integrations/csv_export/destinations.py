"""Where a CSV file goes: `s3://bucket/prefix/` (through the project's storage layer, with
the AWS_* settings' endpoint and credentials) or a local folder (the embedded default).

A destination written as `env:NAME` is read from the environment when a run writes, so a
deployment sets it without editing procedures. Unset in the embedded default, files go to
`$VAR_DIR/csv-exports/<organization>/<procedure>/<integration>/`; unset elsewhere, the run
fails (and is tried again) with an error that names the variable.

Files appear whole or not at all under their final name: a local file is written to a
temporary name in the same folder, flushed to disk (fsync) and renamed; an S3 object only
exists once its upload completes. The manifest goes last, so a consumer that trusts files
with a manifest never reads a partial or unannounced one.

A local folder must lie inside one of the settings' CSV_LOCAL_ROOTS (resolved, symlinks
followed; the embedded drop under VAR_DIR plus the operator's roots) when that list is
not empty: defence in depth behind the procedure check, which refuses literal
destinations in text published from the console.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar
from urllib.parse import urlsplit

from django.conf import settings

from forms_engine import storage

T = TypeVar("T")

ENV_PREFIX = "env:"
CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json"}


class DestinationError(Exception):
    """The destination is not usable as configured (a missing variable, an unknown
    scheme) or refused the file (a storage error: the run is tried again)."""


class Destination(Protocol):
    def write(self, name: str, produce: Callable[[BinaryIO], T]) -> T:
        """Write the file `name` with what `produce` writes into the file object it is
        given; the file appears under its name only once complete."""
        ...

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when there is no such file (tests, checks)."""
        ...

    def describe(self) -> str: ...


#: A temporary file left by a worker killed while writing is removed by a later write
#: once it is this old (a run never takes that long; a younger one may be in use).
STALE_TEMPORARY_SECONDS = 24 * 3600
TEMPORARY_GLOB = ".tmp-*.part"


def local_folder_allowed(folder: Path) -> Path:
    """`folder` resolved (symlinks followed, `..` removed); raises DestinationError when
    CSV_LOCAL_ROOTS is not empty and the folder is inside none of its roots."""
    resolved = Path(os.path.realpath(folder))
    roots = [Path(os.path.realpath(root)) for root in settings.CSV_LOCAL_ROOTS]
    if roots and not any(resolved == root or root in resolved.parents for root in roots):
        raise DestinationError(
            f"folder {resolved} is outside CSV_LOCAL_ROOTS: the operator must list its root"
        )
    return resolved


@dataclass(frozen=True)
class LocalDestination:
    folder: Path

    def write(self, name: str, produce: Callable[[BinaryIO], T]) -> T:
        folder = local_folder_allowed(self.folder)
        if Path(name).name != name or name in ("", ".", ".."):
            raise DestinationError(f"{name!r} is not a file name")
        folder.mkdir(parents=True, exist_ok=True)
        # Checked again once created: a symlink made meanwhile must not lead outside.
        folder = local_folder_allowed(folder)
        self._remove_stale_temporaries(folder)
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                result = produce(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, folder / name)
        except BaseException:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
            raise
        _fsync_dir(folder)
        return result

    def _remove_stale_temporaries(self, folder: Path) -> None:
        cutoff = time.time() - STALE_TEMPORARY_SECONDS
        for path in folder.glob(TEMPORARY_GLOB):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    def read(self, name: str) -> bytes | None:
        try:
            return (local_folder_allowed(self.folder) / name).read_bytes()
        except FileNotFoundError:
            return None

    def describe(self) -> str:
        return f"folder {self.folder}"


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once the folder's entry is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class S3Destination:
    bucket: str
    prefix: str

    def _key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def write(self, name: str, produce: Callable[[BinaryIO], T]) -> T:
        store = storage.object_store_for_bucket(self.bucket)
        # Spooled to a local temporary file first: the writer streams, the upload is a
        # multipart upload of that file, and the object exists only once it completes.
        with tempfile.TemporaryFile(prefix="denshi-csv-") as spool:
            result = produce(spool)
            spool.flush()
            spool.seek(0)
            content_type = CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")
            try:
                store.upload_stream(self._key(name), spool, content_type)
            except storage.StorageError as exc:
                raise DestinationError(f"s3://{self.bucket}/{self._key(name)}: {exc}") from exc
        return result

    def read(self, name: str) -> bytes | None:
        store = storage.object_store_for_bucket(self.bucket)
        try:
            return b"".join(store.open_stream(self._key(name)))
        except storage.ObjectMissing:
            return None

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def destination_resolve(value: str, *, embedded_folder: Path) -> Destination:
    """The destination a procedure's `destination` names (`env:NAME` read now)."""
    text = value
    if value.startswith(ENV_PREFIX):
        name = value[len(ENV_PREFIX) :]
        text = os.environ.get(name, "").strip()
        if not text:
            if settings.EMBEDDED:
                return LocalDestination(embedded_folder)
            raise DestinationError(f"environment variable {name} is not set")
    parts = urlsplit(text)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise DestinationError("an s3:// destination names a bucket: s3://bucket/prefix/")
        prefix = parts.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return S3Destination(parts.netloc, prefix)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise DestinationError("a file:// destination is a local folder: file:///path/")
        return LocalDestination(Path(parts.path))
    if parts.scheme == "" and text:
        folder = Path(text)
        return LocalDestination(folder if folder.is_absolute() else Path(settings.VAR_DIR) / folder)
    raise DestinationError(f"unknown destination scheme {parts.scheme!r}: use s3:// or a folder")
