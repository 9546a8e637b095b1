"""Normalisers and validators for form answers (pure Python, no Django).

Every validator returns the canonical value or raises `Invalid(code, params)` (invalid.py).
The Django layer maps `code` to a translated message; `MESSAGES` holds the English defaults.

Free text goes through `normalize_text` (text.py, where the decisions on Japanese text are
written down). Each kind of value has its parser: kana (kana.py), phone numbers and email
addresses (contact.py), postal codes and corporate numbers (codes.py), numbers
(numbers.py), dates and 和暦 (dates.py), bank accounts (banking.py). The parsers of short
values (phones, codes, dates, numbers, email addresses) refuse an input far longer than
any real one before reading it. files.py reads the sizes of the procedure format and
tells the kind of an uploaded file by its content.
"""

from .banking import normalize_bank_account
from .codes import normalize_corporate_number, normalize_postal_code
from .contact import EMAIL_MAX_LENGTH, normalize_email, normalize_phone
from .dates import parse_date_parts, resolve_date_bound, wareki, wareki_year
from .files import file_matches_accept, format_size_exact, parse_size, sniff_file_kind
from .invalid import MESSAGES, SHORT_VALUE_LIMIT, TEXT_VALUE_LIMIT, Invalid
from .kana import to_katakana, validate_katakana
from .numbers import NUMBER_LIMIT, normalize_number
from .search import name_search_key, name_search_text
from .text import (
    FULLWIDTH_TILDE,
    IDEOGRAPHIC_SPACE,
    PROLONGED_SOUND_MARK,
    WAVE_DASH,
    normalize_text,
)

__all__ = [
    "name_search_key",
    "name_search_text",
    "EMAIL_MAX_LENGTH",
    "FULLWIDTH_TILDE",
    "IDEOGRAPHIC_SPACE",
    "MESSAGES",
    "NUMBER_LIMIT",
    "PROLONGED_SOUND_MARK",
    "SHORT_VALUE_LIMIT",
    "TEXT_VALUE_LIMIT",
    "WAVE_DASH",
    "Invalid",
    "file_matches_accept",
    "format_size_exact",
    "normalize_bank_account",
    "normalize_corporate_number",
    "normalize_email",
    "normalize_number",
    "normalize_phone",
    "normalize_postal_code",
    "normalize_text",
    "parse_date_parts",
    "parse_size",
    "resolve_date_bound",
    "sniff_file_kind",
    "to_katakana",
    "validate_katakana",
    "wareki",
    "wareki_year",
]
