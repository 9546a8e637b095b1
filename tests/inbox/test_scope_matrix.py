"""Every staff URL, for every kind of staff member, across two organizations with two
departments each: an object outside the user's scope answers 404, one inside does not;
anybody not signed in with both factors is sent to the sign-in.

The URLs are read from the `inbox` namespace of the URLconf, so a URL added later is walked
too; a URL whose arguments this file does not know yet fails until KWARGS says how to fill
them (and whether they are scoped)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from forms_engine import models as m
from tests.factories import png_bytes

from .conftest import World, verified_client

# Pages that are not behind the staff sign-in: the sign-in itself.
PUBLIC = {"login", "otp_verify", "otp_setup", "logout", "password_set"}
# Pages for some roles only: the others get 404 whatever the object.
ROLE_ONLY = {
    "staff_list": {"organization_admin"},
    "staff_add": {"organization_admin"},
    "staff_edit": {"organization_admin"},
    "audit_list": {"organization_admin"},
}


@dataclass
class Target:
    """The objects a URL may name: one submission of a department, its file, a member of
    staff of its organization."""

    submission: m.Submission
    attachment: m.Attachment
    staff_user: Any
    delivery: Any = None


# How each URL argument is filled from a target. Add the arguments of new URLs here.
KWARGS: dict[str, Callable[[Target], Any]] = {
    "submission_id": lambda t: t.submission.pk,
    "attachment_id": lambda t: t.attachment.pk,
    "user_id": lambda t: t.staff_user.pk,
    "delivery_id": lambda t: t.delivery.pk,
}


def _action_names() -> list[str]:
    from inbox.views.workflow import ACTIONS

    return sorted(ACTIONS)


# Arguments that name a kind of thing rather than an object: every value is walked.
ENUM_KWARGS: dict[str, Callable[[], list[str]]] = {
    "name": _action_names,  # submission_action: each review action
}


def inbox_patterns() -> list[tuple[str, list[str]]]:
    """(URL name, its arguments) for every URL of the `inbox` namespace."""
    _prefix, resolver = get_resolver().namespace_dict["inbox"]
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name:
                found.append((p.name, sorted(p.pattern.converters)))

    walk(resolver.url_patterns)
    return found


def test_the_walk_sees_the_inbox_urls():
    names = {name for name, _kwargs in inbox_patterns()}
    assert {"submission_list", "submission_detail", "attachment_download"} <= names


def _attach(submission: m.Submission) -> m.Attachment:
    attachment = m.Attachment(
        draft=submission.draft,
        submission=submission,
        field_key="photo",
        original_name="photo.png",
        size=len(png_bytes()),
        kind="png",
        content_type="image/png",
        status=m.Attachment.Status.CLEAN,
    )
    attachment.file.save("photo.png", ContentFile(png_bytes()), save=False)
    attachment.save()
    return attachment


@pytest.fixture
def targets(world: World, settings, tmp_path) -> dict[str, Target]:
    settings.MEDIA_ROOT = str(tmp_path)
    staff = {
        "city_env": world.users["city_env"],
        "city_cit": world.users["city_cit"],
        "pref_dx": world.users["pref_dx"],
        "pref_ga": world.users["pref_ga"],
    }
    for sub in world.submissions.values():
        _receipt_document(sub)
    return {
        key: Target(sub, _attach(sub), staff[key], _delivery(sub))
        for key, sub in world.submissions.items()
    }


def _receipt_document(sub: m.Submission) -> m.ReceiptDocument:
    """A stored receipt PDF of the submission (the inbox offers it for download)."""
    import io
    import secrets

    from forms_engine.storage import object_store

    key = f"receipts/{secrets.token_urlsafe(12)}.pdf"
    data = b"%PDF-1.4 matrix"
    object_store().upload_stream(key, io.BytesIO(data), "application/pdf")
    return m.ReceiptDocument.objects.create(submission=sub, key=key, size=len(data))


def _delivery(sub: m.Submission) -> Any:
    """A dead delivery of the submission (the inbox's retry button names it)."""
    from integrations.models import Delivery

    return Delivery.objects.create(
        submission=sub,
        procedure_version=sub.procedure_version,
        integration_id="matrix",
        type="webhook",
        state=Delivery.State.DEAD,
    )


# Persona -> (targets inside its scope, targets outside).
SCOPES = {
    "city_env": (["city_env"], ["city_cit", "pref_dx", "pref_ga"]),
    "city_env_admin": (["city_env"], ["city_cit", "pref_dx", "pref_ga"]),
    "city_cit": (["city_cit"], ["city_env", "pref_dx", "pref_ga"]),
    "city_admin": (["city_env", "city_cit"], ["pref_dx", "pref_ga"]),
    "pref_dx": (["pref_dx"], ["pref_ga", "city_env", "city_cit"]),
    "pref_admin": (["pref_dx", "pref_ga"], ["city_env", "city_cit"]),
}
ROLE_OF = {
    "city_env": "reviewer",
    "city_env_admin": "department_admin",
    "city_cit": "reviewer",
    "city_admin": "organization_admin",
    "pref_dx": "reviewer",
    "pref_admin": "organization_admin",
}


def _hit(client: Client, url: str) -> int:
    """GET, or an empty POST where the URL takes POST only."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response.status_code


def _kwargs(names: list[str], target: Target, mix: Target | None = None) -> list[dict[str, Any]]:
    """Every way of filling the URL's arguments for `target` (one per value of an
    enumerated argument)."""
    missing = [n for n in names if n not in KWARGS and n not in ENUM_KWARGS]
    assert not missing, f"tests/inbox/test_scope_matrix.py: add {missing} to KWARGS"
    base = {n: KWARGS[n](target) for n in names if n in KWARGS}
    if mix is not None and "submission_id" in base:
        # The other objects of another scope under a submission of this one.
        base["submission_id"] = mix.submission.pk
    combos = [base]
    for n in names:
        if n in ENUM_KWARGS:
            combos = [{**c, n: value} for c in combos for value in ENUM_KWARGS[n]()]
    return combos


def _urls(name: str, names: list[str], target: Target, mix: Target | None = None) -> list[str]:
    return [reverse(f"inbox:{name}", kwargs=kw) for kw in _kwargs(names, target, mix)]


def test_every_staff_url_answers_404_outside_the_scope_and_not_inside(world, targets):
    problems: list[str] = []
    for persona, (inside, outside) in SCOPES.items():
        client = world.client(persona)
        role = ROLE_OF[persona]
        for name, names in inbox_patterns():
            if name in PUBLIC:
                continue
            allowed = role in ROLE_ONLY.get(name, {role})
            if not names:
                status = _hit(client, reverse(f"inbox:{name}"))
                expected_404 = not allowed
                if (status == 404) != expected_404 or status >= 500 or status == 403:
                    problems.append(f"{persona} {name}: {status}")
                continue
            for key in outside:
                urls = _urls(name, names, targets[key])
                if len(set(names) & set(KWARGS)) > 1 and "submission_id" in names:
                    urls += _urls(name, names, targets[key], mix=targets[inside[0]])
                for url in urls:
                    status = _hit(client, url)
                    if status != 404:
                        problems.append(f"{persona} {name} outside ({key}) {url}: {status}")
            # Inside last: an action may change the object (an empty POST mostly refuses).
            for key in inside:
                for url in _urls(name, names, targets[key]):
                    status = _hit(client, url)
                    if allowed and (status in (403, 404) or status >= 500):
                        problems.append(f"{persona} {name} inside ({key}) {url}: {status}")
                    if not allowed and status != 404:
                        problems.append(f"{persona} {name} not for {role} ({key}) {url}: {status}")
    assert not problems, "\n".join(problems)


def test_every_staff_url_sends_anybody_without_both_factors_to_the_sign_in(world, targets):
    password_only = Client()
    password_only.force_login(world.users["city_env"])
    from django.contrib.auth import get_user_model

    outsider = get_user_model().objects.create_user("outsider", password="x-pass-2026!")
    no_membership = verified_client(outsider)
    problems = []
    for who, client in (
        ("anonymous", Client()),
        ("password only", password_only),
        ("no membership", no_membership),
    ):
        for name, names in inbox_patterns():
            if name in PUBLIC:
                continue
            url = _urls(name, names, targets["city_env"])[0]
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if response.status_code == 405:
                    continue
                location = response.get("Location", "")
                if response.status_code != 302 or not location.startswith(reverse("inbox:login")):
                    problems.append(f"{who} {method} {name}: {response.status_code} {location}")
    assert not problems, "\n".join(problems)
