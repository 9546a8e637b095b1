"""Drafts: a filing in progress, started on pinned versions and saved page by page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from forms_engine import models as m
from forms_engine.filing import FilingView, page_text_sizes, text_size

from .attachment_scans import without_discarded_files
from .errors import FilingError
from .procedures import procedure_acceptance, version_spec
from .selectors import draft_view


def draft_start(
    versions: list[m.ProcedureVersion],
    *,
    bundle_version: m.BundleVersion | None = None,
    resident: m.Resident | None = None,
) -> m.Draft:
    for version in versions:
        state = procedure_acceptance(version_spec(version), version.procedure)
        if state != "open":
            raise FilingError(state)
    with transaction.atomic():
        draft = m.Draft.objects.create(
            organization=versions[0].procedure.organization,
            bundle_version=bundle_version,
            resident=resident,
            version_ids=[v.pk for v in versions],
        )
        m.DraftVersion.objects.bulk_create(
            [m.DraftVersion(draft=draft, version=v, position=i) for i, v in enumerate(versions)]
        )
        if resident is not None:
            draft_prefill(draft, resident)
    return draft


def draft_prefill(draft: m.Draft, resident: m.Resident) -> None:
    """Once-only: fields with a `profile` key that are not answered yet start from the
    resident's saved profile. Runs when a filing starts signed in, and at sign-in."""
    profile = resident.profile or {}
    view = draft_view(draft)
    for position, spec in enumerate(view.specs):
        answers = view.answers_of(position)
        for f in spec.iter_fields(include_group_children=False):
            if f.profile and f.profile in profile and f.id not in answers:
                answers[f.id] = profile[f.profile]
    draft.resident = resident
    draft.save(update_fields=["answers", "resident"])


def _draft_lock_open(draft: m.Draft, *fields: str) -> m.Draft | None:
    """The draft re-read under its row lock (inside a transaction), or None once it is
    submitted: a late save must not write into a completed filing."""
    locked = m.Draft.objects.select_for_update().only("status", *fields).get(pk=draft.pk)
    return locked if locked.status == m.Draft.Status.OPEN else None


def draft_text_room(draft: m.Draft, step_key: str) -> int:
    """How many characters of text the page `step_key` may bring, given what the rest of
    the draft holds (settings.DRAFT_TEXT_MAX_CHARS in all). Never less than what the page
    holds now: a page that does not grow is never refused, even if the budget was lowered."""
    return _room(draft_view(draft), draft.pending, step_key)


def _room(view: FilingView, pending: dict[str, Any], step_key: str) -> int:
    sizes = page_text_sizes(view, pending)
    others = sum(size for key, size in sizes.items() if key != step_key)
    return max(settings.DRAFT_TEXT_MAX_CHARS - others, sizes.get(step_key, 0))


def _refuse_past_budget(locked: m.Draft, step_key: str, page_size: int) -> None:
    """The check again under the draft's row lock: two tabs saving at once cannot take the
    draft past its budget together. The view checked the same before reading the input."""
    if page_size > _room(draft_view(locked), locked.pending, step_key):
        raise FilingError("too_much_text")


def draft_save_page(
    draft: m.Draft, step_key: str, position: int, values: dict[str, Any], page_field_ids: list[str]
) -> None:
    """Store the cleaned answers of one page: fields of the page not in `values` (hidden
    ones) are removed, so a hidden answer is never kept. The draft is re-read under its
    lock, so two tabs saving different pages do not overwrite each other. Past the draft's
    text budget nothing is saved (FilingError "too_much_text")."""
    with transaction.atomic():
        locked = _draft_lock_open(draft, "answers", "pending", "version_ids")
        if locked is None:
            return
        _refuse_past_budget(
            locked, step_key, sum(text_size(v) for k, v in values.items() if k in page_field_ids)
        )
        answers = locked.answers.setdefault(str(position), {})
        values = without_discarded_files(values)
        for fid in page_field_ids:
            if fid in values and values[fid] is not None:
                answers[fid] = values[fid]
            else:
                answers.pop(fid, None)
        locked.pending.pop(step_key, None)
        now = timezone.now()
        m.Draft.objects.filter(pk=draft.pk).update(
            answers=locked.answers, pending=locked.pending, updated_at=now
        )
    draft.answers, draft.pending, draft.updated_at = locked.answers, locked.pending, now


def draft_save_pending(
    draft: m.Draft, step_key: str, raw: dict[str, Any], *, unless_changed_since: str = ""
) -> None:
    """Keep what was typed on a page that is not valid yet (Back, save for later, add an
    entry): nothing typed is lost, within the draft's text budget (FilingError
    "too_much_text" past it). `unless_changed_since` (the draft's `updated_at` when
    the page was shown) makes it a no-op if anything was saved since: the browser's
    keep-on-leave must not bring back older typing over a newer save from another tab."""
    with transaction.atomic():
        locked = _draft_lock_open(draft, "answers", "pending", "updated_at", "version_ids")
        if locked is None:
            return
        if unless_changed_since and locked.updated_at.isoformat() != unless_changed_since:
            return
        kept = without_discarded_files(_jsonable(raw))
        _refuse_past_budget(locked, step_key, text_size(kept))
        locked.pending[step_key] = kept
        now = timezone.now()
        m.Draft.objects.filter(pk=draft.pk).update(pending=locked.pending, updated_at=now)
    draft.pending, draft.updated_at = locked.pending, now


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        # A file input's raw value is {"kept": [...], "new": [uploads]}: the uploads are
        # stored already (kept), the file objects themselves cannot be kept.
        is_file = "kept" in value
        return {
            k: _jsonable(v) for k, v in value.items() if not (is_file and k in ("new", "refused"))
        }
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return None
