"""Housekeeping of files (Celery beat): incomplete direct uploads are aborted after a day,
files of drafts abandoned past their resume link are deleted, and the files of a
submission are deleted at the end of its retention while its rows say so."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from forms_engine import models as m
from forms_engine import services, storage, tasks
from tests.factories import pdf_bytes

from .conftest import file_completely
from .test_uploads import CERTIFICATE, certificate_page

DOG = ("sample-city", "dog-registration")
DISCLOSURE = ("osaka-pref", "records-disclosure")  # retention_days: 3650
A = m.Attachment.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_housekeeping_tasks_are_scheduled():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in (
        "uploads_abort_stale",
        "drafts_abandoned_files_delete",
        "submissions_expired_files_delete",
    ):
        task = f"forms_engine.tasks.{name}"
        assert task in scheduled
        assert task in celery_app.tasks
        assert getattr(tasks, name).name == task


# ------------------------------------------------------------------ incomplete uploads


def begin_upload(draft: m.Draft, age: timedelta) -> m.Attachment:
    store = storage.object_store()
    key = f"{m.Attachment.QUARANTINE_PREFIX}{uuid.uuid4()}"
    upload_id = store.multipart_create(key, "application/pdf")
    return m.Attachment.objects.create(
        draft=draft,
        field_key="0.vaccination_certificate",
        file=key,
        original_name="大きな台帳.pdf",
        size=1024**3,
        content_type="application/pdf",
        status=A.UPLOADING,
        upload_id=upload_id,
        created_at=timezone.now() - age,
    )


def a_draft(client) -> m.Draft:
    client.post(reverse("procedure_start", args=list(DOG)))
    return m.Draft.objects.latest("created_at")


def upload_exists(a: m.Attachment) -> bool:
    try:
        storage.object_store().multipart_list_parts(a.storage_key, a.upload_id)
    except storage.ObjectMissing:
        return False
    return True


@pytest.mark.s3
def test_uploads_left_incomplete_for_a_day_are_aborted_with_their_rows(client, loaded, s3_settings):
    draft = a_draft(client)
    stale = begin_upload(draft, timedelta(hours=25))
    fresh = begin_upload(draft, timedelta(hours=2))

    aborted = tasks.uploads_abort_stale()

    assert aborted >= 1
    assert not m.Attachment.objects.filter(pk=stale.pk).exists()
    assert not upload_exists(stale)
    assert m.Attachment.objects.filter(pk=fresh.pk, status=A.UPLOADING).exists()
    assert upload_exists(fresh)
    assert tasks.uploads_abort_stale() == 0  # nothing done twice
    storage.object_store().multipart_abort(fresh.storage_key, fresh.upload_id)


@pytest.mark.s3
def test_uploads_the_store_holds_without_a_row_are_aborted_too(client, loaded, s3_settings):
    store = storage.object_store()
    key = f"quarantine/{uuid.uuid4()}"
    upload_id = store.multipart_create(key, "application/pdf")  # its row was lost

    services.uploads_abort_stale(older_than=timedelta(0))

    with pytest.raises(storage.ObjectMissing):
        store.multipart_list_parts(key, upload_id)


# --------------------------------------------------------------------- abandoned drafts


def draft_with_file(client) -> tuple[m.Draft, m.Attachment]:
    url, data = certificate_page(client)
    data[CERTIFICATE] = SimpleUploadedFile("予防接種.pdf", pdf_bytes(), "application/pdf")
    assert client.post(url, data).status_code == 302
    attachment = m.Attachment.objects.latest("created_at")
    return attachment.draft, attachment


def age_draft(draft: m.Draft, seconds: int) -> None:
    m.Draft.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_files_of_drafts_abandoned_past_their_resume_link_are_deleted(client, loaded):
    store = storage.object_store()
    draft, attachment = draft_with_file(client)
    age_draft(draft, settings.RESUME_TOKEN_MAX_AGE + 3600)
    before = m.Draft.objects.get(pk=draft.pk)
    assert str(attachment.pk) in str(before.answers)

    assert tasks.drafts_abandoned_files_delete() == 1

    assert not store.exists(attachment.storage_key)
    assert not m.Attachment.objects.filter(pk=attachment.pk).exists()
    after = m.Draft.objects.get(pk=draft.pk)
    assert str(attachment.pk) not in str(after.answers) + str(after.pending)
    assert "ポチ" in str(after.answers)  # what was typed stays
    assert after.updated_at == before.updated_at
    assert tasks.drafts_abandoned_files_delete() == 0


def test_drafts_within_their_resume_link_keep_their_files(client, loaded):
    draft, attachment = draft_with_file(client)
    age_draft(draft, settings.RESUME_TOKEN_MAX_AGE - 3600)

    assert services.drafts_abandoned_files_delete() == 0

    assert storage.object_store().exists(attachment.storage_key)
    assert m.Attachment.objects.filter(pk=attachment.pk).exists()


def test_the_files_of_a_submitted_filing_are_not_a_drafts(client, loaded):
    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    attachment = m.Attachment.objects.get(draft=draft)
    age_draft(draft, settings.RESUME_TOKEN_MAX_AGE + 3600)
    m.Draft.objects.filter(pk=draft.pk).update(status=m.Draft.Status.OPEN)  # even so

    assert services.drafts_abandoned_files_delete() == 0
    assert storage.object_store().exists(attachment.storage_key)


# ------------------------------------------------------------------------- retention


def filed_with_file(client, procedure, days_ago: int) -> m.Attachment:
    draft, _done = file_completely(client, reverse("procedure_start", args=list(procedure)))
    attachment = m.Attachment.objects.filter(draft=draft).first()
    assert attachment is not None and attachment.submission is not None
    m.Attachment.objects.filter(draft=draft).update(status=A.CLEAN)
    m.Submission.objects.filter(draft=draft).update(
        submitted_at=timezone.now() - timedelta(days=days_ago)
    )
    return attachment


def test_files_are_deleted_at_the_end_of_their_retention_and_the_rows_say_so(client, loaded):
    store = storage.object_store()
    expired = filed_with_file(client, DOG, days_ago=1826)  # dog registration: 1825 days
    kept = filed_with_file(client, DOG, days_ago=1824)

    assert tasks.submissions_expired_files_delete() == 1

    assert not store.exists(expired.storage_key)
    row = m.Attachment.objects.get(pk=expired.pk)
    assert row.status == A.DELETED and row.deleted_at is not None
    assert row.original_name and row.submission_id  # the record stays
    assert not services.attachment_is_deliverable(row)
    assert store.exists(kept.storage_key)
    assert m.Attachment.objects.get(pk=kept.pk).status == A.CLEAN
    assert tasks.submissions_expired_files_delete() == 0


def test_each_procedure_keeps_files_for_its_own_retention(client, loaded):
    store = storage.object_store()
    dog = filed_with_file(client, DOG, days_ago=2000)
    disclosure = filed_with_file(client, DISCLOSURE, days_ago=2000)  # kept 3650 days

    assert services.submissions_expired_files_delete() == 1

    assert not store.exists(dog.storage_key)
    assert store.exists(disclosure.storage_key)
    later = timezone.now() + timedelta(days=1651)
    assert services.submissions_expired_files_delete(now=later) >= 1
    assert not store.exists(disclosure.storage_key)
