"""Quarantine, scan, promote: the scan of one stored file against the real clamd, on local
files and on a real S3-compatible store (SeaweedFS)."""

from __future__ import annotations

import io
import zipfile

import pytest

from forms_engine import models as m
from forms_engine import services
from forms_engine.services import ScanOutcome
from forms_engine.storage import object_store

from .clamd import EICAR, EICAR_SIGNATURE, MAX_FILE_MIB, ClamdServer
from .conftest import FIELD, pdf_with, quarantine

Status = m.Attachment.Status


@pytest.fixture(params=["local", "s3"])
def store_settings(request, settings, media):
    """Each test once on local files and once on SeaweedFS."""
    if request.param == "s3":
        request.applymarker(pytest.mark.s3)
        request.getfixturevalue("s3_settings")
    return settings


@pytest.fixture
def scanning(store_settings, scanning_on):
    return scanning_on


def zipped(content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("書類/説明.txt", "添付します")
        archive.writestr("書類/eicar.com", content)
    return buffer.getvalue()


def reload(attachment: m.Attachment) -> m.Attachment:
    return m.Attachment.objects.get(pk=attachment.pk)


def test_a_clean_file_is_promoted_from_quarantine_to_files(draft, scanning):
    content = pdf_with(b"ordinary certificate " * 1000)
    attachment = quarantine(draft, content)
    quarantined_key = attachment.storage_key

    outcome = services.attachment_scan(str(attachment.pk))

    attachment = reload(attachment)
    store = object_store()
    assert outcome is ScanOutcome.CLEAN
    assert attachment.status == Status.CLEAN
    assert attachment.scanned_at is not None
    assert attachment.storage_key.startswith("files/")
    assert not store.exists(quarantined_key)
    assert b"".join(store.open_stream(attachment.storage_key)) == content
    assert services.attachment_is_deliverable(attachment)


@pytest.mark.parametrize("wrap", [pdf_with, zipped], ids=["inside-a-pdf", "inside-a-zip"])
def test_eicar_is_caught_deleted_and_never_promoted(draft, scanning, wrap):
    attachment = quarantine(draft, wrap(EICAR))
    quarantined_key = attachment.storage_key

    outcome = services.attachment_scan(str(attachment.pk))

    attachment = reload(attachment)
    store = object_store()
    assert outcome is ScanOutcome.INFECTED
    assert attachment.status == Status.INFECTED
    assert attachment.scan_detail == EICAR_SIGNATURE
    assert not store.exists(quarantined_key)
    assert not store.exists(services.attachment_scans.promoted_key(quarantined_key))
    assert not services.attachment_is_deliverable(attachment)


def test_the_plain_eicar_file_is_caught(draft, scanning):
    attachment = quarantine(draft, EICAR, name="eicar.com")

    assert services.attachment_scan(str(attachment.pk)) is ScanOutcome.INFECTED


def test_an_infected_file_no_longer_counts_as_attached(draft, scanning):
    clean = quarantine(draft, pdf_with(b"page one"), name="表.pdf")
    infected = quarantine(draft, pdf_with(EICAR), name="裏.pdf")

    services.attachment_scan(str(clean.pk))
    services.attachment_scan(str(infected.pk))

    draft.refresh_from_db()
    assert [v["id"] for v in draft.answers["0"][FIELD]] == [str(clean.pk)]


def test_a_file_clamd_cannot_scan_whole_is_refused_never_clean(
    draft, store_settings, media, tmp_path
):
    server = ClamdServer(tmp_path / "small-clamd")
    server.conf.write_text(
        server.conf.read_text().replace("StreamMaxLength 4000M", "StreamMaxLength 1M")
    )
    store_settings.CLAMD_ADDRESS = server.start().address
    try:
        attachment = quarantine(draft, pdf_with(b"\0" * (3 * 1024 * 1024)))
        outcome = services.attachment_scan(str(attachment.pk))
    finally:
        server.stop()

    attachment = reload(attachment)
    assert outcome is ScanOutcome.UNSCANNABLE
    assert attachment.status == Status.REFUSED
    assert "size limit" in attachment.scan_detail
    assert not object_store().exists(attachment.storage_key)
    draft.refresh_from_db()
    assert draft.answers["0"].get(FIELD) == []


def test_a_file_over_clamd_max_file_bytes_is_refused_never_clean(
    draft, store_settings, media, tmp_path
):
    # The reviewer's case: clamd with `MaxFileSize 1M` and its default `AlertExceedsMax
    # no` answers OK for a 2 MB file with EICAR at its end.
    server = ClamdServer(tmp_path / "small-clamd")
    server.conf.write_text(
        server.conf.read_text()
        .replace(f"MaxFileSize {MAX_FILE_MIB}M", "MaxFileSize 1M")
        .replace("AlertExceedsMax yes", "AlertExceedsMax no")
    )
    store_settings.CLAMD_ADDRESS = server.start().address
    store_settings.CLAMD_MAX_FILE_BYTES = 1024 * 1024
    try:
        attachment = quarantine(draft, pdf_with(b"\0" * (2 * 1024 * 1024) + EICAR))
        outcome = services.attachment_scan(str(attachment.pk))
    finally:
        server.stop()

    attachment = reload(attachment)
    assert outcome is ScanOutcome.UNSCANNABLE
    assert attachment.status == Status.REFUSED
    assert "CLAMD_MAX_FILE_BYTES" in attachment.scan_detail
    assert not object_store().exists(attachment.storage_key)
    # The resident is told, as for any file clamd could not scan whole.
    assert services.draft_files_removed_by_scan(draft) == [attachment]


def test_with_clamd_down_the_file_stays_in_quarantine_and_is_scanned_once_it_is_back(
    draft, store_settings, media, tmp_path
):
    server = ClamdServer(tmp_path / "clamd")  # configured, not started yet
    store_settings.CLAMD_ADDRESS = server.address
    attachment = quarantine(draft, pdf_with(b"certificate"))

    outcome = services.attachment_scan(str(attachment.pk), attempt=1)

    attachment = reload(attachment)
    assert outcome is ScanOutcome.RETRY
    assert attachment.status == Status.QUARANTINED
    assert attachment.scan_detail.startswith("attempt 1: clamd at tcp://127.0.0.1:")
    assert "unreachable" in attachment.scan_detail
    assert object_store().exists(attachment.storage_key)
    assert not services.attachment_is_deliverable(attachment)

    server.start()
    try:
        outcome = services.attachment_scan(str(attachment.pk), attempt=2)
    finally:
        server.stop()

    attachment = reload(attachment)
    assert outcome is ScanOutcome.CLEAN
    assert attachment.status == Status.CLEAN
    assert attachment.scan_detail == ""


def test_without_clamd_address_a_file_is_promoted_as_not_scanned_never_clean(
    draft, store_settings, media
):
    store_settings.CLAMD_ADDRESS = ""
    attachment = quarantine(draft, pdf_with(EICAR))  # nothing looks: nothing is found

    outcome = services.attachment_scan(str(attachment.pk))

    attachment = reload(attachment)
    assert outcome is ScanOutcome.NOT_SCANNED
    assert attachment.status == Status.NOT_SCANNED
    assert attachment.scanned_at is None
    assert attachment.storage_key.startswith("files/")


def test_scanning_twice_does_the_work_once(draft, scanning, settings, tmp_path):
    attachment = quarantine(draft, pdf_with(b"certificate"))
    assert services.attachment_scan(str(attachment.pk)) is ScanOutcome.CLEAN
    promoted = reload(attachment)

    # The second run must not even ask clamd: point it at an address where nobody listens.
    settings.CLAMD_ADDRESS = ClamdServer(tmp_path / "nobody").address
    outcome = services.attachment_scan(str(attachment.pk))

    again = reload(attachment)
    assert outcome is ScanOutcome.SKIPPED
    assert (again.status, again.storage_key, again.scanned_at) == (
        promoted.status,
        promoted.storage_key,
        promoted.scanned_at,
    )
    assert object_store().exists(again.storage_key)


def test_an_infected_file_scanned_twice_is_deleted_once_and_stays_infected(draft, scanning):
    attachment = quarantine(draft, pdf_with(EICAR))
    assert services.attachment_scan(str(attachment.pk)) is ScanOutcome.INFECTED

    assert services.attachment_scan(str(attachment.pk)) is ScanOutcome.SKIPPED
    assert reload(attachment).status == Status.INFECTED


def test_a_promotion_whose_database_write_was_lost_is_finished_by_the_next_run(draft, scanning):
    # The move to files/ happened, the row still says quarantine/ (a crash in between).
    attachment = quarantine(draft, pdf_with(b"certificate"))
    key = attachment.storage_key
    object_store().move(key, services.attachment_scans.promoted_key(key))

    outcome = services.attachment_scan(str(attachment.pk))

    attachment = reload(attachment)
    assert outcome is ScanOutcome.CLEAN
    assert attachment.storage_key == services.attachment_scans.promoted_key(key)
    assert object_store().exists(attachment.storage_key)
