"""Submissions made straight in the database, with answers and fields chosen by the test
(the document and dashboard tests need many of them, in states no filing reaches at once)."""

from __future__ import annotations

import itertools
from pathlib import Path

from forms_engine import models as m
from forms_engine import services

TREE = Path(__file__).resolve().parent / "fixtures" / "procedures"
_numbers = itertools.count(1)


def load_test_town() -> m.Organization:
    report = services.procedures_load(TREE)
    assert report.errors == []
    return m.Organization.objects.get(slug="test-town")


def make_submission(procedure: m.Procedure, answers: dict, **fields) -> m.Submission:
    """A completed submission of the procedure's live version with these answers."""
    version = fields.pop("procedure_version", None) or procedure.live_version
    n = next(_numbers)
    number = fields.pop("number", f"TEST-{n:04d}-0000")
    receipt = m.Receipt.objects.create(number=number, status_code_hash="x")
    draft = m.Draft.objects.create(organization=procedure.organization, status="submitted")
    return m.Submission.objects.create(
        receipt=receipt,
        number=number,
        draft=draft,
        organization=procedure.organization,
        department=version.department,
        procedure=procedure,
        procedure_version=version,
        status=fields.pop("status", m.Submission.Status.SUBMITTED),
        answers=answers,
        contact_email="taro@example.jp",
        **fields,
    )
