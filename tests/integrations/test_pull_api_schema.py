"""Schemathesis against the live pull API: every response it provokes (valid and invalid
requests, unsupported methods, requests without the token, the links between pages and
details) conforms to the OpenAPI document the service serves."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from forms_engine import models as m
from forms_engine import storage
from integrations.api.feed import feed_append
from integrations.api.tokens import api_token_create

from .conftest import DOGS, RECORDS, live_version, make_submission, records_answers

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.django_db(transaction=True)
def test_every_response_of_the_live_api_conforms_to_its_openapi_document(
    loaded, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    version = live_version(*RECORDS)
    subs = [make_submission(version, records_answers(i)) for i in range(3)]
    storage.object_store().upload_stream("files/st", io.BytesIO(b"%PDF-1.4 x"), "application/pdf")
    m.Attachment.objects.create(
        draft=subs[0].draft,
        submission=subs[0],
        field_key="0.reference",
        file="files/st",
        original_name="資料.pdf",
        size=10,
        kind="pdf",
        content_type="application/pdf",
        sha256="b" * 64,
        status=m.Attachment.Status.CLEAN,
    )
    for s in subs:
        feed_append(s.pk)
    other = make_submission(live_version(*DOGS), {"name": {"family": "犬"}})
    feed_append(other.pk)
    _row, token = api_token_create(
        name="records-db",
        organization=version.procedure.organization,
        departments=[version.department],
    )
    # The document the service serves is the one tested.
    schema_url = f"{live_server.url}/api/v1/openapi.json"
    proc = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            schema_url,
            "--url",
            live_server.url,
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            "40",
            "--seed",
            "20261130",
            "--workers",
            "1",
            "--no-color",
            "--suppress-health-check",
            "all",
            "--generation-database",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout[-6000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, output
    # It did reach the data (a page with items and a submission), not only errors.
    assert "getSubmission" in output or "submissions/{submission_id}" in output, output
