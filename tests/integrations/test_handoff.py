"""`submission.ready`: written once per submission, when it is complete, no before-review
payment is awaited and no file waits for its scan; deliveries start from it, one per
`integrations` entry of the submission's own procedure version, exactly once."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from forms_engine.outbox import outbox_dispatch, outbox_redo
from integrations.models import Delivery
from tests.flow.conftest import file_completely
from tests.scanning.clamd import ClamdServer
from tests.scanning.conftest import pdf_with

from .conftest import CHILD, DOG, SEMINAR


@pytest.fixture
def no_kicks(monkeypatch):
    monkeypatch.setattr("forms_engine.outbox.outbox_dispatch_kick", lambda names=None: None)
    monkeypatch.setattr("integrations.deliveries.deliveries_enqueue", lambda ids: None)


def topics(sub: m.Submission) -> list[str]:
    return list(sub.events.order_by("id").values_list("topic", flat=True))


def settle_files(sub: m.Submission) -> None:
    """The scans the commit would start (no clamd configured: "not scanned")."""
    for attachment in sub.attachments.all():
        services.attachment_scan(str(attachment.pk))


def with_card(position, page, data):
    if "f-insurance_card" in data:
        data["f-insurance_card"] = SimpleUploadedFile(
            "card.pdf", pdf_with(b"card"), "application/pdf"
        )
    return data


def assert_handed_on(sub) -> None:
    """Completed, its files ready, and ready for the back office with the documented
    payload."""
    assert topics(sub) == ["submission.completed", "submission.files_ready", "submission.ready"]
    ready = sub.events.get(topic="submission.ready")
    assert ready.payload == {
        "submission": str(sub.pk),
        "procedure_version": sub.procedure_version_id,
        "status": "submitted",
    }


def test_a_submission_without_waiting_files_or_fee_is_handed_on_once(client, loaded, no_kicks):
    draft, _ = file_completely(client, reverse("procedure_start", args=list(SEMINAR)))
    sub = draft.submissions.get()
    assert_handed_on(sub)
    assert services.submission_handoff_announce(sub.pk) is False  # once
    assert services.submission_files_ready_announce(sub.pk) is False
    assert topics(sub) == ["submission.completed", "submission.files_ready", "submission.ready"]


def test_each_submission_of_a_bundle_is_handed_on_once_with_its_own_events(
    client, loaded, no_kicks
):
    draft, _ = file_completely(client, reverse("bundle_start", args=["sample-city", "moving-in"]))
    subs = list(draft.receipt.submissions.order_by("number"))
    assert len(subs) == 2
    for sub in subs:
        if sub.attachments.exists():  # a file waits for its scan: handed on after it
            assert topics(sub) == ["submission.completed"]
            settle_files(sub)
        assert_handed_on(sub)
    # Each consumer row belongs to its own event: one per consumer of the topic.
    for event in m.OutboxEvent.objects.filter(submission__in=subs, topic="submission.ready"):
        assert sorted(event.consumptions.values_list("consumer", flat=True)) == [
            "integrations.deliveries",
            "integrations.pull_feed",
        ]


def test_the_deliveries_consumer_creates_one_delivery_per_integration_exactly_once(
    client, loaded, no_kicks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    draft, _ = file_completely(client, reverse("procedure_start", args=list(CHILD)), with_card)
    sub = draft.submissions.get()
    settle_files(sub)
    assert "submission.ready" in topics(sub)
    assert outbox_dispatch("integrations.deliveries") == 1
    (delivery,) = Delivery.objects.filter(submission=sub)
    assert (delivery.integration_id, delivery.type, delivery.state) == (
        "benefits-system",
        "webhook",
        "pending",
    )
    assert delivery.procedure_version_id == sub.procedure_version_id
    assert delivery.idempotency_key.startswith("msg_")
    # Run again (a redelivered task, a second worker): nothing more.
    outbox_redo("integrations.deliveries", sub.events.all())
    assert outbox_dispatch("integrations.deliveries") == 1
    assert Delivery.objects.filter(submission=sub).count() == 1


def test_a_submission_awaiting_a_before_review_fee_is_handed_on_once_paid(client, loaded, no_kicks):
    draft, _ = file_completely(client, reverse("procedure_start", args=list(DOG)))
    sub = draft.submissions.get()
    settle_files(sub)
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    assert "submission.files_ready" in topics(sub)
    assert "submission.ready" not in topics(sub)
    assert services.submission_handoff_announce(sub.pk) is False  # still awaiting
    # Payments settle the fee (moving the status on), then announce the handoff.
    m.Submission.objects.filter(pk=sub.pk).update(status=m.Submission.Status.SUBMITTED)
    assert services.submission_handoff_announce(sub.pk) is True
    assert services.submission_handoff_announce(sub.pk) is False
    assert topics(sub).count("submission.ready") == 1
    outbox_dispatch("integrations.deliveries")
    assert sorted(Delivery.objects.filter(submission=sub).values_list("type", flat=True)) == [
        "email",
        "webhook",
    ]


def test_a_submission_whose_file_waits_for_its_scan_is_handed_on_after_the_scan(
    client, loaded, no_kicks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.CLAMD_ADDRESS = ClamdServer(tmp_path / "nobody").address  # not running
    draft, _ = file_completely(client, reverse("procedure_start", args=list(CHILD)), with_card)
    sub = draft.submissions.get()
    assert sub.attachments.get().status == m.Attachment.Status.QUARANTINED
    assert topics(sub) == ["submission.completed"]
    assert services.submission_handoff_announce(sub.pk) is False
    settings.CLAMD_ADDRESS = ""  # delivered as "not scanned"
    services.attachment_scan(str(sub.attachments.get().pk))
    assert topics(sub) == ["submission.completed", "submission.files_ready", "submission.ready"]
