"""The resident's once-only profile (`Resident.profile`, profile key -> value) as a form:
each key is asked by the field of a live procedure that names it (`profile:` in the
procedure file), so the profile is shown, edited and validated by the same field types and
normalisers as the filing pages. Deleting the profile erases every value.

Also "sign out everywhere": the resident's session epoch is raised, which ends every
session signed in before (forms_engine.middleware.ResidentSessionMiddleware).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import transaction
from django.db.models import F

from forms_engine import models as m
from forms_engine.filing import FilingView, Step
from forms_engine.procedure_format.model import FieldSpec, PageSpec, ProcedureSpec, Text

from .procedures import version_spec


def profile_field_specs() -> dict[str, tuple[ProcedureSpec, FieldSpec]]:
    """Profile key -> (spec, field) of the first live procedure asking it (by organization
    and procedure, so the same field answers every time)."""
    found: dict[str, tuple[ProcedureSpec, FieldSpec]] = {}
    procedures = (
        m.Procedure.objects.select_related("live_version")
        .filter(live_version__isnull=False)
        .order_by("organization_id", "id")
    )
    for procedure in procedures:
        assert procedure.live_version is not None  # filtered above
        spec = version_spec(procedure.live_version)
        for page in spec.pages:
            for f in page.fields:
                if f.profile and f.type not in ("group", "file", "static"):
                    found.setdefault(f.profile, (spec, f))
    return found


def profile_view(resident: m.Resident) -> tuple[FilingView, Step] | None:
    """The profile as a one-page filing: one optional field per saved key that a live
    procedure still asks (its id is the key). None when nothing saved can be shown."""
    specs = profile_field_specs()
    keys = [k for k in (resident.profile or {}) if k in specs]
    if not keys:
        return None
    fields = tuple(
        dataclasses.replace(specs[k][1], id=k, required=False, show_if=None) for k in keys
    )
    page = PageSpec(
        id="profile", title=Text({"ja": "登録情報", "en": "Profile"}), line=0, fields=fields
    )
    spec = dataclasses.replace(specs[keys[0]][0], pages=(page,), fee=None)
    answers = {k: resident.profile[k] for k in keys}
    return FilingView([spec], {"0": answers}), Step(0, page)


def profile_update(resident_id: int, values: dict[str, Any]) -> m.Resident:
    """Replace the shown keys' values (cleaned by the field types); an empty value erases
    its key. Keys not shown are kept as they are."""
    with transaction.atomic():
        resident = m.Resident.objects.select_for_update().get(pk=resident_id)
        profile = dict(resident.profile or {})
        for key, value in values.items():
            if value in (None, "", [], {}):
                profile.pop(key, None)
            else:
                profile[key] = value
        resident.profile = profile
        resident.save(update_fields=["profile"])
    return resident


def profile_delete(resident_id: int) -> None:
    """Erase every saved profile value of the resident."""
    m.Resident.objects.filter(pk=resident_id).update(profile={})


def resident_sign_out_everywhere(resident_id: int) -> int:
    """End every session signed in as this resident (other browsers included); returns
    the new epoch, which only sessions signed in from now on carry."""
    m.Resident.objects.filter(pk=resident_id).update(session_epoch=F("session_epoch") + 1)
    return m.Resident.objects.values_list("session_epoch", flat=True).get(pk=resident_id)
