"""`{% translate %}` and `{% url %}` that remember their output: for the chrome of the
resident pages (base.html and the filing page), rendered on every request.

Loaded after `i18n` (`{% load i18n chrome %}`), these two tags take the place of Django's
own in that template, with the same syntax, and makemessages still finds the strings. A
tag whose output can only depend on the language, the script prefix and the URL
configuration (a literal message with no filter, a URL name with no argument and no
namespace) is rendered once per process for each of those, and then read back; any other
use renders exactly as Django's tag does. On the 40-field page the dozen translated
strings and four URLs of the chrome cost as much as a fifth of the template through
Django's lazy translations and URL reversing (docs/performance.md).

Nothing of a request is kept: no answer, no token, no path.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.templatetags.i18n import TranslateNode
from django.templatetags.i18n import do_translate as django_translate
from django.urls import get_script_prefix, get_urlconf
from django.utils import translation

register = template.Library()

# Bumped when a setting changes (tests' override_settings): remembered output is then
# worked out again, since languages, catalogues or URL configurations may differ.
_generation = 0


@receiver(setting_changed)
def _settings_changed(**kwargs: Any) -> None:
    global _generation
    _generation += 1


class RememberedTranslateNode(TranslateNode):
    def __init__(self, node: TranslateNode):
        super().__init__(node.filter_expression, node.noop, node.asvar, node.message_context)
        var = self.filter_expression.var
        self.constant = (
            not self.noop
            and self.asvar is None
            and self.message_context is None
            and not self.filter_expression.filters
            and isinstance(var, template.Variable)
            and var.literal is not None
            and var.lookups is None
        )
        self.memo: dict[tuple, str] = {}

    def render(self, context: template.Context) -> str:
        if not self.constant:
            return super().render(context)
        key = (translation.get_language(), context.autoescape, _generation)
        value = self.memo.get(key)
        if value is None:
            value = self.memo[key] = super().render(context)
        return value


class RememberedURLNode(URLNode):
    def __init__(self, node: URLNode):
        super().__init__(node.view_name, node.args, node.kwargs, node.asvar)
        name = self.view_name
        self.constant = (
            not self.args
            and not self.kwargs
            and self.asvar is None
            and not name.filters
            and isinstance(name.var, str)  # a quoted name, resolved at compile time
            and ":" not in name.var  # no namespace: current_app cannot change it
        )
        self.memo: dict[tuple, str] = {}

    def render(self, context: template.Context) -> str:
        if not self.constant:
            return super().render(context)
        key = (get_script_prefix(), get_urlconf(), context.autoescape, _generation)
        value = self.memo.get(key)
        if value is None:
            value = self.memo[key] = super().render(context)
        return value


@register.tag("translate")
@register.tag("trans")
def translate(parser: template.base.Parser, token: template.base.Token) -> template.Node:
    node = django_translate(parser, token)
    return RememberedTranslateNode(node)


@register.tag("url")
def url(parser: template.base.Parser, token: template.base.Token) -> template.Node:
    node = django_url(parser, token)
    return RememberedURLNode(node)
