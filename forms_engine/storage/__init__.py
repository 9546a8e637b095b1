"""File storage: one interface (`ObjectStore`, in base.py) over S3-compatible object
storage (s3.py, the only module that imports boto3) and files under MEDIA_ROOT (local.py).

`object_store()` gives the store the settings choose: S3 when AWS_STORAGE_BUCKET_NAME is
set, else local files. The Attachment's FileField (django-storages' S3Storage or Django's
FileSystemStorage, from STORAGES) points at the same place: `attachment.file.name` is the
key this interface takes.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.signals import setting_changed

from .base import (
    CHUNK_SIZE,
    MAX_PARTS,
    PART_SIZE,
    CompletedPart,
    DirectUploadUnsupported,
    ObjectMissing,
    ObjectStore,
    Part,
    RangedFile,
    StorageError,
    content_disposition,
    ranged_reader,
)
from .local import LocalStore

__all__ = [
    "CHUNK_SIZE",
    "MAX_PARTS",
    "PART_SIZE",
    "CompletedPart",
    "DirectUploadUnsupported",
    "LocalStore",
    "ObjectMissing",
    "ObjectStore",
    "Part",
    "RangedFile",
    "StorageError",
    "content_disposition",
    "direct_upload_enabled",
    "direct_upload_origin",
    "object_store",
    "object_store_for_bucket",
    "ranged_reader",
]


def object_store() -> ObjectStore:
    """The store the settings name (built once per configuration: a boto3 client costs)."""
    bucket = getattr(settings, "AWS_STORAGE_BUCKET_NAME", "")
    if bucket:
        return _s3_store(
            bucket,
            settings.AWS_S3_ENDPOINT_URL,
            settings.AWS_S3_REGION_NAME,
            settings.AWS_ACCESS_KEY_ID,
            settings.AWS_SECRET_ACCESS_KEY,
            settings.AWS_S3_ADDRESSING_STYLE,
        )
    return _local_store(str(settings.MEDIA_ROOT))


def object_store_for_bucket(bucket: str) -> ObjectStore:
    """An S3 store over another bucket of the same service (endpoint, region, credentials
    and addressing from the AWS_* settings): where files are handed to other systems, such
    as CSV drops (`s3://bucket/prefix/`)."""
    return _s3_store(
        bucket,
        getattr(settings, "AWS_S3_ENDPOINT_URL", None),
        getattr(settings, "AWS_S3_REGION_NAME", "us-east-1"),
        getattr(settings, "AWS_ACCESS_KEY_ID", None),
        getattr(settings, "AWS_SECRET_ACCESS_KEY", None),
        getattr(settings, "AWS_S3_ADDRESSING_STYLE", "path"),
    )


def direct_upload_enabled() -> bool:
    """Whether browsers upload straight to the store (S3 configured and DIRECT_UPLOAD on)."""
    return bool(settings.DIRECT_UPLOAD) and object_store().supports_direct_upload


def direct_upload_origin() -> str:
    """The origin presigned URLs point at (for the CSP's connect-src), or "" when
    browsers do not upload directly."""
    if not direct_upload_enabled():
        return ""
    return str(getattr(object_store(), "origin", "") or "")


@functools.lru_cache(maxsize=8)
def _s3_store(bucket, endpoint_url, region, access_key, secret_key, addressing_style):
    from .s3 import S3Store

    return S3Store(
        bucket=bucket,
        endpoint_url=endpoint_url,
        region=region,
        access_key=access_key,
        secret_key=secret_key,
        addressing_style=addressing_style,
    )


@functools.lru_cache(maxsize=8)
def _local_store(root: str) -> LocalStore:
    return LocalStore(root)


def _settings_changed(setting: str, **kwargs) -> None:
    # Tests point the settings at another store; the cache is keyed on them anyway, this
    # only keeps stale clients from piling up.
    if setting.startswith("AWS_") or setting == "MEDIA_ROOT":
        _s3_store.cache_clear()
        _local_store.cache_clear()


setting_changed.connect(_settings_changed)
