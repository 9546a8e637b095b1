"""S3-compatible object storage (AWS S3, SeaweedFS, MinIO, ...) through boto3: the only
module of the project that imports it (ruff's banned-api rule says so).

Path-style addressing and SigV4 by default: they work with every S3-compatible server, and
presigned URLs then name one origin (the endpoint) that the CSP and the bucket's CORS rules
can list. Checksums are sent only where S3 requires them: newer botocore adds CRC32
checksums to uploads by default, which presigned part URLs used by a browser cannot carry
and several S3-compatible servers do not understand.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .base import (
    CHUNK_SIZE,
    PART_SIZE,
    CompletedPart,
    ObjectMissing,
    Part,
    StorageError,
    content_disposition,
    ranged_reader,
)

_MISSING_CODES = {"404", "NoSuchKey", "NoSuchUpload", "NotFound", "NoSuchBucket"}


def _error(exc: Exception) -> StorageError:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING_CODES:
            return ObjectMissing(code)
        return StorageError(code or "client error")
    return StorageError(type(exc).__name__)


class _Counting:
    """A read-only file wrapper that counts the bytes read through it."""

    def __init__(self, fileobj: BinaryIO):
        self._f = fileobj
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        self.count += len(data)
        return data


class S3Store:
    supports_direct_upload = True

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        addressing_style: str = "path",
        max_concurrency: int = 4,
    ):
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": addressing_style},
                retries={"max_attempts": 4, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                max_pool_connections=max(10, max_concurrency * 2),
            ),
        )
        # Server-side transfers: parts of PART_SIZE, a few at a time. At most
        # `max_concurrency` parts are held in memory (s3transfer's default is 10), so a
        # streamed upload holds about max_concurrency x PART_SIZE whatever the file's size.
        self.transfer = TransferConfig(
            multipart_threshold=PART_SIZE,
            multipart_chunksize=PART_SIZE,
            max_concurrency=max_concurrency,
            max_io_queue=max_concurrency * 2,
            io_chunksize=256 * 1024,
        )
        self.transfer.max_in_memory_upload_chunks = max_concurrency

    @functools.cached_property
    def origin(self) -> str:
        """The scheme, host and port of presigned URLs (what the CSP's connect-src and the
        bucket's CORS rules are about), read from a URL signed locally."""
        url = urlsplit(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": "x"}, ExpiresIn=60
            )
        )
        return f"{url.scheme}://{url.netloc}"

    # --- direct (multipart) upload -----------------------------------------------------------

    def multipart_create(self, key: str, content_type: str) -> str:
        try:
            answer = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type or "application/octet-stream"
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        return str(answer["UploadId"])

    def multipart_sign_parts(
        self,
        key: str,
        upload_id: str,
        part_numbers: list[int],
        expires: int,
        *,
        part_sizes: dict[int, int] | None = None,
    ) -> dict[int, str]:
        # Signing is local (no request). With a size, Content-Length is one of the signed
        # headers: a body of any other length fails the signature at the store.
        urls = {}
        for n in part_numbers:
            params: dict[str, Any] = {
                "Bucket": self.bucket,
                "Key": key,
                "UploadId": upload_id,
                "PartNumber": n,
            }
            if part_sizes and n in part_sizes:
                params["ContentLength"] = part_sizes[n]
            urls[n] = self.client.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=expires, HttpMethod="PUT"
            )
        return urls

    def multipart_list_parts(self, key: str, upload_id: str) -> list[Part]:
        parts: list[Part] = []
        try:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            for page in pages:
                for p in page.get("Parts", []):
                    parts.append(
                        {"PartNumber": int(p["PartNumber"]), "ETag": p["ETag"], "Size": p["Size"]}
                    )
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        return sorted(parts, key=lambda p: p["PartNumber"])

    def multipart_complete(self, key: str, upload_id: str, parts: list[CompletedPart]) -> None:
        ordered = [
            {"PartNumber": n, "ETag": etag}
            for n, etag in sorted((int(p["PartNumber"]), str(p["ETag"])) for p in parts)
        ]
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": ordered},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc

    def multipart_abort(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if isinstance(_error(exc), ObjectMissing):
                return  # already completed or aborted: nothing left to abort
            raise _error(exc) from exc
        except BotoCoreError as exc:
            raise _error(exc) from exc

    def multipart_list_stale(self, older_than: timedelta) -> list[tuple[str, str]]:
        cutoff = datetime.now(UTC) - older_than
        stale: list[tuple[str, str]] = []
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket)
            for page in pages:
                for u in page.get("Uploads", []) or []:
                    initiated = u.get("Initiated")
                    if initiated is not None and initiated.tzinfo is None:
                        initiated = initiated.replace(tzinfo=UTC)
                    if initiated is None or initiated < cutoff:
                        stale.append((u["Key"], u["UploadId"]))
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        return stale

    # --- reading -----------------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectMissing:
            return False
        return True

    def size(self, key: str) -> int:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
            return bytes(answer["Body"].read())
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("InvalidRange", "416"):
                return b""  # past the end
            raise _error(exc) from exc
        except BotoCoreError as exc:
            raise _error(exc) from exc

    def open_stream(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        try:
            yield from body.iter_chunks(chunk_size)
        except BotoCoreError as exc:
            raise _error(exc) from exc
        finally:
            body.close()

    def ranged_file(self, key: str) -> BinaryIO:
        return ranged_reader(self, key)

    # --- writing -----------------------------------------------------------------------------

    def upload_stream(self, key: str, fileobj: BinaryIO, content_type: str) -> int:
        counting = _Counting(fileobj)
        try:
            self.client.upload_fileobj(
                counting,
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type or "application/octet-stream"},
                Config=self.transfer,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        return counting.count

    def move(self, src_key: str, dst_key: str) -> None:
        # The managed copy uses CopyObject up to its threshold and a multipart copy
        # (UploadPartCopy) above it: S3 refuses CopyObject over 5 GB. Bytes stay in the store.
        try:
            self.client.copy(
                {"Bucket": self.bucket, "Key": src_key},
                self.bucket,
                dst_key,
                Config=TransferConfig(
                    multipart_threshold=1024 * 1024 * 1024,
                    multipart_chunksize=512 * 1024 * 1024,
                    max_concurrency=4,
                ),
            )
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc
        self.delete(src_key)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if isinstance(_error(exc), ObjectMissing):
                return
            raise _error(exc) from exc
        except BotoCoreError as exc:
            raise _error(exc) from exc

    # --- handing out -------------------------------------------------------------------------

    def download_url(self, key: str, filename: str, expires: int, content_type: str) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": content_disposition(filename),
                    "ResponseContentType": content_type or "application/octet-stream",
                },
                ExpiresIn=expires,
            )
        )

    # --- bucket set-up (tests, `manage.py storage_setup`) --------------------------------------

    def bucket_ensure(self, cors_origins: list[str]) -> None:
        """Create the bucket if missing and set its CORS rules: PUT of parts from the site's
        origins, with the ETag header exposed (the browser must read it to complete)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except (ClientError, BotoCoreError) as exc:
                raise _error(exc) from exc
        if cors_origins:
            try:
                self.client.put_bucket_cors(
                    Bucket=self.bucket, CORSConfiguration=cors_configuration(cors_origins)
                )
            except (ClientError, BotoCoreError) as exc:
                raise _error(exc) from exc

    def bucket_cors(self) -> dict[str, Any]:
        try:
            return dict(self.client.get_bucket_cors(Bucket=self.bucket))
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc) from exc


def cors_configuration(origins: list[str]) -> dict[str, Any]:
    return {
        "CORSRules": [
            {
                "AllowedOrigins": list(origins),
                "AllowedMethods": ["PUT", "GET", "HEAD"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3600,
            }
        ]
    }
