"""Staff see each file's virus check in the admin; files whose scan task was lost are sent
to the scanner again, and files whose task is retrying are left to it."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from forms_engine import models as m
from forms_engine import services, tasks
from tests.flow.conftest import file_completely
from tests.staff import login_verified

from .clamd import EICAR, EICAR_SIGNATURE
from .conftest import pdf_with, quarantine

Status = m.Attachment.Status
DOG = ("sample-city", "dog-registration")


def test_the_admin_lists_each_files_state_and_the_signature_found(
    client, draft, scanning_on, django_user_model
):
    # Files of a filing handed in (the admin lists no draft's files: they are the resident's).
    filed = file_completely(client, reverse("procedure_start", args=list(DOG)))[0]
    submission = m.Submission.objects.get(draft=filed)
    infected = quarantine(draft, pdf_with(EICAR), name="感染.pdf")
    waiting = quarantine(draft, pdf_with(b"ok"), name="待ち.pdf")
    m.Attachment.objects.filter(pk__in=[infected.pk, waiting.pk]).update(submission=submission)
    services.attachment_scan(str(infected.pk))
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", "pw-123456!")
    login_verified(client, admin)
    url = reverse("admin:forms_engine_attachment_changelist")

    listed = client.get(url, {"status__exact": "infected"}).content.decode()

    assert str(infected.pk) in listed
    assert EICAR_SIGNATURE in listed
    assert str(waiting.pk) not in listed
    detail = client.get(reverse("admin:forms_engine_attachment_change", args=[infected.pk]))
    assert EICAR_SIGNATURE in detail.content.decode()


def test_a_file_whose_scan_task_was_lost_is_scanned_by_the_periodic_sweep(draft, scanning_on):
    lost = quarantine(draft, pdf_with(b"certificate"))
    recent = quarantine(draft, pdf_with(b"certificate"))
    retrying = quarantine(draft, pdf_with(b"certificate"))
    hours_ago = timezone.now() - timedelta(hours=2)
    m.Attachment.objects.filter(pk__in=[lost.pk, retrying.pk]).update(created_at=hours_ago)
    m.Attachment.objects.filter(pk=retrying.pk).update(scan_detail="attempt 4: unreachable")

    handed_on = tasks.attachments_scan_lost.apply().get()

    assert handed_on == 1
    assert m.Attachment.objects.get(pk=lost.pk).status == Status.CLEAN
    assert m.Attachment.objects.get(pk=recent.pk).status == Status.QUARANTINED
    assert m.Attachment.objects.get(pk=retrying.pk).status == Status.QUARANTINED


def test_the_retry_delay_doubles_up_to_its_cap(settings):
    settings.CLAMD_RETRY_FIRST_SECONDS = 30
    settings.CLAMD_RETRY_MAX_SECONDS = 1800

    delays = [tasks.scan_retry_delay(n) for n in range(8)]

    assert delays == [30, 60, 120, 240, 480, 960, 1800, 1800]
