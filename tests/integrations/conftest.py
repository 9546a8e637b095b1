"""Fixtures of the integrations tests: the procedures loaded, rate limits off."""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any

import pytest

from forms_engine import models as m
from forms_engine import services
from tests.flow.conftest import _no_rate_limits, loaded  # noqa: F401 - fixtures

DOG = ("sample-city", "dog-registration")
CHILD = ("sample-city", "child-allowance")
SEMINAR = ("osaka-pref", "dx-seminar")
RECORDS = ("osaka-pref", "records-disclosure")
DOGS = DOG


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


@pytest.fixture(params=["prepared", "orm"])
def delivery_path(request, monkeypatch):
    """Run the test both ways a delivery is claimed and recorded: the prepared statements
    of PostgreSQL (integrations/delivery_statements.py), and the ORM steps every other
    database (SQLite, the embedded default) takes."""
    if request.param == "orm":
        monkeypatch.setattr("integrations.delivery_statements.usable", lambda: False)
    return request.param


@pytest.fixture
def child_delivery(client, loaded, no_kicks, child_webhook, settings, tmp_path):  # noqa: F811
    """The webhook Delivery of a child allowance just handed on, not sent yet."""
    from forms_engine.outbox import outbox_dispatch
    from integrations.models import Delivery

    settings.MEDIA_ROOT = tmp_path
    sub = file_child(client)
    outbox_dispatch("integrations.deliveries")
    return Delivery.objects.get(submission=sub)


def live_version(org: str, slug: str) -> m.ProcedureVersion:
    procedure = m.Procedure.objects.select_related("live_version").get(
        organization__slug=org, slug=slug
    )
    assert procedure.live_version is not None
    return procedure.live_version


def records_answers(i: int = 0, family: str = "山田") -> dict[str, Any]:
    return {
        "requester_type": "person",
        "name": {
            "family": family,
            "given": f"太郎{i}",
            "kana_family": "ヤマダ",
            "kana_given": "タロウ",
        },
        "postal_code": "5408570",
        "address": {
            "prefecture": "大阪府",
            "city": "大阪市中央区",
            "town": "大手前2丁目",
            "building": "",
        },
        "phone": "06-6941-0351",
        "email": "taro@example.jp",
        "documents": f"令和7年度 電子申請システム運用保守契約書 {i}",
        "methods": ["view", "paper_copy"],
        "delivery": "counter",
        "privacy": True,
    }


def make_submission(
    version: m.ProcedureVersion, answers: dict[str, Any], *, number: str | None = None
) -> m.Submission:
    number = number or f"T{uuid.uuid4().hex[:12].upper()}"
    receipt = m.Receipt.objects.create(number=number, status_code_hash="x", mail_status="sent")
    draft = m.Draft.objects.create(
        organization_id=version.procedure.organization_id,
        version_ids=[version.pk],
        status=m.Draft.Status.SUBMITTED,
        receipt=receipt,
    )
    return m.Submission.objects.create(
        receipt=receipt,
        number=number,
        draft=draft,
        organization_id=version.procedure.organization_id,
        department_id=version.department_id,
        procedure_id=version.procedure_id,
        procedure_version_id=version.pk,
        status=m.Submission.Status.SUBMITTED,
        answers=answers,
        contact_email=answers.get("email", ""),
    )


def bulk_submissions(
    version: m.ProcedureVersion, count: int, answers: dict[str, Any], *, integration_id: str
) -> list[str]:
    """`count` submissions of `version`, each with a pending Delivery of `integration_id`
    (as the deliveries consumer makes them), inserted in bulk; their receipt numbers."""
    from integrations.models import Delivery

    entry = next(e for e in services.version_spec(version).integrations if e.id == integration_id)
    prefix = uuid.uuid4().hex[:6].upper()
    numbers = [f"B{prefix}{i:07d}" for i in range(count)]
    receipts = m.Receipt.objects.bulk_create(
        [m.Receipt(number=n, status_code_hash="x", mail_status="sent") for n in numbers],
        batch_size=2000,
    )
    drafts = m.Draft.objects.bulk_create(
        [
            m.Draft(
                organization_id=version.procedure.organization_id,
                version_ids=[version.pk],
                status=m.Draft.Status.SUBMITTED,
                receipt=r,
            )
            for r in receipts
        ],
        batch_size=2000,
    )
    subs = m.Submission.objects.bulk_create(
        [
            m.Submission(
                receipt=r,
                number=r.number,
                draft=d,
                organization_id=version.procedure.organization_id,
                department_id=version.department_id,
                procedure_id=version.procedure_id,
                procedure_version_id=version.pk,
                status=m.Submission.Status.SUBMITTED,
                answers=answers,
                contact_email="x@example.jp",
            )
            for r, d in zip(receipts, drafts, strict=True)
        ],
        batch_size=2000,
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                submission=s,
                procedure_version=version,
                integration_id=integration_id,
                type=entry.type,
            )
            for s in subs
        ],
        batch_size=2000,
    )
    return numbers
