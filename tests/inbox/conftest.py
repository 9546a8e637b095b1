"""Personas of the staff side: two organizations (sample-city, osaka-pref), two departments
each, a reviewer per department, a department admin, an organization admin; submissions
made straight from loaded procedure versions (fast), and clients signed in with both
factors."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from forms_engine import models as m
from forms_engine import services
from inbox.models import StaffMembership

R = StaffMembership.Role
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


@pytest.fixture
def loaded(db):
    report = services.procedures_load(settings.PROCEDURES_DIR)
    assert report.errors == []
    return report


def procedure(org: str, slug: str) -> m.Procedure:
    return m.Procedure.objects.select_related("live_version").get(organization__slug=org, slug=slug)


def department(org: str, slug: str) -> m.Department:
    return m.Department.objects.get(organization__slug=org, slug=slug)


def make_submission(
    org: str = "sample-city",
    slug: str = "dog-registration",
    *,
    family: str = "山田",
    given: str = "太郎",
    kana_family: str = "ヤマダ",
    kana_given: str = "タロウ",
    status: str = m.Submission.Status.SUBMITTED,
    submitted_at=None,
    number: str | None = None,
    answers: dict[str, Any] | None = None,
    **fields: Any,
) -> m.Submission:
    """A submission of the live version of a loaded procedure, as completion writes it."""
    proc = procedure(org, slug)
    version = proc.live_version
    assert version is not None
    spec = services.version_spec(version)
    draft = m.Draft.objects.create(
        organization=proc.organization,
        version_ids=[version.pk],
        status=m.Draft.Status.SUBMITTED,
    )
    n = next(_numbers)
    number = number or f"TEST-{n:04d}-{org[:4].upper()}"
    receipt = m.Receipt.objects.create(number=number, status_code_hash="x")
    values = {
        "name": {
            "family": family,
            "given": given,
            "kana_family": kana_family,
            "kana_given": kana_given,
        },
        "email": "resident@example.jp",
    }
    values.update(answers or {})
    return m.Submission.objects.create(
        receipt=receipt,
        number=number,
        draft=draft,
        organization=proc.organization,
        department=version.department,
        procedure=proc,
        procedure_version=version,
        status=status,
        answers=values,
        contact_email="resident@example.jp",
        submitted_at=submitted_at or timezone.now(),
        name_search=services.submission_name_search(spec, values),
        **fields,
    )


def make_staff(username: str, org: str, role: str, dept: str | None = None, **extra: Any):
    User = get_user_model()
    user = User.objects.create_user(
        username, f"{username}@staff.example", "staff-pass-2026!", **extra
    )
    StaffMembership.objects.create(
        user=user,
        organization=m.Organization.objects.get(slug=org),
        department=department(org, dept) if dept else None,
        role=role,
    )
    return user


def verified_client(user) -> Client:
    """A client signed in as `user` with a confirmed TOTP device verified in its session
    (what inbox:otp_verify leaves behind; the sign-in itself is tested on its own)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@dataclass
class World:
    """Two organizations, two departments each, and their staff."""

    users: dict[str, Any]
    submissions: dict[str, m.Submission]

    def client(self, name: str) -> Client:
        return verified_client(self.users[name])


@pytest.fixture
def world(loaded) -> World:
    users = {
        "city_env": make_staff("city_env", "sample-city", R.REVIEWER, "environment"),
        "city_cit": make_staff("city_cit", "sample-city", R.REVIEWER, "citizens"),
        "city_env_admin": make_staff(
            "city_env_admin", "sample-city", R.DEPARTMENT_ADMIN, "environment"
        ),
        "city_admin": make_staff("city_admin", "sample-city", R.ORGANIZATION_ADMIN),
        "pref_dx": make_staff("pref_dx", "osaka-pref", R.REVIEWER, "smart-city"),
        "pref_ga": make_staff("pref_ga", "osaka-pref", R.REVIEWER, "general-affairs"),
        "pref_admin": make_staff("pref_admin", "osaka-pref", R.ORGANIZATION_ADMIN),
    }
    submissions = {
        "city_env": make_submission("sample-city", "dog-registration"),
        "city_cit": make_submission(
            "sample-city",
            "resident-moving-in",
            family="佐藤",
            given="花子",
            kana_family="サトウ",
            kana_given="ハナコ",
        ),
        "pref_dx": make_submission(
            "osaka-pref",
            "dx-seminar",
            family="鈴木",
            given="一郎",
            kana_family="スズキ",
            kana_given="イチロウ",
        ),
        "pref_ga": make_submission(
            "osaka-pref",
            "records-disclosure",
            family="高橋",
            given="次郎",
            kana_family="タカハシ",
            kana_given="ジロウ",
        ),
    }
    return World(users, submissions)
