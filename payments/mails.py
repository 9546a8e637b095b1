"""Mails to the resident about a payment: the pay link once staff set the fee after
review, the resident's receipt of a payment, and each refund. In the language the resident
filed in, as text and HTML (the HTML part is the same text, with its links clickable); to
the submission's contact address only (never to staff lists)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import override

from forms_engine import models as fm

from .links import pay_url


def _yen(amount: int) -> str:
    return _("%(amount)s yen") % {"amount": f"{amount:,}"}


def amount_set_mail(sub: fm.Submission) -> EmailMultiAlternatives | None:
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
        return _message(sub, subject, body, language)


def paid_mail(sub: fm.Submission, amount: int) -> EmailMultiAlternatives | None:
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
            "status_url": _status_url(sub),
        }
        return _message(sub, subject, body, language)


def refund_mail(sub: fm.Submission, amount: int, reason: str) -> EmailMultiAlternatives | None:
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
            "status_url": _status_url(sub),
        }
        return _message(sub, subject, body, language)


def _status_url(sub: fm.Submission) -> str:
    # The submission's own status page (it asks for the receipt number and status code
    # unless the resident is signed in): never anything personal in the URL.
    return str(settings.SITE_URL) + reverse("status_submission", args=[sub.pk])


def _message(sub: fm.Submission, subject: str, body: str, language: str) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject, body, None, [sub.contact_email])
    html = render_to_string(
        "payments/mail.html",
        {
            "lang": language,
            "subject": subject,
            "body": _html_body(body),
            "organization_name": fm.localized(sub.organization.name, language),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


# Django's urlize splits on spaces, and Japanese text puts no space before a URL
# (「こちら：https://...」): links are found by their scheme instead.
_URL = re.compile(r"https?://[^\s<>\"'）」]+")


def _html_body(body: str) -> SafeString:
    html = linebreaks(escape(body))
    return mark_safe(_URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', html))  # noqa: S308
