"""Submissions: completing a draft into one receipt, one submission per procedure and an
outbox event for each (`submission.completed`, and `submission.files_ready` when none of
its files waits for its scan), in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine.fields import FIELD_TYPES, Ctx
from forms_engine.filing import FEE_LIMIT, FilingView, fee_lines, process_page
from forms_engine.normalize import name_search_text
from forms_engine.outbox import outbox_emit_many
from forms_engine.procedure_format.model import ProcedureSpec
from forms_engine.topics import SUBMISSION_COMPLETED

from .attachments import attachment_forget
from .errors import FilingError
from .payment_state import payment_mark_awaiting
from .procedures import procedure_acceptance, start_rows_forget, version_spec
from .receipts import new_receipt_number, status_code_for, status_code_hash
from .selectors import draft_versions, draft_view, procedure_version_get
from .submission_readiness import submission_files_ready_announce, submission_new_ready_events


@dataclass
class Completion:
    receipt: m.Receipt
    status_code: str | None  # shown once; None when this call found the filing already done
    submissions: list[m.Submission]


def submission_complete(
    draft_id,
    *,
    save_to_profile: bool = False,
    language: str = "ja",
    client_kind: str = m.Submission.ClientKind.UNKNOWN,
) -> Completion:
    """Complete a draft: one receipt, one submission per procedure, each with an outbox
    event, all in one transaction. Idempotent: a double tap returns the first result.
    `client_kind` is the kind of device it was completed on (forms_engine.client_kind)."""
    if client_kind not in m.Submission.ClientKind.values:
        client_kind = m.Submission.ClientKind.UNKNOWN
    for attempt in range(3):
        try:
            return _complete(draft_id, save_to_profile, language, client_kind)
        except IntegrityError:
            # A receipt number already taken (one in 20^12): the whole transaction rolled
            # back, so drawing a new number and trying again files exactly once.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _complete(draft_id, save_to_profile: bool, language: str, client_kind: str) -> Completion:
    with transaction.atomic():
        draft = m.Draft.objects.select_for_update().get(pk=draft_id)
        if draft.status == m.Draft.Status.SUBMITTED:
            receipt = draft.receipt
            assert receipt is not None  # a submitted draft always has its receipt
            return Completion(receipt, None, list(receipt.submissions.order_by("number")))
        versions = draft_versions(draft)
        view = draft_view(draft)
        view.apply_shared()
        problems = view_problems(view)
        if problems:
            raise FilingError("incomplete", problems[0], step_key=problems[0].split(":")[0])
        _acceptance_claim(versions)

        number = new_receipt_number()
        status_code = status_code_for(number)
        receipt = m.Receipt.objects.create(
            number=number,
            status_code_hash=status_code_hash(status_code),
            bundle_version_id=draft.bundle_version_id,
            language=language,
        )
        submissions = []
        file_ids: list[str] = []
        # Events are written together (outbox_emit_many: two statements), in the order
        # they were written one by one: each submission's `completed`, then its payment
        # and readiness events.
        events: list[tuple[str, m.Submission, dict]] = []
        for position, version in enumerate(versions):
            spec = version_spec(version)
            answers = view.visible_answers(position)
            lines = fee_lines(spec, answers, "ja")
            total = sum(line["subtotal"] for line in lines)
            if total > FEE_LIMIT:
                raise FilingError("fee_invalid")
            awaiting = spec.fee is not None and spec.fee.timing == "before_review" and total > 0
            status = (
                m.Submission.Status.AWAITING_PAYMENT if awaiting else m.Submission.Status.SUBMITTED
            )
            number = receipt.number if len(versions) == 1 else f"{receipt.number}-{position + 1}"
            sub = m.Submission.objects.create(
                receipt=receipt,
                number=number,
                draft=draft,
                organization_id=version.procedure.organization_id,
                department_id=version.department_id,
                procedure_id=version.procedure_id,
                procedure_version_id=version.pk,
                status=status,
                answers=answers,
                contact_email=answers.get(spec.contact_email, ""),
                fee_total=total,
                fee_lines=lines,
                client_kind=client_kind,
                name_search=submission_name_search(spec, answers),
            )
            # Only files that are part of the answers go with the submission: a file
            # uploaded for a field that later became hidden is dropped with its answer.
            ids = _file_ids(spec, answers)
            if ids:
                m.Attachment.objects.filter(draft=draft, pk__in=ids).update(submission=sub)
                file_ids.extend(ids)
            events.append((SUBMISSION_COMPLETED, sub, {"status": status, "fee_total": total}))
            if awaiting or ids:
                outbox_emit_many(events)
                events = []
            if awaiting:
                payment_mark_awaiting(sub.pk, amount=total)
            # Its files are settled already (none, or all scanned): it may be handed on.
            # Otherwise the scan of its last waiting file writes this event.
            if ids:
                submission_files_ready_announce(sub.pk)
            else:
                events.extend(submission_new_ready_events(sub))
            submissions.append(sub)
        outbox_emit_many(events)
        if save_to_profile and draft.resident is not None:
            _profile_save(draft.resident, view)
        if any(f.type == "file" for v in versions for f in version_spec(v).iter_fields()):
            orphans = list(m.Attachment.objects.filter(draft=draft).exclude(pk__in=file_ids))
            for orphan in orphans:
                orphan.delete()
            # Through the store: an unfinished direct upload is aborted too.
            gone = [(o.storage_key, o.upload_id) for o in orphans]
            transaction.on_commit(lambda: _forget_all(gone))
        m.Draft.objects.filter(pk=draft.pk).update(
            status=m.Draft.Status.SUBMITTED, receipt=receipt, pending={}, updated_at=timezone.now()
        )
        draft.status, draft.receipt = m.Draft.Status.SUBMITTED, receipt
        # The receipt mail leaves the request: the receipt-mail outbox consumer sends it
        # (services/receipt_mails.py), kicked when this transaction commits.
    return Completion(receipt, status_code, submissions)


def _forget_all(files: list[tuple[str, str]]) -> None:
    for key, upload_id in files:
        attachment_forget(key, upload_id)


def _acceptance_claim(versions: list[m.ProcedureVersion]) -> None:
    """Check the acceptance window of each procedure now and take a place where it has a
    capacity. The window and capacity are the procedure's rules now, read from its live
    version; the pages stay those of the version the filing started on."""
    # No ordering: the model's default (by organization slug) would join organizations.
    rows = (
        m.Procedure.objects.filter(pk__in=[v.procedure_id for v in versions])
        .order_by()
        .values_list("pk", "live_version_id", "unpublished_at")
    )
    live = {pk: live_id for pk, live_id, _u in rows}
    if any(unpublished is not None for _pk, _l, unpublished in rows):
        # Taken down by its organization: a draft in progress cannot be submitted.
        raise FilingError("unpublished")
    # Rows are locked in procedure order, so two bundles naming the same procedures in
    # another order cannot deadlock.
    for version in sorted(versions, key=lambda v: v.procedure_id):
        live_id = live.get(version.procedure_id) or version.pk
        spec = version_spec(procedure_version_get(live_id))
        state = procedure_acceptance(spec)
        if state != "open":
            raise FilingError(state)
        if spec.accepting.capacity is not None:
            # The row lock serialises concurrent completions of this procedure; the count
            # is checked and raised under it.
            procedure = m.Procedure.objects.select_for_update().get(pk=version.procedure_id)
            if procedure.filed_count >= spec.accepting.capacity:
                raise FilingError("full")
            m.Procedure.objects.filter(pk=procedure.pk).update(
                filed_count=procedure.filed_count + 1
            )
            # "full" on this worker's start page once this filing has committed (before,
            # another thread could keep the old count for a second).
            transaction.on_commit(start_rows_forget)


def submission_name_search(spec: ProcedureSpec, answers: dict[str, Any]) -> str:
    """The search keys of the resident's name (the top-level `name` fields), for staff."""
    names = [
        answers[f.id]
        for page in spec.pages
        for f in page.fields
        if f.type == "name" and isinstance(answers.get(f.id), dict)
    ]
    return name_search_text(names)


def _file_ids(spec: ProcedureSpec, answers: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    for page in spec.pages:
        for f in page.fields:
            value = answers.get(f.id)
            if f.type == "file":
                ids.extend(v["id"] for v in value or [] if isinstance(v, dict) and "id" in v)
            elif f.type == "group":
                for entry in value or []:
                    for c in f.fields:
                        if c.type == "file":
                            items = (entry or {}).get(c.id) or []
                            ids.extend(v["id"] for v in items if isinstance(v, dict) and "id" in v)
    return ids


def view_problems(view: FilingView) -> list[str]:
    """Re-validate every visible page of the filing; messages for what is missing."""
    problems = []
    for step in view.steps():
        answers = view.answers_of(step.position)
        data = _as_post(view, step, answers)
        ctx = Ctx(lang="ja", files=data.pop("__files__"))
        result = process_page(view, step, data, ctx)
        if result.errors:
            problems.append(f"{step.key}: {sorted(result.errors)[0]}")
        else:
            for fid, value in result.values.items():
                if value is None:
                    answers.pop(fid, None)  # unanswered is absent, as when the page was saved
                else:
                    answers[fid] = value
    return problems


def _as_post(view: FilingView, step, answers: dict[str, Any]) -> dict[str, Any]:
    """The stored answers of a page as the POST data that would have produced them."""
    data: dict[str, Any] = {}
    files: dict[str, list] = {}

    def put(f, value, name):
        ftype = FIELD_TYPES[f.type]
        raw = ftype.to_raw(f, value)
        if f.type == "file":
            files[name] = list(value or [])
        elif f.type == "group":
            data[f"{name}-count"] = str(len(raw))
            for i, entry in enumerate(value or []):
                for c in f.fields:
                    put(c, (entry or {}).get(c.id), f"{name}-{i}-{c.id}")
        elif isinstance(raw, dict):
            for part, v in raw.items():
                data[f"{name}-{part}"] = v
        else:
            data[name] = raw

    for f in step.page.fields:
        put(f, answers.get(f.id), f"f-{f.id}")
    data["__files__"] = files
    return _MultiDict(data)


class _MultiDict(dict):
    def getlist(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


def _profile_save(resident: m.Resident, view: FilingView) -> None:
    profile = dict(resident.profile or {})
    saved: set[str] = set()
    for position, spec in enumerate(view.specs):
        answers = view.visible_answers(position)
        for f in spec.iter_fields(include_group_children=False):
            # The first field asking a key speaks for the resident (a later one sharing the
            # key may be a contact person's): it alone is saved back.
            if f.profile and f.profile not in saved and answers.get(f.id) is not None:
                profile[f.profile] = answers[f.id]
                saved.add(f.profile)
    resident.profile = profile
    resident.save(update_fields=["profile"])
