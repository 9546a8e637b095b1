"""Files handed to staff: a short-lived URL of a deliverable file, each one audited."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.db import transaction

from forms_engine import filekinds, storage
from forms_engine import models as m

from .selectors import attachment_is_deliverable


class AttachmentNotDeliverable(Exception):
    """Not a file staff may open: not of a submission, or not scanned clean (or openly
    not scanned), or deleted."""


def attachment_download_name(attachment: m.Attachment) -> str:
    """The resident's file name, with the extension of what the file really is when the
    name says otherwise: a JPEG named "x.html" is saved as "x.html.jpg", so that the
    downloaded file opens in an image viewer, not a browser."""
    name = attachment.original_name or "file"
    extensions = [
        part
        for part in filekinds.ACCEPT_ATTR.get(attachment.kind, "").split(",")
        if part[:1] == "."
    ]
    if not extensions or any(name.lower().endswith(ext) for ext in extensions):
        return name
    return name + extensions[0]


def attachment_download_url(attachment: m.Attachment, *, user, address: str) -> str:
    """A URL of the file valid for STAFF_DOWNLOAD_URL_SECONDS, with the resident's file name
    in its Content-Disposition; the download is recorded first (who, when, which file,
    from which address). Raises AttachmentNotDeliverable for any file that is not."""
    if attachment.submission_id is None or not attachment_is_deliverable(attachment):
        raise AttachmentNotDeliverable
    with transaction.atomic():
        m.DownloadAudit.objects.create(
            attachment=attachment,
            attachment_ref=attachment.pk,
            submission_number=attachment.submission.number if attachment.submission else "",
            user=user,
            username=user.get_username(),
            address=_ip_or_none(address),
        )
        return storage.object_store().download_url(
            attachment.storage_key,
            attachment_download_name(attachment),
            settings.STAFF_DOWNLOAD_URL_SECONDS,
            attachment.content_type,
        )


def _ip_or_none(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
