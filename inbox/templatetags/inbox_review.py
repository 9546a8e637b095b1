"""The review panel of a submission's page (templates/inbox/detail/actions.html): the
actions its status allows, the assignment, the field picker of a return for correction,
the corrections made (before and after), messages to the resident and internal notes."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from forms_engine import services
from forms_engine.fields import FIELD_TYPES, Ctx, text_of
from forms_engine.filing import display_group
from forms_engine.models import Submission
from forms_engine.procedure_format.model import FieldSpec
from forms_engine.services.review import FINAL
from inbox.views.workflow import assignable_staff

register = template.Library()


def _display(f: FieldSpec | None, value: Any, ctx: Ctx) -> str:
    if f is None:
        return ""
    if value is None:
        return ""
    if f.type == "group":
        return display_group(f, value or [], ctx)
    return FIELD_TYPES[f.type].display(f, value, ctx)


@register.inclusion_tag("inbox/detail/review_panel.html", takes_context=True)
def review_panel(context: template.Context) -> dict[str, Any]:
    submission: Submission = context["submission"]
    request = context["request"]
    lang = (get_language() or "ja").split("-")[0]
    spec = services.submission_spec(submission)
    ctx = Ctx(lang=lang, today=timezone.localdate(submission.submitted_at))
    allowed = services.allowed_actions(submission.status)
    chosen = set(context.get("return_fields") or [])
    picker = []
    if "returned" in allowed:
        pages = {f.id: page for page in spec.pages for f in page.fields}
        for f in services.correctable_fields(spec, submission.answers):
            page = pages.get(f.id)
            picker.append(
                {
                    "id": f.id,
                    "label": text_of(f.label, lang),
                    "page": page.title.get(lang) if page is not None else "",
                    "checked": f.id in chosen,
                }
            )
    corrections = []
    for revision in submission.revisions.select_related("message").order_by("requested_at", "id"):
        rows = []
        shown = list(revision.fields) + [
            k
            for k in [*revision.previous_answers, *revision.corrected_answers]
            if k not in revision.fields
        ]
        for field_id in dict.fromkeys(shown):
            named = spec.field(field_id)
            rows.append(
                {
                    "label": text_of(named.label, lang) if named is not None else field_id,
                    "before": mark_safe(
                        _display(named, revision.previous_answers.get(field_id), ctx)
                    ),
                    "after": mark_safe(
                        _display(named, revision.corrected_answers.get(field_id), ctx)
                    ),
                }
            )
        corrections.append({"revision": revision, "rows": rows})
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "submission": submission,
        "allowed": allowed,
        "final": submission.status in FINAL,
        "picker": picker,
        "staff": assignable_staff(submission) if submission.status not in FINAL else [],
        "corrections": corrections,
        "messages_to_resident": list(
            submission.messages.select_related("author").order_by("created_at", "id")
        ),
        "notes": list(submission.notes.select_related("author").order_by("created_at", "id")),
        "action_error": context.get("action_error", ""),
        "action_failed": context.get("action_failed", ""),
        "return_message": context.get("return_message", ""),
        "reject_reason": context.get("reject_reason", ""),
        "message_body": context.get("message_body", ""),
        "note_body": context.get("note_body", ""),
    }
