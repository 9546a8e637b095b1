"""Pay links: a signed token naming the submission (its id only, no personal data), valid
for PAYMENT_LINK_DAYS. The status page, the done page and the mails hand it out; whoever
holds it may pay the fee and see its payment state, nothing more."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from forms_engine import models as fm

SALT = "payments.pay-link"


def pay_token(submission: fm.Submission) -> str:
    return signing.dumps(str(submission.pk), salt=SALT, compress=True)


def submission_for_token(token: str) -> fm.Submission | None:
    try:
        submission_id = signing.loads(
            token, salt=SALT, max_age=settings.PAYMENT_LINK_DAYS * 24 * 3600
        )
    except signing.BadSignature:
        return None
    return (
        fm.Submission.objects.select_related("organization", "procedure_version", "receipt")
        .filter(pk=submission_id)
        .first()
    )


def pay_path(submission: fm.Submission) -> str:
    return reverse("payments:pay", args=[pay_token(submission)])


def pay_url(submission: fm.Submission, language: str | None = None) -> str:
    url = settings.SITE_URL + pay_path(submission)
    return f"{url}?lang={language}" if language else url
