"""A completed filing keeps the kind of device it was filed from, never the User-Agent."""

from __future__ import annotations

import json

from django.urls import reverse

from forms_engine import models as m

from .conftest import file_completely

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_a_filing_from_a_phone_is_recorded_as_a_phone_without_the_header(client, loaded):
    client.defaults["HTTP_USER_AGENT"] = IPHONE
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["osaka-pref", "dx-seminar"])
    )
    sub = draft.receipt.submissions.get()
    assert sub.client_kind == m.Submission.ClientKind.PHONE
    # The header is nowhere in the submission's row, its draft's or its outbox events.
    row = m.Submission.objects.filter(pk=sub.pk).values().get()
    stored = json.dumps(
        [row, list(m.Draft.objects.filter(pk=draft.pk).values()), list(sub.events.values())],
        default=str,
    )
    assert "iPhone OS" not in stored and "Safari" not in stored


def test_a_filing_without_a_header_is_unknown(client, loaded):
    draft, _done = file_completely(
        client, reverse("procedure_start", args=["osaka-pref", "dx-seminar"])
    )
    assert draft.receipt.submissions.get().client_kind == m.Submission.ClientKind.UNKNOWN
