"""Every console URL, walked from the `console` namespace: an organization admin gets 404
for another organization's objects and an answer for their own; reviewers and department
admins get 403 everywhere; anybody not signed in with both factors goes to the sign-in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from console import services
from console.models import ProcedureDraft
from forms_engine import models as m

from .conftest import verified_client


@dataclass
class Target:
    draft: ProcedureDraft
    procedure: m.Procedure


KWARGS: dict[str, Callable[[Target], Any]] = {
    "draft_id": lambda t: t.draft.pk,
    "procedure_id": lambda t: t.procedure.pk,
    "number": lambda t: 1,
    "lang": lambda t: "ja",
    "page_id": lambda t: "applicant",
}


def console_patterns() -> list[tuple[str, list[str]]]:
    _prefix, resolver = get_resolver().namespace_dict["console"]
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name:
                found.append((p.name, sorted(p.pattern.converters)))

    walk(resolver.url_patterns)
    return found


def _url(name: str, names: list[str], target: Target) -> str:
    missing = [n for n in names if n not in KWARGS]
    assert not missing, f"tests/console/test_access.py: add {missing} to KWARGS"
    return reverse(f"console:{name}", kwargs={n: KWARGS[n](target) for n in names})


@pytest.fixture
def targets(world) -> dict[str, Target]:
    out = {}
    for org_slug, slug, admin in (
        ("sample-city", "dog-registration", "city_admin"),
        ("osaka-pref", "dx-seminar", "pref_admin"),
    ):
        org = m.Organization.objects.get(slug=org_slug)
        procedure = m.Procedure.objects.get(organization=org, slug=slug)
        draft = services.draft_create(
            org, world.users[admin], "applicant-form", services.blank_template(org)
        )
        out[org_slug] = Target(draft, procedure)
    return out


def _hit(client: Client, url: str) -> int:
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response.status_code


def test_the_walk_sees_every_console_url():
    names = {name for name, _k in console_patterns()}
    assert {"procedure_list", "draft_edit", "preview_page", "export", "version_diff"} <= names


def test_an_organization_admin_gets_404_for_another_organizations_objects(world, targets):
    problems = []
    for persona, own, other in (
        ("city_admin", "sample-city", "osaka-pref"),
        ("pref_admin", "osaka-pref", "sample-city"),
    ):
        client = world.client(persona)
        for name, names in console_patterns():
            if not names:
                status = _hit(client, reverse(f"console:{name}"))
                if status in (403, 404) or status >= 500:
                    problems.append(f"{persona} {name}: {status}")
                continue
            status = _hit(client, _url(name, names, targets[other]))
            if status != 404:
                problems.append(f"{persona} {name} other organization: {status}")
        # Own objects last (an empty POST may change them), the delete very last.
        for name, names in sorted(console_patterns(), key=lambda p: "delete" in p[0]):
            if names:
                status = _hit(client, _url(name, names, targets[own]))
                if status in (403, 404) or status >= 500:
                    problems.append(f"{persona} {name} own: {status}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", ["city_env", "city_env_admin", "city_cit", "pref_dx"])
def test_staff_who_are_not_organization_admins_get_403(world, targets, persona):
    client = world.client(persona)
    problems = []
    for name, names in console_patterns():
        for target in targets.values():
            url = _url(name, names, target) if names else reverse(f"console:{name}")
            for method in ("get", "post"):
                status = getattr(client, method)(url).status_code
                if status not in (403, 405):
                    problems.append(f"{persona} {method} {name}: {status}")
    assert not problems, "\n".join(problems)


def test_anybody_without_both_factors_goes_to_the_sign_in(world, targets):
    from django.contrib.auth import get_user_model

    password_only = Client()
    password_only.force_login(world.users["city_admin"])
    outsider = get_user_model().objects.create_user("outsider", password="x-pass-2026!")
    problems = []
    for who, client in (
        ("anonymous", Client()),
        ("password only", password_only),
        ("no membership", verified_client(outsider)),
    ):
        for name, names in console_patterns():
            url = _url(name, names, targets["sample-city"]) if names else reverse(f"console:{name}")
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if response.status_code == 405:
                    continue
                if response.status_code != 302 or not response["Location"].startswith(
                    reverse("inbox:login")
                ):
                    problems.append(f"{who} {method} {name}: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_the_staff_menu_links_the_console_for_organization_admins_only(world):
    admin = world.client("city_admin").get(reverse("inbox:submission_list")).content.decode()
    reviewer = world.client("city_env").get(reverse("inbox:submission_list")).content.decode()
    assert reverse("console:procedure_list") in admin
    assert reverse("console:procedure_list") not in reviewer
