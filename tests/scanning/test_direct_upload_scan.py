"""A file uploaded straight to the store (SeaweedFS, through presigned part URLs, as the
browser does) is scanned once its upload completes: EICAR is found there, deleted from the
bucket and taken off the page; a clean file is promoted inside the bucket."""

from __future__ import annotations

import pytest

from forms_engine import models as m
from forms_engine import services, storage
from tests.storage.conftest import filing, upload_town  # noqa: F401 - the storage tests' fixtures
from tests.storage.test_direct_upload import upload_whole

from .clamd import EICAR, EICAR_SIGNATURE, MAX_FILE_BYTES
from .conftest import pdf_with

pytestmark = [pytest.mark.s3, pytest.mark.django_db]


@pytest.fixture
def s3_scanning(s3_settings, clamd_server):
    s3_settings.CLAMD_ADDRESS = clamd_server.address
    s3_settings.CLAMD_MAX_FILE_BYTES = MAX_FILE_BYTES
    return storage.object_store()


@pytest.fixture
def direct(s3_scanning, request):
    """A filing of the storage tests' business-support procedure, files going to SeaweedFS."""
    return request.getfixturevalue("filing")


def test_eicar_uploaded_straight_to_the_bucket_is_found_and_deleted(
    s3_scanning, direct, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attachment_id, done = upload_whole(direct, "決算書.pdf", pdf_with(EICAR))
    assert done.status_code == 200, done.content

    attachment = m.Attachment.objects.get(pk=attachment_id)
    assert attachment.status == m.Attachment.Status.INFECTED
    assert attachment.scan_detail == EICAR_SIGNATURE
    assert not s3_scanning.exists(attachment.storage_key)
    assert not s3_scanning.exists(services.attachment_scans.promoted_key(attachment.storage_key))
    assert attachment_id not in str(direct.refresh().pending)
    page = direct.client.get(direct.page_url).content.decode()
    assert "決算書.pdf からウイルスなどの不正なプログラムが見つかったため" in page


def test_a_clean_file_uploaded_straight_to_the_bucket_is_promoted_there(
    s3_scanning, direct, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attachment_id, done = upload_whole(direct, "決算書.pdf", pdf_with(b"ledger " * 10_000))
    assert done.status_code == 200, done.content

    attachment = m.Attachment.objects.get(pk=attachment_id)
    assert attachment.status == m.Attachment.Status.CLEAN
    assert attachment.storage_key.startswith("files/")
    assert s3_scanning.exists(attachment.storage_key)
    assert "ウイルス検査済み" in direct.client.get(direct.page_url).content.decode()
