"""The review actions on a submission's page: start review, assign, return for correction
(差戻し) with the fields to correct, approve, reject with a reason, messages to the
resident and internal notes.

Each is a POST (CSRF-checked) to `submissions/<id>/actions/<action>/`, scoped like the
page itself (404 outside the user's departments), carried out by the core's review
services (which lock the row, check the transition table and write the outbox event) and
audited with ids, statuses and field keys only: never the text of a message or note. A
refused action renders the page again with the reason, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from forms_engine import services
from forms_engine.models import Submission
from forms_engine.services.review import TEXT_MAX
from inbox.audit import audit_log
from inbox.auth import staff_required
from inbox.scope import submission_for_staff_or_404

from .submissions import detail_context


@dataclass(frozen=True)
class Outcome:
    """What an action did, for the audit row (non-personal details only)."""

    audit: dict[str, Any]


Action = Callable[[HttpRequest, Submission], Outcome]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    def register(func: Action) -> Action:
        ACTIONS[name] = func
        return func

    return register


class Refused(Exception):
    """An action the form's input does not allow (no assignee that may see it, ...)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def refusal_message(exc: services.ReviewRefused) -> str:
    messages = {
        "not_allowed": _("This action is not possible in the submission's current status."),
        "no_fields": _("Choose at least one item for the applicant to correct."),
        "unknown_field": _("Choose only items of this application that the applicant answered."),
        "text_required": _("Write the text: it cannot be empty."),
        "text_too_long": _("The text is too long (at most %(max)s characters).")
        % {"max": f"{TEXT_MAX:,}"},
    }
    return messages.get(exc.code, _("This action is not possible."))


@action("start_review")
def _start_review(request: HttpRequest, submission: Submission) -> Outcome:
    before = submission.status
    services.submission_review_start(submission.pk, actor=request.user)
    return Outcome({"from": before, "to": Submission.Status.IN_REVIEW})


def assignable_staff(submission: Submission) -> list[Any]:
    """The staff who may handle the submission: members of its department and the
    organization's admins (everyone whose scope holds it), by name."""
    from inbox.models import StaffMembership

    user_ids = (
        StaffMembership.objects.filter(organization_id=submission.organization_id)
        .filter(department_id=submission.department_id)
        .values_list("user_id", flat=True)
        .union(
            StaffMembership.objects.filter(
                organization_id=submission.organization_id,
                role=StaffMembership.Role.ORGANIZATION_ADMIN,
            ).values_list("user_id", flat=True)
        )
    )
    return list(
        get_user_model()
        .objects.filter(pk__in=list(user_ids), is_active=True)
        .order_by("last_name", "first_name", "username")
    )


@action("assign")
def _assign(request: HttpRequest, submission: Submission) -> Outcome:
    choice = request.POST.get("assignee", "")
    if choice == "me":
        assignee = request.user
    elif choice == "":
        assignee = None
    else:
        wanted = int(choice) if choice.isdigit() and len(choice) < 12 else None
        assignee = next((u for u in assignable_staff(submission) if u.pk == wanted), None)
        if assignee is None:
            raise Refused(_("Choose a member of staff of this submission's department."))
    if assignee is not None:
        try:
            submission_for_staff_or_404(assignee, submission.pk)
        except Http404:
            raise Refused(_("Choose a member of staff of this submission's department.")) from None
    services.submission_assign(submission.pk, assignee, actor=request.user)
    return Outcome({"assignee": getattr(assignee, "pk", None)})


@action("return")
def _return(request: HttpRequest, submission: Submission) -> Outcome:
    fields = request.POST.getlist("fields")[:200]
    revision = services.submission_return(
        submission.pk, fields, request.POST.get("message", ""), actor=request.user
    )
    return Outcome({"fields": list(revision.fields), "revision": revision.pk})


@action("approve")
def _approve(request: HttpRequest, submission: Submission) -> Outcome:
    before = submission.status
    services.submission_approve(submission.pk, actor=request.user)
    return Outcome({"from": before, "to": Submission.Status.ACCEPTED})


@action("reject")
def _reject(request: HttpRequest, submission: Submission) -> Outcome:
    before = submission.status
    message = services.submission_reject(
        submission.pk, request.POST.get("reason", ""), actor=request.user
    )
    return Outcome({"from": before, "to": Submission.Status.REJECTED, "message": message.pk})


@action("message")
def _message(request: HttpRequest, submission: Submission) -> Outcome:
    message = services.submission_message_send(
        submission.pk, request.POST.get("body", ""), actor=request.user
    )
    return Outcome({"message": message.pk})


@action("note")
def _note(request: HttpRequest, submission: Submission) -> Outcome:
    note = services.submission_note_add(
        submission.pk, request.POST.get("body", ""), actor=request.user
    )
    return Outcome({"note": note.pk})


@never_cache
@require_POST
@staff_required
def submission_action(request: HttpRequest, submission_id: Any, name: str) -> HttpResponseBase:
    submission = submission_for_staff_or_404(request.user, submission_id)
    handler = ACTIONS.get(name)
    if handler is None:
        raise Http404
    try:
        outcome = handler(request, submission)
    except services.ReviewRefused as exc:
        return _refused(request, submission, name, refusal_message(exc), exc.code)
    except Refused as exc:
        return _refused(request, submission, name, exc.message, "refused")
    audit_log(request, f"submission.{name}", submission, **outcome.audit)
    return redirect(reverse("inbox:submission_detail", args=[submission.pk]) + "#actions")


def _refused(
    request: HttpRequest, submission: Submission, name: str, message: str, code: str
) -> HttpResponse:
    # The refusal is audited too: who tried what, and why it was refused.
    audit_log(
        request, f"submission.{name}.refused", submission, code=code, status=submission.status
    )
    submission.refresh_from_db()
    context = detail_context(request, submission)
    context["action_error"] = message
    context["action_failed"] = name
    if name == "return":
        context["return_fields"] = request.POST.getlist("fields")[:200]
        context["return_message"] = request.POST.get("message", "")[:TEXT_MAX]
    elif name == "reject":
        context["reject_reason"] = request.POST.get("reason", "")[:TEXT_MAX]
    elif name in ("message", "note"):
        context[f"{name}_body"] = request.POST.get("body", "")[:TEXT_MAX]
    return render(request, "inbox/submission_detail.html", context, status=409)
