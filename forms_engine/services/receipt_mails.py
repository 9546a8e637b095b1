"""Receipt mails: sent by a polling task after the filing committed, never in the request."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from forms_engine import models as m

from .receipts import status_code_for

log = logging.getLogger(__name__)


def receipt_mails_kick() -> None:
    """Embedded default (tasks in-process): send the mail now. With a broker, Celery beat
    runs the task every few seconds (CELERY_BEAT_SCHEDULE) and the request does nothing."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return
    try:
        receipt_mails_send()
    except Exception:  # the filing is committed; the next run sends what is left
        log.exception("receipt mails failed")


def receipt_mails_send(limit: int = 200) -> int:
    """Send the receipt mails not sent yet; returns how many went out. Safe to run in
    parallel (rows are locked, others skipped) and again after a failure: a receipt is
    marked only once its mail was handed to the mail server (at least once, in order)."""
    sent = 0
    pending = list(
        m.Receipt.objects.filter(mailed_at__isnull=True, mail_attempts__lt=RECEIPT_MAIL_ATTEMPTS)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for receipt_id in pending:
        try:
            with transaction.atomic():
                receipt = (
                    m.Receipt.objects.select_for_update(skip_locked=True)
                    .filter(pk=receipt_id, mailed_at__isnull=True)
                    .first()
                )
                if receipt is None:
                    continue
                _receipt_mail(receipt)
                m.Receipt.objects.filter(pk=receipt.pk).update(mailed_at=timezone.now())
        except Exception:  # the next run tries again; one bad receipt holds back no other
            attempts = _mail_attempt_count(receipt_id)
            if attempts >= RECEIPT_MAIL_ATTEMPTS:
                log.error(
                    "receipt mail of receipt %s failed %s times; giving up", receipt_id, attempts
                )
            else:
                log.warning(
                    "receipt mail of receipt %s failed; will retry", receipt_id, exc_info=True
                )
            continue
        sent += 1
    return sent


RECEIPT_MAIL_ATTEMPTS = 8


def _mail_attempt_count(receipt_id: int) -> int:
    m.Receipt.objects.filter(pk=receipt_id).update(mail_attempts=F("mail_attempts") + 1)
    return m.Receipt.objects.filter(pk=receipt_id).values_list("mail_attempts", flat=True)[0]


def _receipt_mail(receipt: m.Receipt) -> None:
    """Mail the applicant the receipt number and status code, in their language."""
    language = receipt.language or "ja"
    status_code = status_code_for(receipt.number)
    subs = list(receipt.submissions.select_related("procedure_version").order_by("number"))
    if not subs or not subs[0].contact_email:
        return
    with override(language):
        titles = "\n".join(
            f"- {m.localized(s.procedure_version.title, language)} ({s.number})" for s in subs
        )
        body = _(
            "Thank you. We received your application.\n\n"
            "Receipt number: %(number)s\nStatus code: %(code)s\n\n%(titles)s\n\n"
            "Check the status at %(url)s with the receipt number and the status code.\n"
        ) % {
            "number": receipt.number,
            "code": status_code,
            "titles": titles,
            "url": f"{settings.SITE_URL}/status/",
        }
        unpaid = [s for s in subs if s.status == m.Submission.Status.AWAITING_PAYMENT]
        if unpaid:
            body += "\n" + _(
                "Payment of %(amount)s yen is needed to complete this application. "
                "We will send you the payment instructions."
            ) % {"amount": f"{sum(s.fee_total for s in unpaid):,}"}
        subject = _("Application received (%(number)s)") % {"number": receipt.number}
    send_mail(subject, body, None, [subs[0].contact_email])
