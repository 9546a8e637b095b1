"""The `email` target: a notice to the department's addresses that a submission arrived,
with a link to it in the staff inbox. No personal data: not the answers, not the
resident's name or address, not the receipt number; only the procedure's title and the
link, which opens only for signed-in staff allowed to see the submission."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _
from django.utils.translation import override

from forms_engine import models as fm
from forms_engine.services.receipt_mails import smtp_refusal

from .targets.base import DeliveryError

if TYPE_CHECKING:
    from .models import Delivery


def delivery_notice(delivery: Delivery, recipients: list[str]) -> EmailMessage:
    version = delivery.procedure_version
    link = f"{settings.SITE_URL}/staff/submissions/{delivery.submission_id}/"
    parts = []
    subjects = []
    for language in ("ja", "en"):
        with override(language):
            title = fm.localized(version.title, language)
            subjects.append(_("New application: %(title)s") % {"title": title})
            parts.append(
                _(
                    "A new application for %(title)s has arrived.\n"
                    "Open it in the staff inbox (sign-in required):\n%(link)s\n"
                )
                % {"title": title, "link": link}
            )
    return EmailMessage(" / ".join(subjects), "\n".join(parts), None, recipients)


def delivery_notice_send(delivery: Delivery, config: dict[str, Any]) -> None:
    recipients = [str(address) for address in config.get("to", ())]
    if not recipients:
        raise DeliveryError("no_recipients", permanent=True)
    message = delivery_notice(delivery, recipients)
    try:
        message.send()
    except Exception as exc:
        refusal = smtp_refusal(exc)
        raise DeliveryError(
            f"smtp_refused:{type(exc).__name__}" if refusal else f"smtp:{type(exc).__name__}",
            permanent=bool(refusal),
        ) from None
