"""A submission waits for its scans before it is handed on: the core writes the outbox
event `submission.files_ready` once none of its files is uploading or quarantined, at
completion when nothing waits, else when the scan of its last waiting file ends, and
exactly once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from forms_engine.services import ScanOutcome
from tests.flow.conftest import file_completely

from .clamd import EICAR, MAX_FILE_BYTES, ClamdServer
from .conftest import pdf_with
from .test_scan_pages import DOG, attaching

pytestmark = pytest.mark.django_db(transaction=True)

READY = "submission.files_ready"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


def topics(submission: m.Submission) -> list[str]:
    """The submission's own events (payment.* events have their own tests)."""
    events = submission.events.filter(topic__startswith="submission.").order_by("id")
    return list(events.values_list("topic", flat=True))


def test_a_filing_without_files_is_announced_ready_at_completion(client, loaded):
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["osaka-pref", "dx-seminar"])
    )
    submission = draft.receipt.submissions.get()

    assert not submission.attachments.exists()
    # No fee awaited either: handed on (submission.ready) in the same transaction.
    assert topics(submission) == ["submission.completed", READY, "submission.ready"]
    assert submission.events.get(topic=READY).payload == {"submission": str(submission.pk)}


@pytest.mark.parametrize(
    ("content", "clamd", "status"),
    [
        (pdf_with(b"certificate"), True, m.Attachment.Status.CLEAN),
        (pdf_with(EICAR), True, m.Attachment.Status.INFECTED),
        (pdf_with(b"certificate"), False, m.Attachment.Status.NOT_SCANNED),
    ],
    ids=["clean", "infected", "not-scanned"],
)
def test_a_submission_with_a_quarantined_file_is_announced_ready_once_its_scan_ends(
    client, loaded, media, settings, tmp_path, clamd_server, content, clamd, status
):
    settings.CLAMD_ADDRESS = ClamdServer(tmp_path / "nobody").address  # not running
    draft, _done = file_completely(client, DOG, attaching(content))
    submission = draft.receipt.submissions.get()
    attachment = submission.attachments.get()
    assert attachment.status == m.Attachment.Status.QUARANTINED
    assert topics(submission) == ["submission.completed"]

    settings.CLAMD_ADDRESS = clamd_server.address if clamd else ""
    settings.CLAMD_MAX_FILE_BYTES = MAX_FILE_BYTES
    services.attachment_scan(str(attachment.pk))

    assert submission.attachments.get().status == status
    assert topics(submission) == ["submission.completed", READY]


def test_scanning_twice_announces_the_submission_ready_once(
    client, loaded, media, settings, tmp_path, clamd_server
):
    settings.CLAMD_ADDRESS = ClamdServer(tmp_path / "nobody").address  # not running
    draft, _done = file_completely(client, DOG, attaching(pdf_with(b"certificate")))
    submission = draft.receipt.submissions.get()
    attachment = submission.attachments.get()

    settings.CLAMD_ADDRESS = clamd_server.address
    settings.CLAMD_MAX_FILE_BYTES = MAX_FILE_BYTES
    assert services.attachment_scan(str(attachment.pk)) is ScanOutcome.CLEAN
    assert services.attachment_scan(str(attachment.pk)) is ScanOutcome.SKIPPED
    call_command("attachments_scan", "--in-process", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not services.submission_files_ready_announce(submission.pk)

    assert submission.events.filter(topic=READY).count() == 1
