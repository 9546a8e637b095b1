"""YAML text -> plain Python values, remembering where every key was written.

The loader must name the line of each problem, so the text is composed into nodes with
PyYAML's (C)SafeLoader (never constructed with an unsafe loader) and the nodes are turned
into dicts, lists and scalars here, recording for each key path the 1-based line of the
key (or of the item, inside a list). Doing the construction ourselves also lets us:

- refuse duplicate mapping keys, which YAML otherwise resolves silently to the last one;
- keep the text of every scalar as written, because YAML 1.1 reads `yes`, `no`, `on`,
  `off` as booleans and `1.10` as a float: where the format wants text or a value
  (an option `value: yes`, a label `{en: No}`), the loader uses that text instead;
- read `{ja: 商工労働部, en: Commerce, Industry and Labor}` as the English text
  "Commerce, Industry and Labor": strict YAML splits an unquoted comma in a flow mapping
  into a second key without a value, which is never what a procedure author means (the
  shared samples are written this way and must load unchanged). Only bare words (no
  `:`) after a plain scalar are joined, so `{a: 1, b: 2}` is untouched;
- refuse tags other than the plain YAML types and recursive aliases, and cap alias
  expansion (a "billion laughs" file must not exhaust memory).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]

#: Beyond this many values the document is refused: aliases can make a tiny file huge.
MAX_VALUES = 200_000

# libyaml composes about 15 times faster than the pure-Python parser; both are safe here,
# since only nodes are composed and scalars are constructed by SafeConstructor.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MAP_TAG = _TAG + "map"
_SEQ_TAG = _TAG + "seq"


def format_path(path: Iterable[str | int]) -> str:
    """("pages", 1, "fields", 3, "show_if") -> "pages[1].fields[3].show_if"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class YamlProblem:
    line: int
    path: Path
    message: str


@dataclass
class YamlDocument:
    data: Any
    #: Key path -> line of the key (mapping entry) or of the item (list entry).
    lines: dict[Path, int] = field(default_factory=dict)
    #: Key path -> the scalar's text exactly as written (quotes removed).
    raw: dict[Path, str] = field(default_factory=dict)
    #: Values already reported (a refused tag, an impossible date): read as None, and the
    #: loader says nothing more about them.
    bad_values: set[Path] = field(default_factory=set)

    def line(self, path: Path) -> int:
        """Line of `path`, or of its nearest written ancestor (a missing key's parent)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def has(self, path: Path) -> bool:
        return tuple(path) in self.lines

    def is_bad(self, path: Path) -> bool:
        path = tuple(path)
        return any(path[:n] in self.bad_values for n in range(len(path) + 1))

    def scalar_text(self, path: Path) -> str | None:
        return self.raw.get(tuple(path))


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.doc = YamlDocument(data=None)
        self.problems: list[YamlProblem] = []
        self._constructor = SafeConstructor()
        self._count = 0
        self._stack: set[int] = set()

    def problem(self, node: Node, path: Path, message: str) -> None:
        self.problems.append(YamlProblem(node.start_mark.line + 1, path, message))
        self.doc.bad_values.add(path)

    def build(self, node: Node, path: Path) -> Any:
        self._count += 1
        if self._count > MAX_VALUES:
            raise _TooLarge
        if id(node) in self._stack:
            self.problem(node, path, "an alias refers to a value that contains it")
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self._stack.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                return self._sequence(node, path)
        finally:
            self._stack.discard(id(node))
        return None  # pragma: no cover - the composer yields no other node kinds

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        self.doc.raw[path] = node.value
        if node.tag not in _SCALAR_TAGS:
            self.problem(node, path, _tag_message(node))
            return None
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ConstructorError, ArithmeticError, LookupError, ValueError, TypeError):
            # The resolver took it for a date or number that does not exist (2026-13-45), or
            # an explicit tag was put on text it cannot read (`!!int ""` fails deep inside).
            self.problem(node, path, f"{node.value!r} is not a valid date or number")
            return None

    def _mapping(self, node: MappingNode, path: Path) -> Any:
        if node.tag != _MAP_TAG:
            self.problem(node, path, _tag_message(node))
            return None
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        entries = list(node.value)
        index = 0
        while index < len(entries):
            key_node, value_node = entries[index]
            index += 1
            joined: str | None = None
            if node.flow_style and _is_plain(value_node) and value_node.value:
                end = index
                while end < len(entries) and self._is_bare_key(*entries[end]):
                    end += 1
                if end > index:
                    last_key = entries[end - 1][0]
                    joined = self.text[value_node.start_mark.index : last_key.end_mark.index]
                    joined = _FOLD_RE.sub(" ", joined)
                    index = end
            if not isinstance(key_node, ScalarNode):
                self.problems.append(
                    YamlProblem(
                        key_node.start_mark.line + 1,
                        path,
                        "a key must be a plain word, not a list or mapping",
                    )
                )
                continue
            # Keys are taken as written: `yes:` or `1:` are the keys "yes" and "1".
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in result:
                self.problems.append(
                    YamlProblem(
                        line,
                        path + (key,),
                        f"duplicate key {key!r} (first written on line {first_line[key]})",
                    )
                )
                continue
            first_line[key] = line
            self.doc.lines[path + (key,)] = line
            if joined is not None:
                self.doc.raw[path + (key,)] = joined
                result[key] = joined
            else:
                result[key] = self.build(value_node, path + (key,))
        return result

    def _is_bare_key(self, key_node: Node, value_node: Node) -> bool:
        """`word` written alone in a flow mapping (no `:`), which YAML reads as a key."""
        return (
            _is_plain(key_node)
            and _is_plain(value_node)
            and value_node.value == ""
            and not self.text[key_node.end_mark.index : value_node.start_mark.index].strip()
        )

    def _sequence(self, node: SequenceNode, path: Path) -> Any:
        if node.tag != _SEQ_TAG:
            self.problem(node, path, _tag_message(node))
            return None
        items = []
        for index, item in enumerate(node.value):
            self.doc.lines[path + (index,)] = item.start_mark.line + 1
            items.append(self.build(item, path + (index,)))
        return items


_FOLD_RE = re.compile(r"[ \t]*\r?\n\s*")


def _is_plain(node: Node) -> bool:
    # The pure-Python composer marks plain scalars with style None, libyaml with "".
    return isinstance(node, ScalarNode) and not node.style


def _tag_message(node: Node) -> str:
    tag = node.tag.replace(_TAG, "!!")
    return f"the YAML tag {tag} is not allowed: write plain values"


def _line_of_position(text: str, position: int) -> int:
    return text.count("\n", 0, max(position, 0)) + 1


def parse_yaml(text: str) -> tuple[YamlDocument | None, list[YamlProblem]]:
    """Parse one YAML document. Returns (None, problems) when the text is not valid YAML."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        # libyaml puts an error at the end of the text on the line after the last one.
        line = min(line, text.count("\n") + 1)
        parts = [p for p in (exc.context, exc.problem) if p]
        detail = ", ".join(parts) or "cannot be parsed"
        return None, [YamlProblem(line, (), f"invalid YAML: {detail}")]
    except yaml.reader.ReaderError as exc:
        line = _line_of_position(text, exc.position)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "?")
        return None, [
            YamlProblem(line, (), f"invalid YAML: the character U+{char:04X} is not allowed")
        ]
    except UnicodeError as exc:  # libyaml cannot take lone surrogates
        line = _line_of_position(text, getattr(exc, "start", 0))
        return None, [YamlProblem(line, (), "invalid YAML: the text is not valid Unicode")]
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error above has a mark
        return None, [YamlProblem(1, (), f"invalid YAML: {exc}")]
    except RecursionError:
        return None, [YamlProblem(1, (), "invalid YAML: nested too deeply")]

    builder = _Builder(text)
    if root is None:
        return builder.doc, []
    builder.doc.lines[()] = root.start_mark.line + 1
    try:
        builder.doc.data = builder.build(root, ())
    except _TooLarge:
        return None, [YamlProblem(1, (), f"the document expands to more than {MAX_VALUES} values")]
    except RecursionError:
        return None, [YamlProblem(1, (), "invalid YAML: nested too deeply")]
    return builder.doc, builder.problems
