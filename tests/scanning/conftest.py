"""Fixtures of the scan tests: a draft of the dog registration (its certificate input takes
files), files put in quarantine as an upload leaves them, and the settings that point the
scan at the session's clamd."""

from __future__ import annotations

import io
import uuid

import pytest
from django.conf import settings

from forms_engine import models as m
from forms_engine import services
from forms_engine.storage import object_store

from .clamd import MAX_FILE_BYTES

FIELD = "vaccination_certificate"


@pytest.fixture
def media(settings, tmp_path):
    """Local files in a folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def scanning_on(settings, clamd_server, media):
    settings.CLAMD_ADDRESS = clamd_server.address
    settings.CLAMD_MAX_FILE_BYTES = MAX_FILE_BYTES
    return clamd_server


@pytest.fixture
def loaded(db):
    report = services.procedures_load(settings.PROCEDURES_DIR)
    assert report.errors == []
    return report


@pytest.fixture
def draft(loaded):
    procedure = m.Procedure.objects.get(organization__slug="sample-city", slug="dog-registration")
    return services.draft_start([procedure.live_version])


def quarantine(draft: m.Draft, content: bytes, name: str = "注射済証.pdf") -> m.Attachment:
    """A file stored under quarantine/ and attached to the draft's certificate answer, as a
    completed upload leaves it (nothing scanned yet)."""
    key = f"{m.Attachment.QUARANTINE_PREFIX}{uuid.uuid4().hex}"
    object_store().upload_stream(key, io.BytesIO(content), "application/pdf")
    attachment = m.Attachment.objects.create(
        draft=draft,
        field_key=f"0.{FIELD}",
        file=key,
        original_name=name,
        size=len(content),
        kind="pdf",
        content_type="application/pdf",
        status=m.Attachment.Status.QUARANTINED,
    )
    value = {"id": str(attachment.pk), "name": name, "size": len(content)}
    answers = draft.answers.setdefault("0", {})
    answers.setdefault(FIELD, []).append(value)
    m.Draft.objects.filter(pk=draft.pk).update(answers=draft.answers)
    return attachment


def pdf_with(body: bytes) -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>stream\n" + body + b"\nendstream endobj\ntrailer<<>>\n%%EOF\n"
