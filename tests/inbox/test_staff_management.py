"""Organization admins manage their own organization's staff; demo staff for make run."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from forms_engine import models as m
from inbox.models import AuditLog, StaffMembership

from .conftest import R, department

User = get_user_model()


def test_the_staff_page_lists_the_organizations_staff_only(world):
    text = world.client("city_admin").get(reverse("inbox:staff_list")).content.decode()
    assert "city_env" in text and "city_cit" in text
    assert "pref_dx" not in text


def test_adding_a_new_account_mails_a_link_that_sets_the_password_once(
    world, django_capture_on_commit_callbacks
):
    admin = world.client("city_admin")
    env = department("sample-city", "environment")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("inbox:staff_add"),
            {
                "username": "newbie",
                "email": "newbie@city.example",
                "full_name": "新人 花子",
                "role": R.REVIEWER,
                "department": env.pk,
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert not user.has_usable_password()
    assert user.staff_memberships.get().department == env
    (message,) = mail.outbox
    assert message.to == ["newbie@city.example"]
    link = re.search(r"http://\S+/staff/password/\S+/", message.body)[0]
    path = link.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    page = client.get("/" + path)
    assert page.status_code == 200
    done = client.post(
        "/" + path,
        {"new_password1": "a-good-long-pass-2026", "new_password2": "a-good-long-pass-2026"},
    )
    assert done.status_code == 302
    assert Client().get("/" + path).status_code == 404  # used once
    row = AuditLog.objects.get(action="staff.add")
    assert row.actor_name == "city_admin" and row.data["created"] is True
    assert "newbie@city.example" not in str(row.data)


def test_an_existing_account_gets_a_role_but_never_a_second_organization(world):
    admin = world.client("city_admin")
    loose = User.objects.create_user("loose", password="pw-long-2026!")
    cit = department("sample-city", "citizens")
    ok = admin.post(
        reverse("inbox:staff_add"),
        {"username": "loose", "role": R.DEPARTMENT_ADMIN, "department": cit.pk},
    )
    assert ok.status_code == 302
    assert loose.staff_memberships.get().role == R.DEPARTMENT_ADMIN
    refused = admin.post(
        reverse("inbox:staff_add"),
        {"username": "pref_dx", "role": R.REVIEWER, "department": cit.pk},
    )
    assert refused.status_code == 400
    # The same words as for any account that cannot join: nothing told about pref_dx.
    assert "追加できません" in refused.content.decode()
    User.objects.create_superuser("root", password="root-pass-2026!")
    root = admin.post(
        reverse("inbox:staff_add"), {"username": "root", "role": R.REVIEWER, "department": cit.pk}
    )
    assert root.status_code == 400
    assert not StaffMembership.objects.filter(user__username="root").exists()
    assert not StaffMembership.objects.filter(
        user__username="pref_dx", organization__slug="sample-city"
    ).exists()
    # A department of another organization cannot be chosen.
    pref_dept = department("osaka-pref", "smart-city")
    bad = admin.post(
        reverse("inbox:staff_add"),
        {"username": "loose", "role": R.REVIEWER, "department": pref_dept.pk},
    )
    assert bad.status_code == 400


def test_changing_the_role_and_deactivating_are_audited(world):
    admin = world.client("city_admin")
    member = world.users["city_env"]
    url = reverse("inbox:staff_edit", args=[member.pk])
    cit = department("sample-city", "citizens")
    assert (
        admin.post(url, {"_action": "role", "role": R.REVIEWER, "department": cit.pk}).status_code
        == 302
    )
    assert member.staff_memberships.get().department == cit
    # Role without its department, or an org admin with one: refused.
    assert (
        admin.post(url, {"_action": "role", "role": R.REVIEWER, "department": ""}).status_code
        == 400
    )
    assert (
        admin.post(
            url, {"_action": "role", "role": R.ORGANIZATION_ADMIN, "department": cit.pk}
        ).status_code
        == 400
    )

    reviewer_client = world.client("city_env")
    assert admin.post(url, {"_action": "deactivate"}).status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert reviewer_client.get(reverse("inbox:submission_list")).status_code == 302
    own = reverse("inbox:staff_edit", args=[world.users["city_admin"].pk])
    assert admin.post(own, {"_action": "deactivate"}).status_code == 400
    assert [
        r.action for r in AuditLog.objects.filter(action__startswith="staff.").order_by("id")
    ] == [
        "staff.change",
        "staff.deactivate",
    ]


def test_staff_of_another_organization_cannot_be_edited(world):
    admin = world.client("city_admin")
    other = world.users["pref_dx"]
    url = reverse("inbox:staff_edit", args=[other.pk])
    assert admin.get(url).status_code == 404
    assert admin.post(url, {"_action": "deactivate"}).status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_make_run_creates_demo_staff_who_sign_in_with_the_printed_codes(loaded):
    out = io.StringIO()
    call_command("ensure_demo_staff", stdout=out)
    text = out.getvalue()
    users = re.findall(
        r"user: (\S+)  password: (\S+)  one-time codes \(each works once\): (.+)", text
    )
    assert {u for u, _p, _c in users} == {"demo-org-admin", "demo-citizens", "demo-environment"}
    roles = {
        ms.user.username: (ms.role, ms.department.slug if ms.department else None)
        for ms in StaffMembership.objects.select_related("user", "department")
    }
    assert roles == {
        "demo-org-admin": (R.ORGANIZATION_ADMIN, None),
        "demo-citizens": (R.REVIEWER, "citizens"),
        "demo-environment": (R.REVIEWER, "environment"),
    }
    for username, password, codes in users:
        client = Client()
        step = client.post("/staff/login/", {"username": username, "password": password})
        assert step.status_code == 302
        assert client.post(step["Location"], {"token": codes.split()[0]}).status_code == 302
        assert client.get(reverse("inbox:submission_list")).status_code == 200
    # Again: the same accounts, fresh codes.
    call_command("ensure_demo_staff", stdout=io.StringIO())
    assert StaffMembership.objects.count() == 3


def test_demo_staff_are_refused_outside_the_embedded_default(loaded, settings):
    settings.EMBEDDED = False
    with pytest.raises(CommandError):
        call_command("ensure_demo_staff", stdout=io.StringIO())
    assert not User.objects.filter(username__startswith="demo-").exists()


def test_make_run_runs_the_demo_staff_command():
    import subprocess

    from tests.test_make_run import REPO

    result = subprocess.run(
        ["make", "-n", "run"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert "ensure_demo_staff" in result.stdout
    lines = result.stdout.splitlines()
    load = next(i for i, line in enumerate(lines) if "load_procedures" in line)
    assert load < next(i for i, line in enumerate(lines) if "ensure_demo_staff" in line)
    assert m.Organization  # the command needs the loaded organizations


def test_a_member_makes_new_backup_codes_and_the_old_ones_stop_working(world):
    from django_otp.plugins.otp_static.models import StaticToken

    from inbox.otp import static_codes_replace

    user = world.users["city_env"]
    old = static_codes_replace(user, "backup", 3)
    client = world.client("city_env")
    response = client.post(reverse("inbox:account"), {"_action": "backup_codes"})
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())
    assert len(new) == 10
    tokens = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert tokens == set(new) and not tokens & set(old)
    assert AuditLog.objects.filter(
        action="otp.backup_codes_replaced", actor_name="city_env"
    ).exists()


def test_an_organization_admin_resets_a_lost_second_factor(world):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    member = world.users["city_env"]
    member_client = world.client("city_env")  # has a verified device
    admin = world.client("city_admin")
    url = reverse("inbox:staff_edit", args=[member.pk])
    assert admin.post(url, {"_action": "reset_second_factor"}).status_code == 302

    assert not TOTPDevice.objects.filter(user=member).exists()
    # The session verified with the removed device no longer passes.
    assert member_client.get(reverse("inbox:submission_list")).status_code == 302
    step = Client().post("/staff/login/", {"username": "city_env", "password": "staff-pass-2026!"})
    assert step["Location"].startswith(reverse("inbox:otp_setup"))
    assert AuditLog.objects.filter(action="staff.second_factor_reset").count() == 1
