"""The review workflow of a submission (受付 -> 審査中 -> 差戻し -> 再提出 -> 承認/却下, and the
resident's 取下げ): every state change is a function here, used by the staff inbox and by
the resident's status page alike.

Each change locks the submission's row, checks the transition table (anything not in it
raises `ReviewRefused`), and writes a `submission.<transition>` outbox event in the same
transaction: ids, statuses, the acting staff user's id and field keys; never an answer or
the text of a message (the message's id stands for it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_engine import models as m
from forms_engine.filing import FilingView, Step, holds
from forms_engine.outbox import outbox_emit
from forms_engine.procedure_format.model import FieldSpec, PageSpec, ProcedureSpec, Text

from .procedures import version_spec

S = m.Submission.Status

#: action -> (the statuses it may start from, the status it leads to). Nothing else moves a
#: submission's status in the workflow.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "review_started": (frozenset({S.SUBMITTED, S.RESUBMITTED}), S.IN_REVIEW),
    "returned": (frozenset({S.IN_REVIEW, S.RESUBMITTED}), S.RETURNED),
    "resubmitted": (frozenset({S.RETURNED}), S.RESUBMITTED),
    "approved": (frozenset({S.IN_REVIEW, S.RESUBMITTED}), S.ACCEPTED),
    "rejected": (frozenset({S.IN_REVIEW, S.RESUBMITTED}), S.REJECTED),
    "withdrawn": (frozenset({S.SUBMITTED, S.RETURNED}), S.WITHDRAWN),
}

#: Statuses where the work is over: no assignment, no more transitions.
FINAL = frozenset({S.ACCEPTED, S.REJECTED, S.WITHDRAWN})

#: Longest staff message, reason or note (characters).
TEXT_MAX = 5000

#: Field types a reviewer may not name for correction: text shown, not asked. (A group
#: holding file inputs is not correctable either: see `_correctable`.)
CORRECTABLE_EXCLUDED = frozenset({"static"})

#: The history of a submission as outbox topics, with their labels (the inbox timeline and
#: the status page render them; registered in forms_engine.topics). The resident sees only
#: RESIDENT_TOPICS.
TOPIC_LABELS = {
    "submission.review_started": _("Review started"),
    "submission.assigned": _("Assigned to a reviewer"),
    "submission.returned": _("Returned for correction"),
    "submission.resubmitted": _("Corrected and resubmitted"),
    "submission.approved": _("Approved"),
    "submission.rejected": _("Rejected"),
    "submission.withdrawn": _("Withdrawn"),
    "submission.message_sent": _("Message to the applicant"),
    "submission.note_added": _("Internal note added"),
}
RESIDENT_TOPICS = frozenset(
    {
        "submission.completed",
        "submission.review_started",
        "submission.returned",
        "submission.resubmitted",
        "submission.approved",
        "submission.rejected",
        "submission.withdrawn",
        "submission.message_sent",
    }
)


class ReviewRefused(Exception):
    """A workflow action that cannot be done. `code`: not_allowed (the transition table
    refuses it from the current status), no_fields, unknown_field, text_required,
    text_too_long, incomplete (the corrected answers leave the filing incomplete),
    not_requested (a correction of a field that was not asked for), unknown_file (a file
    value that is not this field's file)."""

    def __init__(self, code: str, *, status: str = "", action: str = "", detail: str = ""):
        self.code = code
        self.status = status
        self.action = action
        self.detail = detail
        super().__init__(f"{code}: {action} from {status} {detail}".strip())


def allowed_actions(status: str) -> list[str]:
    """The transitions the table allows from `status`, in table order."""
    return [action for action, (sources, _to) in TRANSITIONS.items() if status in sources]


def _emit(topic: str, submission: m.Submission, **payload: Any) -> m.OutboxEvent:
    return outbox_emit(topic, submission, **payload)


def _actor_id(actor: Any) -> int | None:
    return getattr(actor, "pk", None) if actor is not None else None


def _locked(submission_id: uuid.UUID | str) -> m.Submission:
    """The submission, its row locked until the caller's transaction ends."""
    return m.Submission.objects.select_for_update().get(pk=submission_id)


def _move(submission: m.Submission, action: str, actor: Any, **payload: Any) -> m.OutboxEvent:
    """Check the transition table and move the locked `submission`; writes the event."""
    sources, target = TRANSITIONS[action]
    if submission.status not in sources:
        raise ReviewRefused("not_allowed", status=submission.status, action=action)
    previous = submission.status
    submission.status = target
    fields = ["status"]
    if target in (S.ACCEPTED, S.REJECTED):
        submission.decided_at = timezone.now()
        fields.append("decided_at")
    submission.save(update_fields=fields)
    return _emit(
        f"submission.{action}",
        submission,
        **{"from": previous, "to": target, "actor": _actor_id(actor), **payload},
    )


def _text(value: str, *, required: bool = True) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise ReviewRefused("text_required")
    if len(text) > TEXT_MAX:
        raise ReviewRefused("text_too_long", detail=str(TEXT_MAX))
    return text


# ---- staff -------------------------------------------------------------------------------


def submission_review_start(submission_id: uuid.UUID | str, *, actor: Any) -> m.Submission:
    """受付 (or 再提出) -> 審査中."""
    with transaction.atomic():
        submission = _locked(submission_id)
        _move(submission, "review_started", actor)
    return submission


def submission_assign(submission_id: uuid.UUID | str, assignee: Any, *, actor: Any) -> m.Submission:
    """Assign the submission to a member of staff (None: unassign). Whether the assignee
    may see it is the caller's check (the inbox knows the departments)."""
    with transaction.atomic():
        submission = _locked(submission_id)
        if submission.status in FINAL:
            raise ReviewRefused("not_allowed", status=submission.status, action="assigned")
        submission.assigned_to = assignee
        submission.save(update_fields=["assigned_to"])
        _emit(
            "submission.assigned",
            submission,
            actor=_actor_id(actor),
            assignee=_actor_id(assignee),
        )
    return submission


def correctable_fields(spec: ProcedureSpec, answers: Mapping[str, Any]) -> list[FieldSpec]:
    """The fields of the submission's own version a reviewer may name for correction: the
    visible ones (visible pages, conditions holding on its answers) that take input,
    in page order."""
    view = FilingView([spec], {"0": dict(answers)})
    visible: list[FieldSpec] = []
    for step in view.steps():
        env = view.env(0)
        for f in step.page.fields:
            if _correctable(f) and holds(f.show_if, env, view.today):
                visible.append(f)
    return visible


def _correctable(f: FieldSpec) -> bool:
    # Files inside a group's entries are not: their new files could not be told apart
    # from the entries' old ones once entries are added or removed.
    if f.type in CORRECTABLE_EXCLUDED:
        return False
    return not (f.type == "group" and any(c.type == "file" for c in f.fields))


def submission_position(submission: m.Submission) -> int:
    """The submission's place in its filing (a bundle files several procedures from one
    draft): the position its draft's answers and attachment keys use."""
    ids = list(submission.draft.version_ids or [])
    return (
        ids.index(submission.procedure_version_id) if submission.procedure_version_id in ids else 0
    )


def correction_file_store(submission: m.Submission, f: FieldSpec, upload: Any) -> dict:
    """Store a file the resident attaches to a correction: the filing's own upload path
    (size and content checks, quarantine, malware scan). The file joins the submission
    when the correction is sent; until then it belongs to the filing's draft only."""
    from .attachments import attachment_store

    return attachment_store(submission.draft, submission_position(submission), f, upload)


def _check_files(
    submission: m.Submission, spec: ProcedureSpec, corrected: Mapping[str, Any]
) -> list[str]:
    """The new attachment ids of the corrected file answers; refuses any file value that
    is neither an answer the submission had nor a file stored for this field of its draft
    and not yet part of a submission."""
    position = submission_position(submission)
    new_ids: list[str] = []
    for field_id, value in corrected.items():
        f = spec.field(field_id)
        if f is None or f.type != "file" or not value:
            continue
        before = {str(v.get("id")) for v in submission.answers.get(field_id) or []}
        wanted = [str(v.get("id")) for v in value if isinstance(v, dict)]
        fresh = [i for i in wanted if i not in before]
        found = set(
            str(pk)
            for pk in m.Attachment.objects.filter(
                draft_id=submission.draft_id,
                field_key=f"{position}.{field_id}",
                submission__isnull=True,
                pk__in=fresh,
            ).values_list("pk", flat=True)
        )
        if len(found) != len(fresh) or len(wanted) != len(value):
            raise ReviewRefused("unknown_file", detail=field_id)
        new_ids.extend(fresh)
    return new_ids


def submission_spec(submission: m.Submission) -> ProcedureSpec:
    return version_spec(submission.procedure_version)


def submission_return(
    submission_id: uuid.UUID | str, fields: Iterable[str], message: str, *, actor: Any
) -> m.SubmissionRevision:
    """差戻し: ask the resident to correct `fields` (ids of visible fields of the
    submission's own version), with a message. 審査中 (or 再提出) -> 差戻し."""
    text = _text(message)
    wanted = list(dict.fromkeys(fields))
    if not wanted:
        raise ReviewRefused("no_fields")
    with transaction.atomic():
        submission = _locked(submission_id)
        sources, _target = TRANSITIONS["returned"]
        if submission.status not in sources:
            raise ReviewRefused("not_allowed", status=submission.status, action="returned")
        spec = submission_spec(submission)
        allowed = [f.id for f in correctable_fields(spec, submission.answers)]
        unknown = [f for f in wanted if f not in allowed]
        if unknown:
            raise ReviewRefused("unknown_field", detail=",".join(unknown)[:200])
        ordered = [f for f in allowed if f in wanted]
        note = m.SubmissionMessage.objects.create(
            submission=submission, kind=m.SubmissionMessage.Kind.RETURN, body=text, author=actor
        )
        revision = m.SubmissionRevision.objects.create(
            submission=submission, fields=ordered, message=note, requested_by=actor
        )
        _move(submission, "returned", actor, fields=ordered, message=note.pk, revision=revision.pk)
    return revision


def submission_approve(submission_id: uuid.UUID | str, *, actor: Any) -> m.Submission:
    """承認: 審査中 (or 再提出) -> 承認; sets decided_at."""
    with transaction.atomic():
        submission = _locked(submission_id)
        _move(submission, "approved", actor)
    return submission


def submission_reject(
    submission_id: uuid.UUID | str, reason: str, *, actor: Any
) -> m.SubmissionMessage:
    """却下 with a reason the resident is told: 審査中 (or 再提出) -> 却下; sets decided_at."""
    text = _text(reason)
    with transaction.atomic():
        submission = _locked(submission_id)
        sources, _target = TRANSITIONS["rejected"]
        if submission.status not in sources:
            raise ReviewRefused("not_allowed", status=submission.status, action="rejected")
        note = m.SubmissionMessage.objects.create(
            submission=submission, kind=m.SubmissionMessage.Kind.REJECTION, body=text, author=actor
        )
        _move(submission, "rejected", actor, message=note.pk)
    return note


def submission_message_send(
    submission_id: uuid.UUID | str, body: str, *, actor: Any
) -> m.SubmissionMessage:
    """A message to the resident (status page and mail), in any status but withdrawn."""
    text = _text(body)
    with transaction.atomic():
        submission = _locked(submission_id)
        if submission.status == S.WITHDRAWN:
            raise ReviewRefused("not_allowed", status=submission.status, action="message_sent")
        message = m.SubmissionMessage.objects.create(
            submission=submission, kind=m.SubmissionMessage.Kind.MESSAGE, body=text, author=actor
        )
        _emit("submission.message_sent", submission, actor=_actor_id(actor), message=message.pk)
    return message


def submission_note_add(
    submission_id: uuid.UUID | str, body: str, *, actor: Any
) -> m.SubmissionNote:
    """An internal note: staff only, never shown or mailed to the resident."""
    text = _text(body)
    with transaction.atomic():
        submission = _locked(submission_id)
        note = m.SubmissionNote.objects.create(submission=submission, body=text, author=actor)
        _emit("submission.note_added", submission, actor=_actor_id(actor), note=note.pk)
    return note


# ---- the resident ------------------------------------------------------------------------


def open_revision(submission: m.Submission) -> m.SubmissionRevision | None:
    """The return for correction the resident has to answer now, if any."""
    if submission.status != S.RETURNED:
        return None
    return submission.revisions.filter(resubmitted_at__isnull=True).order_by("-pk").first()


def correction_field_ids(spec: ProcedureSpec, field_ids: Iterable[str]) -> list[str]:
    """The named fields and the fields whose condition depends on them (transitively), in
    page order: a corrected answer may show a question that was hidden (a copy now wanted:
    how to receive it) or hide one. The dependents show on the correction form only when
    their condition holds, as on the filing's own pages."""
    wanted = set(field_ids)
    fields = [f for page in spec.pages for f in page.fields]
    grew = True
    while grew:
        grew = False
        for f in fields:
            if f.id in wanted or not _correctable(f) or f.show_if is None:
                continue
            if set(getattr(f.show_if, "names", ())) & wanted:
                wanted.add(f.id)
                grew = True
    return [f.id for f in fields if f.id in wanted]


def correction_step(spec: ProcedureSpec, field_ids: Iterable[str]) -> Step:
    """A page holding only the named fields (and the fields depending on them), in page
    order, for the correction form: the field registry renders and validates it like any
    page of the filing."""
    wanted = set(correction_field_ids(spec, field_ids))
    named = tuple(f for page in spec.pages for f in page.fields if f.id in wanted)
    page = PageSpec(
        id="correction", title=Text({"ja": "修正", "en": "Correction"}), line=0, fields=named
    )
    return Step(0, page)


def correction_view(submission: m.Submission) -> FilingView:
    return FilingView([submission_spec(submission)], {"0": dict(submission.answers)})


def submission_resubmit(
    submission_id: uuid.UUID | str, corrected: Mapping[str, Any]
) -> m.SubmissionRevision:
    """The resident's corrected answers of the named fields (cleaned values, as
    `process_page` returns them; an absent or None value clears an optional answer):
    差戻し -> 再提出. The answers before and after are kept on the revision. The whole
    submission is validated again: a correction that leaves it incomplete (a condition now
    asking for an answer nobody named) is refused."""
    from .submissions import submission_name_search, view_problems

    with transaction.atomic():
        submission = _locked(submission_id)
        revision = open_revision(submission)
        if revision is None:
            raise ReviewRefused("not_allowed", status=submission.status, action="resubmitted")
        spec = submission_spec(submission)
        open_fields = correction_field_ids(spec, revision.fields)
        extra = [k for k in corrected if k not in open_fields]
        if extra:
            raise ReviewRefused("not_requested", detail=",".join(extra)[:200])
        new_files = _check_files(submission, spec, corrected)
        before = dict(submission.answers)
        merged = dict(before)
        for field_id in open_fields:
            value = corrected.get(field_id)
            if value is None:
                merged.pop(field_id, None)
            else:
                merged[field_id] = value
        view = FilingView([spec], {"0": merged})
        after = view.visible_answers(0)
        problems = view_problems(FilingView([spec], {"0": dict(after)}))
        if problems:
            raise ReviewRefused("incomplete", detail=problems[0].split(":")[0])
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        # The named fields, and any other answer the correction changed (a dependent
        # question answered, or dropped because the correction hid it).
        kept = [k for k in open_fields if k in revision.fields or k in changed]
        revision.previous_answers = {k: before[k] for k in kept if k in before}
        for k in changed:
            if k in before and k not in after:
                revision.previous_answers[k] = before[k]
        revision.corrected_answers = {k: after[k] for k in kept if k in after}
        revision.resubmitted_at = timezone.now()
        revision.save(update_fields=["previous_answers", "corrected_answers", "resubmitted_at"])
        submission.answers = after
        submission.contact_email = after.get(spec.contact_email, "")
        # A corrected name is found by its new spelling and reading in the staff inbox.
        submission.name_search = submission_name_search(spec, after)
        submission.save(update_fields=["answers", "contact_email", "name_search"])
        if new_files:
            # The new files join the submission; the replaced ones stay with it too (they
            # are the original version staff compare with), out of its answers.
            m.Attachment.objects.filter(pk__in=new_files).update(submission=submission)
        _move(
            submission,
            "resubmitted",
            None,
            revision=revision.pk,
            fields=revision.fields,
            changed=changed,
        )
    return revision


def submission_withdraw(submission_id: uuid.UUID | str) -> m.Submission:
    """取下げ by the resident, while 受付 or 差戻し."""
    with transaction.atomic():
        submission = _locked(submission_id)
        _move(submission, "withdrawn", None)
    return submission
