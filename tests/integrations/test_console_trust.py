"""Procedure text from the console is untrusted: an organization admin must not point a
csv drop at any folder of the server (file:///...), any bucket (s3://...) or another
organization's drop, nor a webhook at another organization's URL and signing secret
(env:NAME of any variable of the process). Only `env:ORG_<SLUG>_*` names pass, and an
integrations entry identical to the live version's (loaded by the operator) stays
publishable. Files of the procedures tree stay trusted.

(Regression tests of a security review: each failed before the fix.)"""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from console import services as console_services
from forms_engine import models as m
from forms_engine import services as core
from forms_engine.procedure_format.loader import SourceTrust, org_env_prefix, parse_procedure
from inbox.models import StaffMembership
from integrations.csv_export.models import CsvRun
from tests.inbox.conftest import _no_rate_limits, make_staff, verified_client  # noqa: F401
from tests.integrations.conftest import RECORDS, live_version
from tests.integrations.test_csv_runs import (  # noqa: F401
    DAY1,
    DAY1_RUN,
    clock,
    submit,
    tick,
    tick_and_write,
)

CSV_ENTRY = "  - id: records-csv\n    type: csv\n"
OWN_DROP = "env:ORG_OSAKA_PREF_RECORDS_DROP"


def _admin_draft(version: m.ProcedureVersion):
    admin = make_staff("pref_admin", "osaka-pref", StaffMembership.Role.ORGANIZATION_ADMIN)
    org = m.Organization.objects.get(slug="osaka-pref")
    draft = console_services.draft_create(
        org, admin, version.procedure.slug, version.source, version
    )
    return verified_client(admin), draft


def _errors(text: str) -> list[str]:
    org = m.Organization.objects.get(slug="osaka-pref")
    _spec, errors = core.procedure_source_check(org, RECORDS[1], text)
    return [str(e) for e in errors]


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_the_namespace_of_an_organization():
    assert org_env_prefix("osaka-pref") == "ORG_OSAKA_PREF_"
    assert org_env_prefix("sample-city") == "ORG_SAMPLE_CITY_"


@pytest.mark.django_db
def test_console_admin_cannot_point_a_csv_drop_outside(loaded, tmp_path):
    version = live_version(*RECORDS)
    client, draft = _admin_draft(version)
    outside = tmp_path / "outside-the-procedures-tree"
    text = version.source.replace(
        "destination: env:RECORDS_DROP", f'destination: "file://{outside}/"'
    )
    assert text != version.source
    response = client.post(
        reverse("console:draft_edit", args=[draft.pk]), {"text": text, "_action": "publish"}
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert 'id="publish-refused"' in page
    line = _line_of(text, f'    destination: "file://{outside}/"')
    assert (
        f"osaka-pref/records-disclosure.yaml:{line} integrations[0].destination: a procedure "
        "published from the console may not name a literal destination: write "
        "env:ORG_OSAKA_PREF_NAME and ask the operator to set it" in page
    )
    assert live_version(*RECORDS).pk == version.pk


@pytest.mark.django_db
def test_console_check_shows_the_refused_destinations_and_names(loaded):
    version = live_version(*RECORDS)
    client, draft = _admin_draft(version)
    text = version.source.replace(
        "destination: env:RECORDS_DROP", "destination: s3://another-bucket/records/"
    )
    response = client.post(
        reverse("console:draft_edit", args=[draft.pk]), {"text": text, "_action": "check"}
    )
    assert response.status_code == 200
    block = re.search(r'<ul class="check-errors">(.*?)</ul>', response.content.decode(), re.S)
    assert block is not None
    line = _line_of(text, "    destination: s3://another-bucket/records/")
    assert [html.unescape(e) for e in re.findall(r"<a [^>]*>(.*?)</a>", block.group(1))] == [
        f"osaka-pref/records-disclosure.yaml:{line} integrations[0].destination: a procedure "
        "published from the console may not name a literal destination: write "
        "env:ORG_OSAKA_PREF_NAME and ask the operator to set it"
    ]


@pytest.mark.django_db
def test_a_changed_csv_entry_must_name_the_organizations_own_variable(loaded):
    version = live_version(*RECORDS)
    # Another variable of the process (another organization's drop): refused.
    text = version.source.replace("encoding: cp932", "encoding: utf-8").replace(
        "destination: env:RECORDS_DROP", "destination: env:CITY_RECORDS_DROP"
    )
    line = _line_of(text, "    destination: env:CITY_RECORDS_DROP")
    assert _errors(text) == [
        f"osaka-pref/records-disclosure.yaml:{line} integrations[0].destination: "
        "env:CITY_RECORDS_DROP is not this organization's: a procedure published from the "
        "console may only name environment variables starting with ORG_OSAKA_PREF_ (such "
        "as env:ORG_OSAKA_PREF_CITY_RECORDS_DROP), set by the operator"
    ]
    # Another organization's namespace: refused; its own: accepted.
    assert _errors(text.replace("env:CITY_RECORDS_DROP", "env:ORG_SAMPLE_CITY_DROP"))
    assert _errors(text.replace("env:CITY_RECORDS_DROP", OWN_DROP)) == []


@pytest.mark.django_db
def test_console_published_drop_is_never_written_outside(loaded, tmp_path, settings):
    settings.CSV_LOCAL_ROOTS = []  # only the procedure check stands in the way here
    version = live_version(*RECORDS)
    client, draft = _admin_draft(version)
    outside = tmp_path / "outside-the-procedures-tree"
    text = version.source.replace(
        "destination: env:RECORDS_DROP", f'destination: "file://{outside}/"'
    )
    client.post(
        reverse("console:draft_edit", args=[draft.pk]), {"text": text, "_action": "publish"}
    )
    new = live_version(*RECORDS)
    submit(new, 1)
    tick(DAY1)
    assert tick_and_write(DAY1_RUN) == ["written"]
    run = CsvRun.objects.get()
    assert not (outside / run.file_name).exists(), f"CSV written to {outside / run.file_name}"


@pytest.mark.django_db
def test_console_admin_cannot_borrow_another_organizations_webhook_secret(loaded):
    """Osaka's admin names Sample City's back-office URL and signing secret: Osaka's
    filings would reach Sample City's animal DB, signed with Sample City's key."""
    version = live_version(*RECORDS)
    webhook = (
        "  - id: animal\n    type: webhook\n    url: env:ANIMAL_DB_URL\n"
        "    secret: env:ANIMAL_DB_SECRET\n"
    )
    text = version.source.replace(CSV_ENTRY, webhook + CSV_ENTRY)
    assert text != version.source
    errors = _errors(text)
    url_line = _line_of(text, "    url: env:ANIMAL_DB_URL")
    assert [e.split(": ", 1)[0] for e in errors] == [
        f"osaka-pref/records-disclosure.yaml:{url_line} integrations[0].url",
        f"osaka-pref/records-disclosure.yaml:{url_line + 1} integrations[0].secret",
    ]
    assert "env:ANIMAL_DB_SECRET is not this organization's" in errors[1]
    # SECRET_KEY and the like are no better; the organization's own names pass.
    assert _errors(text.replace("env:ANIMAL_DB_SECRET", "env:SECRET_KEY"))
    own = text.replace("env:ANIMAL_DB_", "env:ORG_OSAKA_PREF_ANIMAL_DB_")
    assert _errors(own) == []


@pytest.mark.django_db
def test_console_webhook_url_must_not_be_literal(loaded):
    version = live_version(*RECORDS)
    webhook = (
        "  - id: animal\n    type: webhook\n    url: https://backoffice.example/hook\n"
        "    secret: env:ORG_OSAKA_PREF_HOOK_SECRET\n"
    )
    text = version.source.replace(CSV_ENTRY, webhook + CSV_ENTRY)
    line = _line_of(text, "    url: https://backoffice.example/hook")
    assert _errors(text) == [
        f"osaka-pref/records-disclosure.yaml:{line} integrations[0].url: a procedure "
        "published from the console may not name a literal URL: write "
        "env:ORG_OSAKA_PREF_NAME and ask the operator to set it"
    ]


@pytest.mark.django_db
def test_an_entry_identical_to_the_live_versions_stays_publishable(loaded):
    """The live version came from the operator's procedures tree with `env:RECORDS_DROP`:
    editing a page from the console keeps that entry as it is, and publishes."""
    version = live_version(*RECORDS)
    client, draft = _admin_draft(version)
    assert "destination: env:RECORDS_DROP" in version.source
    text = version.source.replace("retention_days: 3650", "retention_days: 3000")
    assert text != version.source
    assert _errors(text) == []
    response = client.post(
        reverse("console:draft_edit", args=[draft.pk]), {"text": text, "_action": "publish"}
    )
    assert response.status_code == 302
    new = live_version(*RECORDS)
    assert new.pk != version.pk
    assert new.source == text
    # Republished unchanged, too (procedure_republish publishes the live text again).
    assert _errors(new.source) == []
    # Only an identical entry: one key changed makes it the console's, checked as such.
    changed = text.replace("encoding: cp932", "encoding: utf-8")
    assert len(_errors(changed)) == 1


@pytest.mark.django_db
def test_an_identical_entry_of_another_procedure_is_not_trusted(loaded):
    """Trust comes from the same procedure's live version only."""
    org = m.Organization.objects.get(slug="osaka-pref")
    version = live_version(*RECORDS)
    _spec, errors = core.procedure_source_check(org, "records-copy", version.source)
    assert [str(e).split(": ", 1)[1] for e in errors] == [
        "env:RECORDS_DROP is not this organization's: a procedure published from the "
        "console may only name environment variables starting with ORG_OSAKA_PREF_ (such "
        "as env:ORG_OSAKA_PREF_RECORDS_DROP), set by the operator"
    ]


@pytest.mark.django_db
def test_operator_files_stay_trusted(loaded):
    """The procedures tree (load_procedures, validate_procedures) loads as before: any
    env:NAME, literal destinations and URLs."""
    version = live_version(*RECORDS)
    text = version.source.replace(
        "destination: env:RECORDS_DROP", "destination: file:///srv/drops/records/"
    ).replace(
        CSV_ENTRY,
        "  - id: animal\n    type: webhook\n    url: https://backoffice.example/hook\n"
        "    secret: env:ANIMAL_DB_SECRET\n" + CSV_ENTRY,
    )
    kwargs = {"organization": None, "org_slug": "osaka-pref", "slug": RECORDS[1]}
    spec, errors = parse_procedure(text, rel_path="osaka-pref/x.yaml", **kwargs)
    assert errors == [] and spec is not None
    assert spec.integrations[1].config["destination"] == "file:///srv/drops/records/"
    _spec, errors = parse_procedure(
        text, rel_path="osaka-pref/x.yaml", trust=SourceTrust.console("osaka-pref"), **kwargs
    )
    assert len(errors) == 3
