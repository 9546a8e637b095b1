"""The inbox's payment panel and staff payment actions: scoped, audited, through the
payments services."""

from __future__ import annotations

import json

from django.urls import reverse

from forms_engine import models as m
from inbox.models import AuditLog
from payments.models import Refund
from tests.inbox.conftest import make_staff, verified_client

PS = m.Submission.PaymentStatus


def detail(sub: m.Submission) -> str:
    return reverse("inbox:submission_detail", args=[sub.pk])


def act(client, name: str, sub: m.Submission, **data):
    return client.post(reverse(f"inbox:{name}", args=[sub.pk]), data)


def test_a_reviewer_sees_the_payment_and_records_one_paid_at_the_counter(dog_submission):
    sub = dog_submission
    reviewer = make_staff("env_reviewer", "sample-city", "reviewer", "environment")
    client = verified_client(reviewer)
    page = client.get(detail(sub)).content.decode()
    assert 'id="payment"' in page and "支払い待ち" in page and "3,000円" in page
    assert 'name="reason"' not in page  # a reviewer cannot refund
    response = act(client, "payment_record", sub, amount="3,000")
    assert response.status_code == 302
    assert response["Location"].endswith("#payment")
    sub.refresh_from_db()
    assert (sub.payment_status, sub.status) == (PS.PAID, m.Submission.Status.SUBMITTED)
    row = AuditLog.objects.get(action="payment.record")
    assert row.actor_id == reviewer.pk and row.data["amount"] == 3000
    page = client.get(detail(sub)).content.decode()
    assert "支払い済み" in page and "env_reviewer" in page
    refused = act(client, "payment_refund", sub, amount="1000", reason="x")
    assert refused.status_code == 400
    assert "返金できるのは" in refused.content.decode()
    sub.refresh_from_db()
    assert sub.refunded_amount == 0


def test_a_department_admin_refunds_part_with_a_reason(dog_submission):
    sub = dog_submission
    admin = make_staff("env_admin", "sample-city", "department_admin", "environment")
    client = verified_client(admin)
    act(client, "payment_record", sub, amount="3000")
    no_reason = act(client, "payment_refund", sub, amount="1000", reason=" ")
    assert no_reason.status_code == 400
    assert 'aria-invalid="true"' in no_reason.content.decode()
    response = act(client, "payment_refund", sub, amount="1000", reason="減免の対象")
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.payment_status, sub.refunded_amount) == (PS.PARTIALLY_REFUNDED, 1000)
    refund = Refund.objects.get()
    assert (refund.created_by, refund.reason) == (admin, "減免の対象")
    # The reason is staff's free text (it may name a person): kept on the refund record,
    # which the status page and the mail read, never in the append-only audit log or
    # outbox.
    row = AuditLog.objects.get(action="payment.refund")
    assert (row.data["reason_given"], row.data["reason_length"]) == (True, 5)
    assert "減免" not in json.dumps(row.data, ensure_ascii=False)
    event = sub.events.get(topic="payment.partially_refunded")
    assert (event.payload["reason_given"], event.payload["reason_length"]) == (True, 5)
    assert "減免" not in json.dumps(event.payload, ensure_ascii=False)
    assert event.payload["refund"] == refund.pk
    too_much = act(client, "payment_refund", sub, amount="2001", reason="x")
    assert too_much.status_code == 400


def test_staff_of_another_department_get_404_and_change_nothing(dog_submission):
    sub = dog_submission
    other = make_staff("cit_admin", "sample-city", "department_admin", "citizens")
    client = verified_client(other)
    assert client.get(detail(sub)).status_code == 404
    assert act(client, "payment_record", sub, amount="3000").status_code == 404
    sub.refresh_from_db()
    assert sub.payment_status == PS.AWAITING
    assert not AuditLog.objects.filter(action="payment.record").exists()


def test_staff_set_the_fee_after_review(after_review_submission):
    sub = after_review_submission
    dept = sub.department.slug
    client = verified_client(make_staff("pref_rev", "osaka-pref", "reviewer", dept))
    page = client.get(detail(sub)).content.decode()
    assert 'name="amount"' in page and "審査後に決まる手数料" in page
    bad = act(client, "payment_amount_set", sub, amount="abc")
    assert bad.status_code == 400
    assert "請求または返金できる範囲" in bad.content.decode()
    assert act(client, "payment_amount_set", sub, amount="1500").status_code == 302
    sub.refresh_from_db()
    assert (sub.payment_status, sub.payment_due_amount) == (PS.AWAITING, 1500)
    assert AuditLog.objects.get(action="payment.amount_set").data["amount"] == 1500


def test_the_list_shows_each_payment_state_and_amount(dog_submission):
    sub = dog_submission
    client = verified_client(make_staff("env_r", "sample-city", "reviewer", "environment"))
    text = client.get(reverse("inbox:submission_list")).content.decode()
    assert "status-tag--payment-awaiting" in text and "3,000円" in text
    act(client, "payment_record", sub, amount="3000")
    text = client.get(reverse("inbox:submission_list") + "?payment=paid").content.decode()
    assert sub.number in text and "status-tag--payment-paid" in text
