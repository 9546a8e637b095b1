"""The bucket's CORS rules: the site's pages may send parts and read their ETags; pages of
other sites may not."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command

from .helpers import http

pytestmark = pytest.mark.s3


def preflight(endpoint: str, bucket: str, origin: str):
    return http(
        "OPTIONS",
        f"{endpoint}/{bucket}/quarantine/{uuid.uuid4().hex}?partNumber=1&uploadId=x",
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
    )


def test_storage_setup_lets_the_site_upload_and_no_other_origin(s3_settings, s3_server):
    bucket = f"setup-{uuid.uuid4().hex[:12]}"
    s3_settings.AWS_STORAGE_BUCKET_NAME = bucket
    s3_settings.DIRECT_UPLOAD_ORIGINS = ["https://shinsei.city.example.jp"]
    call_command("storage_setup")
    allowed = preflight(s3_server.endpoint, bucket, "https://shinsei.city.example.jp")
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shinsei.city.example.jp"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    assert preflight(s3_server.endpoint, bucket, "https://evil.example").status == 403
    call_command("storage_setup")  # again: nothing breaks
