"""Fixtures of the integrations tests: the procedures loaded, rate limits off."""

from __future__ import annotations

import contextlib
import os

import pytest

from tests.flow.conftest import _no_rate_limits, loaded  # noqa: F401 - fixtures

DOG = ("sample-city", "dog-registration")
CHILD = ("sample-city", "child-allowance")
SEMINAR = ("osaka-pref", "dx-seminar")


@pytest.fixture
def receiver():
    from .receiver import Receiver

    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def child_webhook(receiver, settings):
    """The child allowance's webhook goes to the test's receiver."""
    from .receiver import SECRET

    settings.DELIVERY_ALLOW_LOOPBACK = True
    # Set and restored here (not by monkeypatch, which may be torn down after the check
    # that the environment was restored).
    with env_set(BENEFITS_URL=receiver.url, BENEFITS_SECRET=SECRET):
        yield receiver


@contextlib.contextmanager
def env_set(**values):
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def no_kicks(monkeypatch):
    """Nothing runs on commit: the test runs the dispatcher and the sends itself, as the
    beat schedule and the workers would."""
    monkeypatch.setattr("forms_engine.outbox.outbox_dispatch_kick", lambda names=None: None)
    monkeypatch.setattr("integrations.deliveries.deliveries_enqueue", lambda ids: None)


def settle_files(sub) -> None:
    """The scans the commit would start (no clamd configured: "not scanned")."""
    from forms_engine import services

    for attachment in sub.attachments.all():
        services.attachment_scan(str(attachment.pk))


CARD_BYTES = b"%PDF-1.4\n1 0 obj<<>>stream\ninsurance card\nendstream endobj\ntrailer<<>>\n%%EOF\n"


def with_card(position, page, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    if "f-insurance_card" in data:
        data["f-insurance_card"] = SimpleUploadedFile("card.pdf", CARD_BYTES, "application/pdf")
    return data


def file_child(client):
    """A child allowance filed (with one file) and handed on; returns its submission."""
    from django.urls import reverse

    from tests.flow.conftest import file_completely

    draft, _ = file_completely(client, reverse("procedure_start", args=list(CHILD)), with_card)
    sub = draft.submissions.get()
    settle_files(sub)
    return sub


@pytest.fixture
def child_delivery(client, loaded, no_kicks, child_webhook, settings, tmp_path):  # noqa: F811
    """The webhook Delivery of a child allowance just handed on, not sent yet."""
    from forms_engine.outbox import outbox_dispatch
    from integrations.models import Delivery

    settings.MEDIA_ROOT = tmp_path
    sub = file_child(client)
    outbox_dispatch("integrations.deliveries")
    return Delivery.objects.get(submission=sub)
