"""The field types of the procedure format: one mapping from the `type:` written in a
procedure file to the class that reads, validates and renders it.

Adding a type is one class and one line here.
"""

from __future__ import annotations

from .base import FieldType
from .choices import CheckboxesType, ConsentType, RadioType, SelectType, YesNoType
from .compound import AddressType, BankAccountType, NameType
from .date import DateType
from .file import FileType
from .normalized import CorporateNumberType, EmailType, NumberType, PostalCodeType, TelType
from .structure import GroupType, StaticType
from .text import KanaType, TextareaType, TextType

FIELD_TYPE_CLASSES: dict[str, type[FieldType]] = {
    "text": TextType,
    "textarea": TextareaType,
    "number": NumberType,
    "email": EmailType,
    "tel": TelType,
    "date": DateType,
    "select": SelectType,
    "radio": RadioType,
    "checkboxes": CheckboxesType,
    "yes_no": YesNoType,
    "consent": ConsentType,
    "name": NameType,
    "kana": KanaType,
    "postal_code": PostalCodeType,
    "address": AddressType,
    "corporate_number": CorporateNumberType,
    "bank_account": BankAccountType,
    "file": FileType,
    "static": StaticType,
    "group": GroupType,
}

#: One instance of each (they keep no state), as the filing code calls them.
FIELD_TYPES: dict[str, FieldType] = {name: cls() for name, cls in FIELD_TYPE_CLASSES.items()}
