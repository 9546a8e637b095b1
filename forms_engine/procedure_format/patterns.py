"""The `pattern` of a text field: a regular expression run by RE2, in linear time.

A procedure file is written by people, not by the resident, but a pattern runs on every
value a resident posts: with a backtracking engine (Python's `re`) a pattern such as
`([A-Za-z0-9]+)*` takes exponential time on a value that almost matches (26 letters and
"!" cost seconds, a few more letters years). RE2 guarantees time linear in the value, and
in exchange has no backreferences and no lookarounds; the loader refuses such a pattern
and says which construct it is (`pattern_error`).

Semantics the fields rely on, checked in tests/procedure_format/test_patterns.py: the
whole value must match (`fullmatch`, also for alternatives such as `a|ab`), on `str`,
counting code points (𠮷 is one `.`); `\\d`, `\\w`, `\\s` and `\\b` are ASCII only (the
normaliser has already turned full-width digits and letters into ASCII); `\\p{Han}`,
`\\p{Katakana}` and explicit ranges such as `[ァ-ヶー]` take other scripts.
"""

from __future__ import annotations

import functools
import re

import re2

#: One pattern's compiled program may use this much memory (RE2's default is 8 MiB); a
#: pattern that needs more fails to compile and is refused when the file is loaded.
_MAX_MEM = 8 << 20

# What RE2 says about a construct it does not run, and how a procedure author knows it.
_UNSUPPORTED = (
    ("(?=", "lookahead (?=...)"),
    ("(?!", "negative lookahead (?!...)"),
    ("(?<=", "lookbehind (?<=...)"),
    ("(?<!", "negative lookbehind (?<!...)"),
    ("(?P=", "named backreference (?P=name)"),
    ("(?>", "atomic group (?>...)"),
)
_BACKREFERENCE = re.compile(r"invalid escape sequence: \\[1-9]")
_POSSESSIVE = re.compile(r"bad repetition operator: [*+?]\+")


def _options() -> re2.Options:
    options = re2.Options()
    # RE2 would print every refused pattern to stderr; the loader reports them instead.
    options.log_errors = False
    options.max_mem = _MAX_MEM
    return options


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re2._Regexp:
    """The compiled pattern, once per process and pattern (the fields ask on every post).
    Raises re2.error for a pattern RE2 cannot run; the loader has refused those."""
    return re2.compile(pattern, _options())


def pattern_matches(pattern: str, value: str) -> bool:
    """Whether the whole of `value` matches `pattern`."""
    return compile_pattern(pattern).fullmatch(value) is not None


def pattern_error(pattern: str) -> str | None:
    """None when `pattern` can run, else a message for the procedure author naming what is
    not supported."""
    try:
        compile_pattern(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        detail = str(detail)
        construct = next((name for op, name in _UNSUPPORTED if op in detail), None)
        # RE2 names only "(?P" for a named backreference.
        if construct is None and detail.endswith("(?P") and "(?P=" in pattern:
            construct = "named backreference (?P=name)"
        if construct is None and _BACKREFERENCE.search(detail):
            construct = "backreference (\\1)"
        if construct is None and _POSSESSIVE.search(detail):
            construct = "possessive quantifier (*+, ++, ?+)"
        if construct is not None:
            return (
                f"{construct} is not supported: patterns run in linear time (RE2 syntax), "
                "without backreferences, lookarounds or possessive quantifiers"
            )
        return f"invalid regular expression (RE2 syntax): {detail}"
    return None
