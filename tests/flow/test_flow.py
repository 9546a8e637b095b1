"""The whole filing flow through the Django test client, for every sample procedure and
the bundle."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services

from .conftest import file_completely

SAMPLES = [
    ("sample-city", "dog-registration"),
    ("sample-city", "child-allowance"),
    ("sample-city", "resident-moving-in"),
    ("osaka-pref", "dx-seminar"),
    ("osaka-pref", "records-disclosure"),
]


@pytest.mark.parametrize(("org", "slug"), SAMPLES)
def test_every_sample_procedure_files_end_to_end(client, loaded, org, slug):
    draft, done = file_completely(client, reverse("procedure_start", args=[org, slug]))

    receipt = draft.receipt
    assert receipt is not None
    assert receipt.number in done.content.decode()
    sub = receipt.submissions.get()
    assert sub.procedure.slug == slug
    spec = services.version_spec(sub.procedure_version)
    assert sub.department.slug == spec.department
    assert sub.contact_email == "taro@example.jp"
    assert sub.events.filter(topic="submission.completed").count() == 1
    # The receipt mail goes to the applicant, with the number (a procedure with an email
    # integration also sends its department a notice, without personal data).
    to_applicant = [x for x in mail.outbox if "taro@example.jp" in x.to]
    assert len(to_applicant) == 1
    assert receipt.number in to_applicant[0].body
    notices = [x for x in mail.outbox if x not in to_applicant]
    assert all("taro@example.jp" not in x.body and receipt.number not in x.body for x in notices)


def test_a_fee_before_review_completes_into_awaiting_payment_with_the_total(client, loaded):
    draft, done = file_completely(
        client, reverse("procedure_start", args=["sample-city", "dog-registration"])
    )
    sub = draft.receipt.submissions.get()
    assert sub.status == m.Submission.Status.AWAITING_PAYMENT
    assert sub.fee_total == 3000
    assert "3,000" in done.content.decode()


def test_a_fee_after_review_is_submitted_for_review_first(client, loaded):
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )
    sub = draft.receipt.submissions.get()
    assert sub.status == m.Submission.Status.SUBMITTED


def test_the_bundle_asks_shared_profile_fields_once_and_routes_each_submission(client, loaded):
    visited: list[tuple[int, str]] = []

    def tweak(position, page, data):
        visited.append((position, page.id))
        return data

    from .conftest import walk_to_confirm

    start = reverse("bundle_start", args=["sample-city", "moving-in"])
    confirm = walk_to_confirm(client, start, tweak)
    # The child allowance's claimant page asks only what the moving-in notice asked
    # (name, birth date, email, postal code, address): it is skipped, not shown empty.
    assert visited == [
        (0, "person"),
        (0, "addresses"),
        (0, "household"),
        (1, "children"),
        (1, "account"),
    ]
    draft = m.Draft.objects.get(pk=confirm.split("/")[2])
    claimant = client.get(reverse("filing_page", args=[draft.pk, 1, "claimant"]))
    assert claimant.status_code == 302
    # Its answers appear once on the check page, under the first procedure.
    assert client.get(confirm).content.decode().count("taro@example.jp") == 1

    response = client.post(confirm)
    assert response.status_code == 302
    draft.refresh_from_db()
    subs = list(draft.receipt.submissions.order_by("number"))
    assert [s.procedure.slug for s in subs] == ["resident-moving-in", "child-allowance"]
    assert [s.department.slug for s in subs] == ["citizens", "child-care"]
    assert subs[0].number.startswith(draft.receipt.number)
    assert {s.receipt_id for s in subs} == {draft.receipt.pk}
    # The shared answers reach the second procedure unchanged.
    assert subs[1].answers["name"] == subs[0].answers["name"]
    assert subs[1].answers["email"] == subs[0].answers["email"]
    assert subs[1].answers["address"] == subs[0].answers["address"]
