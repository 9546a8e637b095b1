"""Mails to the resident about the review of their submission (returned for correction,
correction received, approved, rejected, withdrawal confirmed, a message from the office),
in the language they filed in, as text and HTML.

An outbox consumer (`resident_mail_queue`) turns each workflow event into one
`ResidentMail` row, in the transaction that records the event as consumed (so once per
event); a polling task sends the rows with the receipt mail's retries and lease, never
inside a transaction and never from the request. The mail holds the procedure's title,
the receipt number, the status and what staff wrote: no answer, no name, no address.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from forms_engine import models as m
from forms_engine.background import run_soon
from forms_engine.fields import text_of

from .receipt_mails import (
    RECEIPT_MAIL_ATTEMPTS,
    RECEIPT_MAIL_LEASE,
    _raised_at,
    retry_delay,
    smtp_refusal,
)
from .review import submission_spec

log = logging.getLogger(__name__)

K = m.ResidentMail.Kind
MailStatus = m.Receipt.MailStatus

#: Outbox topic -> the mail it sends the resident.
MAIL_TOPICS: dict[str, str] = {
    "submission.returned": K.RETURNED,
    "submission.resubmitted": K.RESUBMITTED,
    "submission.approved": K.APPROVED,
    "submission.rejected": K.REJECTED,
    "submission.withdrawn": K.WITHDRAWN,
    "submission.message_sent": K.MESSAGE,
}


def resident_mail_queue(event: m.OutboxEvent) -> m.ResidentMail | None:
    """The outbox consumer: one mail row for a workflow event (again for the same event:
    the row already there). None when the event sends no mail or there is no address."""
    kind = MAIL_TOPICS.get(event.topic)
    if kind is None or event.submission_id is None:
        return None
    submission = m.Submission.objects.select_related("receipt").get(pk=event.submission_id)
    if not submission.contact_email:
        return None
    message_id = event.payload.get("message")
    mail, _created = m.ResidentMail.objects.get_or_create(
        event_id=event.pk,
        defaults={
            "submission": submission,
            "kind": kind,
            "message_id": message_id
            if m.SubmissionMessage.objects.filter(pk=message_id, submission=submission).exists()
            else None,
            "language": submission.receipt.language or "ja",
        },
    )
    transaction.on_commit(resident_mails_kick)
    return mail


def resident_mails_kick() -> None:
    """Embedded default (tasks in-process): send soon, in a background thread
    (TASKS_IN_BACKGROUND) or now. With a broker, beat polls the task."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return
    try:
        run_soon("resident_mails_send", resident_mails_send)
    except Exception:  # the event is consumed; the next run sends what is left
        log.exception("resident mails failed")


def resident_mails_send(limit: int = 200) -> int:
    """Send the due mails; returns how many went out (see receipt_mails_send: the same
    claim, send outside any transaction, record)."""
    due = list(
        m.ResidentMail.objects.filter(
            mail_status=MailStatus.PENDING, mail_next_attempt_at__lte=timezone.now()
        )
        .order_by("mail_next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for mail_id in due:
        claimed = _claim(mail_id)
        if claimed is not None:
            sent += _deliver(*claimed)
    return sent


def resident_mails_retry_failed() -> int:
    return m.ResidentMail.objects.filter(mail_status=MailStatus.FAILED).update(
        mail_status=MailStatus.PENDING, mail_attempts=0, mail_next_attempt_at=timezone.now()
    )


def _update(mail: m.ResidentMail, **fields) -> None:
    m.ResidentMail.objects.filter(pk=mail.pk).update(**fields)


def _claim(mail_id) -> tuple[m.ResidentMail, EmailMultiAlternatives, int] | None:
    with transaction.atomic():
        mail = (
            m.ResidentMail.objects.select_for_update(skip_locked=True)
            .filter(
                pk=mail_id,
                mail_status=MailStatus.PENDING,
                mail_next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if mail is None:
            return None
        attempts = mail.mail_attempts + 1
        try:
            message = resident_mail_message(mail)
            if message is not None:
                message.message()
        except Exception as exc:
            _failed(mail, attempts, exc, permanent="cannot be built")
            return None
        if message is None:
            _update(mail, mail_status=MailStatus.NO_ADDRESS)
            return None
        _update(
            mail, mail_attempts=attempts, mail_next_attempt_at=timezone.now() + RECEIPT_MAIL_LEASE
        )
    return mail, message, attempts


def _deliver(mail: m.ResidentMail, message: EmailMultiAlternatives, attempts: int) -> int:
    try:
        message.send()
    except Exception as exc:
        _failed(mail, attempts, exc, permanent=smtp_refusal(exc))
        return 0
    _update(
        mail,
        mail_status=MailStatus.SENT,
        mail_attempts=attempts,
        mailed_at=timezone.now(),
        mail_error="",
    )
    return 1


def _failed(mail: m.ResidentMail, attempts: int, exc: Exception, *, permanent: str) -> None:
    error = type(exc).__name__  # never the message: it may hold the address
    if permanent or attempts >= RECEIPT_MAIL_ATTEMPTS:
        _update(mail, mail_status=MailStatus.FAILED, mail_attempts=attempts, mail_error=error)
        log.error(
            "resident mail %s failed %s (%s at %s, attempt %s); marked failed: see Resident "
            "mails in the admin, then manage.py resident_mails_retry",
            mail.pk,
            f"and {permanent}" if permanent else "through every retry",
            error,
            _raised_at(exc),
            attempts,
        )
        return
    next_attempt = timezone.now() + retry_delay(attempts)
    _update(mail, mail_attempts=attempts, mail_error=error, mail_next_attempt_at=next_attempt)
    log.warning(
        "resident mail %s not sent (%s, attempt %s); next attempt at %s",
        mail.pk,
        error,
        attempts,
        next_attempt.isoformat(timespec="seconds"),
    )


def _subject(kind: str, number: str) -> str:
    subjects: dict[str, str] = {
        K.RETURNED: _("Please correct your application (%(number)s)"),
        K.RESUBMITTED: _("Corrected application received (%(number)s)"),
        K.APPROVED: _("Your application was approved (%(number)s)"),
        K.REJECTED: _("Your application was rejected (%(number)s)"),
        K.WITHDRAWN: _("Your application was withdrawn (%(number)s)"),
        K.MESSAGE: _("A message about your application (%(number)s)"),
    }
    return subjects[kind] % {"number": number}


def resident_mail_message(mail: m.ResidentMail) -> EmailMultiAlternatives | None:
    """The mail of one row, in its language; None without an address to send it to."""
    submission = m.Submission.objects.select_related("procedure_version__procedure").get(
        pk=mail.submission_id
    )
    if not submission.contact_email:
        return None
    language = mail.language or "ja"
    with override(language):
        fields: list[str] = []
        if mail.kind == K.RETURNED:
            revision = submission.revisions.filter(message_id=mail.message_id).first()
            spec = submission_spec(submission)
            for field_id in revision.fields if revision else []:
                f = spec.field(field_id)
                if f is not None:
                    fields.append(text_of(f.label, language))
        context = {
            "kind": mail.kind,
            "title": m.localized(submission.procedure_version.title, language),
            "number": submission.number,
            "status": submission.get_status_display(),
            "message": mail.message.body if mail.message_id and mail.message else "",
            "fields": fields,
            "url": settings.SITE_URL + reverse("status_submission", args=[submission.pk]),
            "organization": submission.procedure_version.procedure.organization,
        }
        text = render_to_string("forms_engine/mail/review.txt", context)
        html = render_to_string("forms_engine/mail/review.html", {**context, "lang": language})
        subject = _subject(mail.kind, submission.number)
    message = EmailMultiAlternatives(subject, text, None, [submission.contact_email])
    message.attach_alternative(html, "text/html")
    return message
