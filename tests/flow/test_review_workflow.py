"""The review workflow's services: each transition, every refused one, the correction's
audit trail and the outbox events they write."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from forms_engine import models as m
from forms_engine import services
from forms_engine.services.review import TRANSITIONS, ReviewRefused

from .conftest import file_completely

S = m.Submission.Status


@pytest.fixture
def filed(client, loaded):
    """A records-disclosure request (no fee before review): status 受付."""
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["osaka-pref", "records-disclosure"])
    )
    sub = draft.receipt.submissions.get()
    assert sub.status == S.SUBMITTED
    return sub


@pytest.fixture
def reviewer(db):
    return get_user_model().objects.create_user("reviewer-a", password="x" * 16)


def reload(sub):
    return m.Submission.objects.get(pk=sub.pk)


def topics(sub):
    return list(sub.events.order_by("id").values_list("topic", flat=True))


def _do(action, sub, actor):
    """Carry out one transition with valid arguments."""
    if action == "review_started":
        return services.submission_review_start(sub.pk, actor=actor)
    if action == "returned":
        return services.submission_return(
            sub.pk, ["phone"], "電話番号をご確認ください。", actor=actor
        )
    if action == "resubmitted":
        return services.submission_resubmit(sub.pk, {"phone": "06-6941-0351"})
    if action == "approved":
        return services.submission_approve(sub.pk, actor=actor)
    if action == "rejected":
        return services.submission_reject(sub.pk, "対象の文書が存在しません。", actor=actor)
    if action == "withdrawn":
        return services.submission_withdraw(sub.pk)
    raise AssertionError(action)


def test_the_whole_workflow_moves_through_each_transition_and_writes_its_events(filed, reviewer):
    services.submission_review_start(filed.pk, actor=reviewer)
    assert reload(filed).status == S.IN_REVIEW
    revision = services.submission_return(
        filed.pk, ["documents", "phone"], "電話番号と文書名をご確認ください。", actor=reviewer
    )
    sub = reload(filed)
    assert sub.status == S.RETURNED
    assert revision.fields == ["phone", "documents"]  # page order, not the order named
    assert revision.message.body == "電話番号と文書名をご確認ください。"
    assert revision.message.kind == m.SubmissionMessage.Kind.RETURN
    old_phone, old_documents = sub.answers["phone"], sub.answers["documents"]

    services.submission_resubmit(
        filed.pk, {"phone": "06-6941-0351", "documents": "令和6年度の議事録"}
    )
    sub = reload(filed)
    assert sub.status == S.RESUBMITTED
    assert (
        sub.answers["phone"] == "06-6941-0351" and sub.answers["documents"] == "令和6年度の議事録"
    )
    revision.refresh_from_db()
    assert revision.previous_answers == {"phone": old_phone, "documents": old_documents}
    assert revision.corrected_answers == {"phone": "06-6941-0351", "documents": "令和6年度の議事録"}
    assert revision.resubmitted_at is not None

    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_approve(filed.pk, actor=reviewer)
    sub = reload(filed)
    assert sub.status == S.ACCEPTED and sub.decided_at is not None

    assert topics(sub)[-5:] == [
        "submission.review_started",
        "submission.returned",
        "submission.resubmitted",
        "submission.review_started",
        "submission.approved",
    ]
    returned = sub.events.get(topic="submission.returned")
    assert returned.payload == {
        "submission": str(sub.pk),
        "from": S.IN_REVIEW,
        "to": S.RETURNED,
        "actor": reviewer.pk,
        "fields": ["phone", "documents"],
        "message": revision.message.pk,
        "revision": revision.pk,
    }
    resubmitted = sub.events.get(topic="submission.resubmitted")
    assert resubmitted.payload["actor"] is None
    # No answer and no message text in any payload.
    for event in sub.events.all():
        text = str(event.payload)
        for secret in ("06-6941-0351", "令和6年度の議事録", old_phone, "ご確認", "taro@example.jp"):
            assert secret not in text, (event.topic, secret)


def test_reject_keeps_the_reason_and_sets_the_decision_time(filed, reviewer):
    services.submission_review_start(filed.pk, actor=reviewer)
    message = services.submission_reject(filed.pk, "対象の文書が存在しません。", actor=reviewer)
    sub = reload(filed)
    assert sub.status == S.REJECTED and sub.decided_at is not None
    assert message.kind == m.SubmissionMessage.Kind.REJECTION
    event = sub.events.get(topic="submission.rejected")
    assert event.payload["message"] == message.pk and event.payload["actor"] == reviewer.pk


@pytest.mark.parametrize("status", [S.SUBMITTED, S.RETURNED])
def test_the_resident_withdraws_while_received_or_returned(filed, reviewer, status):
    if status == S.RETURNED:
        services.submission_review_start(filed.pk, actor=reviewer)
        services.submission_return(filed.pk, ["phone"], "確認してください。", actor=reviewer)
    services.submission_withdraw(filed.pk)
    sub = reload(filed)
    assert sub.status == S.WITHDRAWN and sub.decided_at is None
    assert sub.events.get(topic="submission.withdrawn").payload["from"] == status


REFUSED = [
    (action, status)
    for action, status in itertools.product(TRANSITIONS, S.values)
    if status not in TRANSITIONS[action][0]
]


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_every_transition_not_in_the_table_is_refused(filed, reviewer, action, status):
    m.Submission.objects.filter(pk=filed.pk).update(status=status)
    if status == S.RETURNED or action == "resubmitted":
        # A return the resident could answer, so only the status decides.
        m.SubmissionRevision.objects.create(submission=filed, fields=["phone"])
    before = m.OutboxEvent.objects.count()
    with pytest.raises(ReviewRefused) as refused:
        _do(action, filed, reviewer)
    assert refused.value.code == "not_allowed"
    sub = reload(filed)
    assert sub.status == status and sub.decided_at is None
    assert m.OutboxEvent.objects.count() == before
    assert not m.SubmissionMessage.objects.filter(submission=filed).exists()


def test_the_table_allows_exactly_the_workflow_of_the_issue():
    allowed = {a: sorted(services.allowed_actions(s)) for s in S.values for a in [s]}
    assert allowed == {
        S.AWAITING_PAYMENT: [],
        S.SUBMITTED: ["review_started", "withdrawn"],
        S.IN_REVIEW: ["approved", "rejected", "returned"],
        S.RETURNED: ["resubmitted", "withdrawn"],
        S.RESUBMITTED: ["approved", "rejected", "returned", "review_started"],
        S.ACCEPTED: [],
        S.REJECTED: [],
        S.WITHDRAWN: [],
    }


def test_a_return_names_only_visible_input_fields_of_the_submissions_version(filed, reviewer):
    services.submission_review_start(filed.pk, actor=reviewer)
    for fields, code in [
        ([], "no_fields"),
        (["nonexistent"], "unknown_field"),
        (["corporation_name"], "unknown_field"),  # hidden: the requester is a person
        (["privacy", "phone", "agreement_note"], "unknown_field"),
    ]:
        with pytest.raises(ReviewRefused) as refused:
            services.submission_return(filed.pk, fields, "確認してください。", actor=reviewer)
        assert refused.value.code == code, fields
    with pytest.raises(ReviewRefused) as refused:
        services.submission_return(filed.pk, ["phone"], "   ", actor=reviewer)
    assert refused.value.code == "text_required"
    with pytest.raises(ReviewRefused) as refused:
        services.submission_reject(filed.pk, "", actor=reviewer)
    assert refused.value.code == "text_required"
    assert reload(filed).status == S.IN_REVIEW
    assert not m.SubmissionRevision.objects.exists()
    ids = [
        f.id for f in services.correctable_fields(services.submission_spec(filed), filed.answers)
    ]
    assert "phone" in ids and "documents" in ids
    assert "corporation_name" not in ids and "privacy" in ids and "reference" in ids


def test_a_resubmission_changes_only_the_named_fields(filed, reviewer):
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(filed.pk, ["phone"], "確認してください。", actor=reviewer)
    with pytest.raises(ReviewRefused) as refused:
        services.submission_resubmit(filed.pk, {"phone": "06-6941-0351", "email": "x@example.jp"})
    assert refused.value.code == "not_requested"
    with pytest.raises(ReviewRefused) as refused:
        services.submission_resubmit(filed.pk, {"phone": None})  # a required answer gone
    assert refused.value.code == "incomplete"
    sub = reload(filed)
    assert sub.status == S.RETURNED and sub.answers == filed.answers


def test_a_corrected_email_becomes_the_contact_address(filed, reviewer):
    services.submission_review_start(filed.pk, actor=reviewer)
    services.submission_return(filed.pk, ["email"], "確認してください。", actor=reviewer)
    services.submission_resubmit(filed.pk, {"email": "hanako@example.jp"})
    assert reload(filed).contact_email == "hanako@example.jp"


def test_messages_and_internal_notes(filed, reviewer):
    message = services.submission_message_send(
        filed.pk, "書類を追加でお送りください。", actor=reviewer
    )
    note = services.submission_note_add(filed.pk, "電話で確認済み", actor=reviewer)
    assert message.kind == m.SubmissionMessage.Kind.MESSAGE and message.author == reviewer
    assert note.submission_id == filed.pk
    assert topics(reload(filed))[-2:] == ["submission.message_sent", "submission.note_added"]
    for event in filed.events.all():
        assert "電話で確認済み" not in str(event.payload)
        assert "書類を追加" not in str(event.payload)
    services.submission_withdraw(filed.pk)
    with pytest.raises(ReviewRefused):
        services.submission_message_send(filed.pk, "もう一度", actor=reviewer)


def test_text_longer_than_the_limit_is_refused(filed, reviewer):
    with pytest.raises(ReviewRefused) as refused:
        services.submission_note_add(filed.pk, "あ" * 5001, actor=reviewer)
    assert refused.value.code == "text_too_long"
