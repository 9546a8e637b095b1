"""The direct uploader's texts (static/js/uploader.js), translated here and handed to the page
as a JSON data block: the script holds no text of its own. `{name}`, `{percent}`, `{done}`,
`{total}`, `{status}` and `{error}` are filled in by the script."""

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()

ELEMENT_ID = "uploader-texts"


def uploader_texts_dict() -> dict[str, str]:
    name = {"name": "{name}"}
    return {
        "progress": _("%(percent)s%% (%(done)s of %(total)s)")
        % {"percent": "{percent}", "done": "{done}", "total": "{total}"},
        "progressLabel": _("Upload of %(name)s") % name,
        "preparing": _("Making the photo smaller…"),
        "offline": _("Waiting for the connection…"),
        "interrupted": _(
            "The upload was interrupted. Check the connection and press Retry: "
            "the parts already sent are kept."
        ),
        "failed": _("The file could not be uploaded. Try again."),
        "wait": _("Wait until the files have finished uploading, or cancel them."),
        "cancel": _("Cancel"),
        "remove": _("Remove"),
        "retry": _("Retry"),
        "announceStart": _("Uploading %(name)s.") % name,
        "announceProgress": _("%(name)s: %(percent)s%% uploaded.")
        % {"name": "{name}", "percent": "{percent}"},
        "announceDone": _("%(name)s uploaded. %(status)s")
        % {"name": "{name}", "status": "{status}"},
        "announceRefused": _("%(name)s was not attached: %(error)s")
        % {"name": "{name}", "error": "{error}"},
        "announceInterrupted": _("The upload of %(name)s was interrupted.") % name,
        "cancelled": _("The upload of %(name)s was cancelled.") % name,
        "removed": _("%(name)s was removed.") % name,
    }


@register.simple_tag
def uploader_texts() -> SafeString:
    return json_script(uploader_texts_dict(), ELEMENT_ID)
