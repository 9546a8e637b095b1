from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from forms_engine import markdown as md
from forms_engine.models import localized as _localized

register = template.Library()


@register.filter
def yen(amount) -> str:
    try:
        return _("%(amount)s yen") % {"amount": f"{int(amount):,}"}
    except (TypeError, ValueError):
        return ""


@register.filter
def markdown(text) -> str:
    return mark_safe(md.render(text or ""))  # noqa: S308 - render() escapes first


@register.filter
def localized(value) -> str:
    return _localized(value)
