"""What the loader knows of each field type, in one place: the keys it takes, the type the
condition checker sees, and the check of its own keys.

These three tables are meant to be read from the registry of field types once it exists,
so keep every per-type fact the loader needs here.
"""

from __future__ import annotations

from . import field_params as fp

COMMON_FIELD_KEYS = ("id", "type", "label", "help", "required", "show_if", "profile")

#: Field type -> the keys it adds to the common ones.
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "text": ("min_length", "max_length", "pattern", "pattern_message"),
    "textarea": ("min_length", "max_length"),
    "number": ("min", "max", "integer", "unit"),
    "email": (),
    "tel": (),
    "date": ("min", "max", "era"),
    "select": ("options",),
    "radio": ("options",),
    "checkboxes": ("options", "min_selected", "max_selected"),
    "yes_no": (),
    "consent": ("content",),
    "name": ("kana",),
    "kana": ("min_length", "max_length"),
    "postal_code": ("fills",),
    "address": (),
    "corporate_number": (),
    "bank_account": (),
    "file": ("accept", "max_size", "max_files", "resize_images"),
    "static": ("content",),
    "group": ("repeat", "add_label", "fields"),
}
ALL_FIELD_KEYS = tuple(
    dict.fromkeys(COMMON_FIELD_KEYS + tuple(k for keys in TYPE_KEYS.values() for k in keys))
)

#: Field type -> the type name the condition checker knows it by.
SYMBOL_TYPES: dict[str, str] = {
    **dict.fromkeys(
        (
            "text",
            "textarea",
            "email",
            "tel",
            "kana",
            "select",
            "radio",
            "corporate_number",
            "postal_code",
        ),
        "string",
    ),
    "number": "number",
    "date": "date",
    "yes_no": "bool",
    "consent": "bool",
    "checkboxes": "list",
    "group": "group",
    "file": "files",
    "name": "compound:name",
    "address": "compound:address",
    "bank_account": "compound:bank_account",
    "static": "none",
}

#: Field type -> the check of the keys in TYPE_KEYS (fills in defaults too).
FIELD_PARAMS: dict[str, fp.ParamsCheck] = {
    "text": fp.text_params,
    "textarea": fp.length_params,
    "number": fp.number_params,
    "email": fp.no_params,
    "tel": fp.no_params,
    "date": fp.date_params,
    "select": fp.choice_params,
    "radio": fp.choice_params,
    "checkboxes": fp.checkboxes_params,
    "yes_no": fp.no_params,
    "consent": fp.content_params,
    "name": fp.name_params,
    "kana": fp.length_params,
    "postal_code": fp.postal_code_params,
    "address": fp.no_params,
    "corporate_number": fp.no_params,
    "bank_account": fp.no_params,
    "file": fp.file_params,
    "static": fp.content_params,
    "group": fp.group_params,
}
