"""Mails to the resident about a payment: the pay link once staff set the fee after
review, and each refund. In the language the resident filed in; to the submission's
contact address only (never to staff lists)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import override

from forms_engine import models as fm

from .links import pay_url


def _yen(amount: int) -> str:
    return _("%(amount)s yen") % {"amount": f"{amount:,}"}


def amount_set_mail(sub: fm.Submission) -> EmailMessage | None:
    if not sub.contact_email:
        return None
    language = sub.receipt.language or "ja"
    with override(language):
        subject = _("The fee for your application (%(number)s)") % {"number": sub.number}
        body = _(
            "The fee for your application has been set: %(amount)s.\n\n"
            "Application: %(title)s\nReceipt number: %(number)s\n\n"
            "Pay it here: %(url)s\n"
        ) % {
            "amount": _yen(sub.payment_due_amount),
            "title": fm.localized(sub.procedure_version.title, language),
            "number": sub.number,
            "url": pay_url(sub, language),
        }
    return EmailMessage(subject, body, None, [sub.contact_email])


def paid_mail(sub: fm.Submission, amount: int) -> EmailMessage | None:
    """The resident's receipt of the payment."""
    if not sub.contact_email:
        return None
    language = sub.receipt.language or "ja"
    with override(language):
        subject = _("Payment received (%(number)s)") % {"number": sub.number}
        body = _(
            "We received your payment of %(amount)s. Thank you.\n\n"
            "Application: %(title)s\nReceipt number: %(number)s\nPaid on: %(date)s\n\n"
            "Check the status at %(status_url)s.\n"
        ) % {
            "amount": _yen(amount),
            "title": fm.localized(sub.procedure_version.title, language),
            "number": sub.number,
            "date": localtime(sub.paid_at).strftime("%Y-%m-%d %H:%M") if sub.paid_at else "",
            "status_url": f"{settings.SITE_URL}/status/",
        }
    return EmailMessage(subject, body, None, [sub.contact_email])


def refund_mail(sub: fm.Submission, amount: int, reason: str) -> EmailMessage | None:
    if not sub.contact_email:
        return None
    language = sub.receipt.language or "ja"
    with override(language):
        subject = _("Refund of your fee (%(number)s)") % {"number": sub.number}
        body = _(
            "We refunded %(amount)s of the fee for your application.\n\n"
            "Application: %(title)s\nReceipt number: %(number)s\nReason: %(reason)s\n"
            "Refunded in all: %(total)s\n\n"
            "A card payment is returned to the card; the card company may take some days "
            "to show it. Check the status at %(status_url)s.\n"
        ) % {
            "amount": _yen(amount),
            "title": fm.localized(sub.procedure_version.title, language),
            "number": sub.number,
            "reason": reason,
            "total": _yen(sub.refunded_amount),
            "status_url": f"{settings.SITE_URL}/status/",
        }
    return EmailMessage(subject, body, None, [sub.contact_email])
