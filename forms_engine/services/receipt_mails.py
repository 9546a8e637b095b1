"""Receipt mails: one consumer of the outbox (`forms_engine.receipt_mails`, topic
`submission.completed`), never sent in the request, and retried through mail outages.

The consumer runs outside any transaction (`atomic=False`: a mail cannot be rolled back),
for the first submission of each receipt (a bundle's other submissions share its mail).
The receipt keeps the mail's visible state (pending, sent, no address, failed), its
attempts and its last error kind (the admin lists failed ones); the outbox row keeps when
it runs next: after a mail outage the handler asks for its next run with OutboxRetry,
after the delays below. Without a broker the consumer runs in-process right after the
filing commits; with one, a task does, kicked on commit and by beat.
"""

from __future__ import annotations

import contextvars
import logging
import smtplib
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from forms_engine import models as m
from forms_engine.outbox import OutboxRetry, outbox_consumer, outbox_dispatch, outbox_redo
from forms_engine.topics import SUBMISSION_COMPLETED

from .payment_details import payment_details
from .receipt_documents import receipt_document_bytes, receipt_document_filename
from .receipts import receipt_status_code

log = logging.getLogger(__name__)

RECEIPT_MAILS_CONSUMER = "forms_engine.receipt_mails"


# A mail outage is retried with doubling delays, capped, for about two days (attempts
# after 1, 2, 4, ... minutes, then every 4 hours); a mail that cannot be built is not
# retried. Either way a failed mail stays "failed" on its receipt (admin, log line),
# and `manage.py receipt_mails_retry` sends it again once the cause is fixed.
RECEIPT_MAIL_FIRST_RETRY = timedelta(minutes=1)
RECEIPT_MAIL_RETRY_CAP = timedelta(hours=4)
RECEIPT_MAIL_ATTEMPTS = 20
#: How often a receipt mail looks again for the PDF it waits for (a PDF worker's render).
RECEIPT_PDF_MAIL_POLL = timedelta(seconds=10)


def retry_delay(failures: int) -> timedelta:
    """How long to wait after the `failures`-th failed attempt in a row."""
    return min(RECEIPT_MAIL_FIRST_RETRY * 2 ** min(failures - 1, 20), RECEIPT_MAIL_RETRY_CAP)


#: How long a worker holds a mail it is sending: other workers leave the receipt alone
#: until then. Longer than a send can take (EMAIL_TIMEOUT per SMTP step); if the worker
#: dies meanwhile, the mail is tried again after it (sent at least once, as before).
RECEIPT_MAIL_LEASE = timedelta(minutes=10)

_sent: contextvars.ContextVar[int] = contextvars.ContextVar("receipt_mails_sent", default=0)


@outbox_consumer(
    RECEIPT_MAILS_CONSUMER,
    topics={SUBMISSION_COMPLETED},
    atomic=False,
    lease=RECEIPT_MAIL_LEASE,
    # The handler counts its own attempts (OutboxRetry); this only catches a fault of
    # ours that raises, row after row.
    max_attempts=RECEIPT_MAIL_ATTEMPTS,
)
def receipt_mail_on_completed(event: m.OutboxEvent) -> None:
    submission = event.submission
    if submission is None:
        return
    first = (
        m.Submission.objects.filter(receipt_id=submission.receipt_id)
        .order_by("number")
        .values_list("pk", flat=True)
        .first()
    )
    if first != submission.pk:
        return  # the receipt's first submission carries its mail
    receipt_mail_send(submission.receipt_id)


def receipt_mails_send(limit: int = 200) -> int:
    """Run the receipt-mail consumer now over what is due (as the beat schedule does);
    returns how many mails went out."""
    token = _sent.set(0)
    try:
        outbox_dispatch(RECEIPT_MAILS_CONSUMER, limit=limit)
        return _sent.get()
    finally:
        _sent.reset(token)


def receipt_mail_send(receipt_id) -> None:
    """Send one receipt's mail if it is due; raises OutboxRetry when it must be tried
    again later (an outage, or another worker sending it now). Safe to run in parallel
    and again after a failure: a receipt is marked sent only once its mail was handed to
    the mail server (at least once).

    No mail is sent inside a transaction: the receipt is claimed under a short row lock
    (its next attempt moved past RECEIPT_MAIL_LEASE, so no other worker takes it), the mail
    sent with no lock held (a mail server that does not answer holds a worker for
    EMAIL_TIMEOUT, never a row or a connection in a transaction), and its outcome
    recorded in a second short transaction."""
    if receipt_documents_pending(receipt_id):
        raise OutboxRetry(RECEIPT_PDF_MAIL_POLL, "pdf_pending")
    claimed = _receipt_mail_claim(receipt_id)
    if claimed is None:
        receipt = m.Receipt.objects.filter(pk=receipt_id).first()
        if receipt is not None and receipt.mail_status == m.Receipt.MailStatus.PENDING:
            # Leased by another worker now, or not due yet: look again when it may be.
            wait = max(receipt.mail_next_attempt_at - timezone.now(), timedelta(seconds=1))
            raise OutboxRetry(wait, receipt.mail_error or "mail_leased")
        return
    _receipt_mail_deliver(*claimed)
    receipt = m.Receipt.objects.get(pk=receipt_id)
    if receipt.mail_status == m.Receipt.MailStatus.PENDING:
        raise OutboxRetry(receipt.mail_next_attempt_at - timezone.now(), receipt.mail_error)


def _receipt_mail_claim(receipt_id) -> tuple[m.Receipt, EmailMessage, int] | None:
    """Under the receipt's row lock, briefly: the mail built and the receipt leased to this
    worker; None when another worker has it, it is not due, or it is settled here (no
    address, or a mail that cannot be built)."""
    with transaction.atomic():
        receipt = (
            m.Receipt.objects.select_for_update(skip_locked=True)
            .filter(
                pk=receipt_id,
                mail_status=m.Receipt.MailStatus.PENDING,
                mail_next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if receipt is None:
            return None
        attempts = receipt.mail_attempts + 1
        try:
            message = _receipt_mail(receipt)
            if message is not None:
                message.message()  # build it now: a mail that cannot be built is no outage
        except Exception as exc:
            _receipt_mail_failed(receipt, attempts, exc, permanent="cannot be built")
            return None
        if message is None:
            _receipt_update(receipt, mail_status=m.Receipt.MailStatus.NO_ADDRESS)
            return None
        _receipt_update(
            receipt,
            mail_attempts=attempts,
            mail_next_attempt_at=timezone.now() + RECEIPT_MAIL_LEASE,
        )
    return receipt, message, attempts


def _receipt_mail_deliver(receipt: m.Receipt, message: EmailMessage, attempts: int) -> int:
    """Send one claimed mail, outside any transaction; 1 if it went out."""
    try:
        message.send()
    except Exception as exc:
        _receipt_mail_failed(receipt, attempts, exc, permanent=smtp_refusal(exc))
        return 0
    _receipt_update(
        receipt,
        mail_status=m.Receipt.MailStatus.SENT,
        mail_attempts=attempts,
        mailed_at=timezone.now(),
        mail_error="",
    )
    _sent.set(_sent.get() + 1)
    return 1


def smtp_refusal(exc: BaseException) -> str:
    """Why the mail server refused this mail for good ("" when it is worth another try).

    A 5xx reply about the mail itself (every recipient refused, the message refused) will
    be the same next time: the mail is marked failed at once, visible in the admin. A 4xx
    reply (greylisting, a full mailbox for now), a dropped connection or a timeout is an
    outage and retried; so are 5xx replies about our own setup (authentication, the sender
    address), which a fix of the configuration ends: retried for two days, then failed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return "was refused by the mail server (recipient)"
        return ""
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused):
        return ""
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
        return "was refused by the mail server"
    return ""


def _receipt_mail_failed(
    receipt: m.Receipt, attempts: int, exc: Exception, *, permanent: str
) -> None:
    """`permanent`: why no retry can help ("" for an outage, retried with growing delays)."""
    # Ids, the error's class and where it was raised: never its message, which may hold
    # the address or the answers.
    error = type(exc).__name__
    if permanent or attempts >= RECEIPT_MAIL_ATTEMPTS:
        _receipt_update(
            receipt,
            mail_status=m.Receipt.MailStatus.FAILED,
            mail_attempts=attempts,
            mail_error=error[:100],
        )
        log.error(
            "receipt mail of receipt %s failed %s (%s at %s, attempt %s); marked failed: "
            "see Receipts in the admin, then manage.py receipt_mails_retry",
            receipt.pk,
            f"and {permanent}" if permanent else "through every retry",
            error,
            _raised_at(exc),
            attempts,
        )
        return
    next_attempt = timezone.now() + retry_delay(attempts)
    _receipt_update(
        receipt, mail_attempts=attempts, mail_error=error[:100], mail_next_attempt_at=next_attempt
    )
    log.warning(
        "receipt mail of receipt %s not sent (%s, attempt %s); next attempt at %s",
        receipt.pk,
        error,
        attempts,
        next_attempt.isoformat(timespec="seconds"),
    )


def _raised_at(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


def _receipt_update(receipt: m.Receipt, **fields) -> None:
    m.Receipt.objects.filter(pk=receipt.pk).update(**fields)


def receipt_mails_retry_failed() -> int:
    """Send the failed receipt mails again (after the mail server or the code that
    builds them was fixed): they become due now, with a fresh round of retries, and
    their outbox rows run again."""
    with transaction.atomic():
        failed = list(
            m.Receipt.objects.select_for_update()
            .filter(mail_status=m.Receipt.MailStatus.FAILED)
            .values_list("pk", flat=True)
        )
        count = m.Receipt.objects.filter(pk__in=failed).update(
            mail_status=m.Receipt.MailStatus.PENDING,
            mail_attempts=0,
            mail_next_attempt_at=timezone.now(),
        )
        outbox_redo(
            RECEIPT_MAILS_CONSUMER,
            m.OutboxEvent.objects.filter(
                topic=SUBMISSION_COMPLETED, submission__receipt_id__in=failed
            ),
        )
    return count


def _receipt_mail(receipt: m.Receipt) -> EmailMessage | None:
    """The mail telling the applicant the receipt number and status code, in their
    language, as text and HTML, with each submission's receipt PDF attached (once made)
    and a link to its status page; None when the filing gave no address to send it to.

    It holds what the resident typed or was told on screen only: the receipt number, the
    status code, the procedures' titles, the fee. No answer (the PDF attached holds them,
    as the resident wrote them, for the resident's own address only)."""
    language = receipt.language or "ja"
    status_code = receipt_status_code(receipt.number, receipt.status_code_hash)
    subs = list(
        receipt.submissions.select_related(
            "procedure_version", "organization", "receipt_document"
        ).order_by("number")
    )
    if not subs or not subs[0].contact_email:
        return None
    with override(language):
        unpaid = [s for s in subs if s.status == m.Submission.Status.AWAITING_PAYMENT]
        context = {
            "lang": language,
            "number": receipt.number,
            "code": status_code,
            "submissions": [
                {
                    "title": m.localized(s.procedure_version.title, language),
                    "number": s.number,
                    "url": settings.SITE_URL + reverse("status_submission", args=[s.pk]),
                    "pay_url": _pay_url(s, language) if s in unpaid else "",
                }
                for s in subs
            ],
            "lookup_url": settings.SITE_URL + reverse("status"),
            "unpaid_amount": f"{sum(s.fee_total for s in unpaid):,}" if unpaid else "",
            "organization": subs[0].organization,
            "organization_name": m.localized(subs[0].organization.name, language),
            "organization_contact": m.localized(subs[0].organization.contact, language),
        }
        documents = [(s, s.receipt_document) for s in subs if _has_document(s)]
        context["attached"] = bool(documents)
        text = render_to_string("forms_engine/mail/receipt.txt", context)
        html = render_to_string("forms_engine/mail/receipt.html", context)
        subject = _("Application received (%(number)s)") % {"number": receipt.number}
        message = EmailMultiAlternatives(subject, text, None, [subs[0].contact_email])
        message.attach_alternative(html, "text/html")
        for s, doc in documents:
            message.attach(
                receipt_document_filename(s, language),
                receipt_document_bytes(doc),
                "application/pdf",
            )
    return message


def _pay_url(submission: m.Submission, language: str) -> str:
    pay_url = payment_details(submission).get("pay_url")
    return f"{settings.SITE_URL}{pay_url}?lang={language}" if pay_url else ""


def _has_document(submission: m.Submission) -> bool:
    try:
        return submission.receipt_document is not None
    except m.ReceiptDocument.DoesNotExist:
        return False


def receipt_documents_pending(receipt_id) -> bool:
    """Whether a submission of the receipt still waits for its PDF, made by another worker
    (with a broker) within RECEIPT_PDF_MAIL_WAIT_SECONDS of filing: the mail waits for it,
    then goes with the status page link alone."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL:
        # In-process, the PDF is made before the mail (the consumers run in name order);
        # without a broker no worker makes it meanwhile.
        return False
    since = timezone.now() - timedelta(seconds=settings.RECEIPT_PDF_MAIL_WAIT_SECONDS)
    return m.Submission.objects.filter(
        receipt_id=receipt_id, receipt_document__isnull=True, submitted_at__gt=since
    ).exists()
