"""Organization settings: departments, notification addresses and the contact text are
written as the organization's organization.yaml (checked by the loader, audited with its
hash); staff invitations go by mail with a single-use, expiring link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from forms_engine import models as m
from forms_engine.procedure_format.loader import parse_organization
from inbox.models import AuditLog, StaffMembership


def _form(org: m.Organization, **changes: str) -> dict[str, str]:
    departments = list(org.departments.order_by("pk"))
    data = {
        "contact_ja": org.contact["ja"],
        "contact_en": org.contact.get("en", ""),
        "dept-TOTAL_FORMS": str(len(departments) + 1),
        "dept-INITIAL_FORMS": str(len(departments)),
        "dept-MIN_NUM_FORMS": "0",
        "dept-MAX_NUM_FORMS": "100",
    }
    for i, d in enumerate(departments):
        data[f"dept-{i}-slug"] = d.slug
        data[f"dept-{i}-name_ja"] = d.name["ja"]
        data[f"dept-{i}-name_en"] = d.name.get("en", "")
        data[f"dept-{i}-email"] = d.email
    data.update(changes)
    return data


def test_settings_are_written_as_organization_yaml_and_audited(world):
    client = world.client("city_admin")
    org = m.Organization.objects.get(slug="sample-city")
    before = org.content_hash
    page = client.get(reverse("console:organization_settings"))
    assert page.status_code == 200
    assert "kankyo@city.sample.example" in page.content.decode()
    n = org.departments.count()
    response = client.post(
        reverse("console:organization_settings"),
        _form(
            org,
            contact_ja="サンプル市役所 電話 06-1111-1111",
            **{
                "dept-1-email": "kankyo-new@city.sample.example",
                f"dept-{n}-slug": "parks",
                f"dept-{n}-name_ja": "公園課",
                f"dept-{n}-name_en": "Parks Division",
                f"dept-{n}-email": "parks@city.sample.example",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    org.refresh_from_db()
    assert org.content_hash != before
    spec, errors = parse_organization(org.source, slug=org.slug, rel_path="x/organization.yaml")
    assert errors == [] and spec is not None
    assert spec.content_hash == org.content_hash
    assert [d.slug for d in spec.departments][-1] == "parks"
    assert org.contact["ja"] == "サンプル市役所 電話 06-1111-1111"
    assert m.Department.objects.get(organization=org, slug="environment").email == (
        "kankyo-new@city.sample.example"
    )
    assert m.Department.objects.get(organization=org, slug="parks").name["en"] == "Parks Division"
    row = AuditLog.objects.get(action="console.settings_save")
    assert row.data["version_hash"] == org.content_hash and row.data["previous_hash"] == before


def test_a_department_cannot_be_removed_and_bad_input_is_refused(world):
    client = world.client("city_admin")
    org = m.Organization.objects.get(slug="sample-city")
    before = org.source
    data = _form(org, **{"dept-0-slug": ""})
    assert client.post(reverse("console:organization_settings"), data).status_code == 400
    data = _form(org, **{"dept-0-email": "not-an-address"})
    assert client.post(reverse("console:organization_settings"), data).status_code == 400
    org.refresh_from_db()
    assert org.source == before
    assert not AuditLog.objects.filter(action="console.settings_save").exists()


@pytest.mark.usefixtures("real_key")
def test_an_invitation_mail_carries_a_single_use_link_and_the_invitee_enrols_totp(
    world, django_capture_on_commit_callbacks
):
    client = world.client("city_admin")
    org = m.Organization.objects.get(slug="sample-city")
    dept = m.Department.objects.get(organization=org, slug="environment")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("console:staff_invite"),
            {
                "username": "newreviewer",
                "email": "new.reviewer@city.sample.example",
                "full_name": "新 職員",
                "role": "reviewer",
                "department": str(dept.pk),
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = StaffMembership.objects.get(user__username="newreviewer")
    assert (membership.role, membership.department_id) == ("reviewer", dept.pk)
    assert AuditLog.objects.filter(action="console.invite", object_id=str(membership.user_id))
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body)
    assert link
    path = "/" + link.group(0).split("/", 3)[3]

    invitee = Client()
    assert invitee.get(path).status_code == 200
    done = invitee.post(
        path, {"new_password1": "A-long-pass-2026!", "new_password2": "A-long-pass-2026!"}
    )
    assert done.status_code == 302
    # Single use: the link no longer works.
    assert Client().get(path).status_code == 404
    # The first sign-in leads to the enrolment of a second factor.
    signin = Client()
    response = signin.post(
        reverse("inbox:login"), {"username": "newreviewer", "password": "A-long-pass-2026!"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("inbox:otp_setup"))
    assert not TOTPDevice.objects.filter(user=membership.user, confirmed=True).exists()


def test_an_organization_admin_cannot_be_invited_here(world):
    client = world.client("city_admin")
    dept = m.Department.objects.get(organization__slug="sample-city", slug="environment")
    response = client.post(
        reverse("console:staff_invite"),
        {
            "username": "wannabe",
            "email": "w@city.sample.example",
            "role": "organization_admin",
            "department": str(dept.pk),
        },
    )
    assert response.status_code == 400
    assert not StaffMembership.objects.filter(user__username="wannabe").exists()
    assert mail.outbox == []
