"""How a resident is reached: Japanese phone numbers and email addresses."""

from __future__ import annotations

import re
import unicodedata

from .invalid import SHORT_VALUE_LIMIT, Invalid, as_text
from .text import ANY_DASH, normalize_text

# 11-digit numbers: mobile (070/080/090), IP phone (050), M2M/pager (020) and 0800 free
# dial (covered by the 080 prefix). Every other 0[1-9] number has 10 digits.
_ELEVEN_DIGIT_PREFIXES = ("070", "080", "090", "050", "020")
_FOUR_THREE_THREE = ("0120", "0570", "0180", "0990")
_PHONE_CHARS = re.compile(r"[0-9\-\s()]+")
_PHONE_SPLIT = re.compile(r"[-\s()]+")
_TRUNK_ZERO = re.compile(r"^[\s-]*\(\s*0\s*\)")


def _canonical_phone(digits: str) -> str:
    # Only prefixes whose split is fixed get hyphens: for other landlines the area code
    # is 2-5 digits and depends on the exchange (042-3xx vs 0422-xx), which needs the full
    # MIC table; a wrong split would look authoritative, so those stay digits only.
    if len(digits) == 11:
        if digits.startswith("0800"):
            return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if digits[:4] in _FOUR_THREE_THREE:
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if digits[:2] in ("03", "06"):
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    return digits


def _valid_phone_digits(digits: str) -> bool:
    if not digits.isascii() or not digits.isdigit():
        return False
    if len(digits) == 11:
        return digits.startswith(_ELEVEN_DIGIT_PREFIXES)
    if len(digits) == 10:
        return (
            digits[0] == "0" and digits[1] != "0" and not digits.startswith(_ELEVEN_DIGIT_PREFIXES)
        )
    return False


def normalize_phone(s: str) -> str:
    """A Japanese phone number as hyphenated ASCII.

    Accepts hyphens, spaces and parentheses ("(03)1234-5678", "03(1234)5678"), full- or
    half-width, and "+81" with or without the "(0)" trunk prefix. When the input has
    separators their grouping is kept; without them see `_canonical_phone`.
    """
    text = ANY_DASH.sub("-", normalize_text(as_text(s, "phone_invalid", limit=SHORT_VALUE_LIMIT)))
    international = text.startswith("+")
    if international:
        m = re.match(r"\+\s*81", text)
        if m is None:
            raise Invalid("phone_invalid")
        text = _TRUNK_ZERO.sub(" ", text[m.end() :], count=1)
    if not _PHONE_CHARS.fullmatch(text):
        raise Invalid("phone_invalid")
    groups = [g for g in _PHONE_SPLIT.split(text) if g]
    if not groups:
        raise Invalid("phone_invalid")
    if international and not groups[0].startswith("0"):
        groups[0] = "0" + groups[0]
    digits = "".join(groups)
    if not _valid_phone_digits(digits):
        raise Invalid("phone_invalid")
    # Keep the writer's grouping when it looks like one (prefix of 2-5 digits, then one or
    # two groups); "0 90 1234 5678" or a digit-by-digit spacing gets the canonical form.
    if 2 <= len(groups) <= 3 and 2 <= len(groups[0]) <= 5:
        return "-".join(groups)
    return _canonical_phone(digits)


#: The longest address SMTP can deliver (RFC 5321 path limit, less the angle brackets).
EMAIL_MAX_LENGTH = 254

# dot-atom characters; consecutive dots and a dot before "@" are allowed on purpose:
# docomo and au issued such addresses until 2009 and they still receive mail.
_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}")
_DNS_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def normalize_email(s: str) -> str:
    """NFKC (full-width ＠ and letters), "。" as ".", syntax check; only the domain is
    lower-cased (the local part is case-sensitive by the standard). Internationalised
    domains are accepted and kept in Unicode; non-ASCII local parts are refused."""
    raw = as_text(s, "email_invalid", limit=2 * EMAIL_MAX_LENGTH)
    text = unicodedata.normalize("NFKC", raw).strip().replace("。", ".")
    if text.count("@") != 1 or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise Invalid("email_invalid")
    local, domain = text.split("@")
    domain = domain.lower()
    if not _EMAIL_LOCAL_RE.fullmatch(local):
        raise Invalid("email_invalid")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise Invalid("email_invalid") from exc
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or not all(_DNS_LABEL_RE.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
        or len(local) + 1 + len(ascii_domain) > EMAIL_MAX_LENGTH
    ):
        raise Invalid("email_invalid")
    return f"{local}@{domain}"
