"""`{% extends %}` that finds the blocks of the root template once, not on every render.

A built-in of the template engine (TEMPLATES' `builtins` in config/settings.py), in place
of Django's own tag, with the same syntax and output. Django's ExtendsNode walks the whole
node tree of the root template (base.html: every `{% if %}` and its branches) on each
render to collect its `{% block %}`s; on the 40-field page that walk was 0.23 M
instructions per request (docs/performance.md). A compiled template never changes, so
the blocks found are kept for it, per template object (a weak key: a template the loader
drops, or one made from a string, takes its entry with it).
"""

from __future__ import annotations

import weakref

from django import template
from django.template.base import Node, Template, TextNode
from django.template.loader_tags import (
    BLOCK_CONTEXT_KEY,
    BlockContext,
    BlockNode,
    ExtendsNode,
)
from django.template.loader_tags import do_extends as django_extends

register = template.Library()

_ROOT_BLOCKS: weakref.WeakKeyDictionary[Template, dict[str, Node] | None] = (
    weakref.WeakKeyDictionary()
)


def _root_blocks(parent: Template) -> dict[str, Node] | None:
    """The blocks of `parent` by name when it is the root of the inheritance (its first
    tag is not `{% extends %}`), else None: what Django's ExtendsNode.render works out."""
    try:
        return _ROOT_BLOCKS[parent]
    except KeyError:
        pass
    blocks = None
    for node in parent.nodelist:
        # The ExtendsNode has to be the first non-text node.
        if not isinstance(node, TextNode):
            if not isinstance(node, ExtendsNode):
                found = parent.nodelist.get_nodes_by_type(BlockNode)
                blocks = {n.name: n for n in found}  # type: ignore[attr-defined]
            break
    _ROOT_BLOCKS[parent] = blocks
    return blocks


class RootBlocksRememberedExtendsNode(ExtendsNode):
    def render(self, context: template.Context) -> str:
        # Django's ExtendsNode.render, with the root's blocks from _root_blocks.
        compiled_parent = self.get_parent(context)
        if BLOCK_CONTEXT_KEY not in context.render_context:
            context.render_context[BLOCK_CONTEXT_KEY] = BlockContext()
        block_context = context.render_context[BLOCK_CONTEXT_KEY]
        block_context.add_blocks(self.blocks)
        blocks = _root_blocks(compiled_parent)
        if blocks is not None:
            block_context.add_blocks(blocks)  # read, never changed, by add_blocks
        with context.render_context.push_state(compiled_parent, isolated_context=False):
            return compiled_parent._render(context)  # type: ignore[attr-defined]


@register.tag("extends")
def extends(parser: template.base.Parser, token: template.base.Token) -> template.Node:
    node = django_extends(parser, token)  # its checks and parsing; the parser sets origin
    return RootBlocksRememberedExtendsNode(node.nodelist, node.parent_name)
