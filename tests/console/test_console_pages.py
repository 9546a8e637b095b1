"""The console's pages answer for an organization admin, and what they show."""

from __future__ import annotations

from django.urls import reverse

from console.models import ProcedureDraft


def test_procedures_page_lists_every_procedure_with_state_window_filings_and_link(world):
    client = world.client("city_admin")
    response = client.get(reverse("console:procedure_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "dog-registration" in body and "resident-moving-in" in body
    assert "dx-seminar" not in body  # the other organization's
    assert reverse("procedure_start", args=["sample-city", "dog-registration"]) in body
    assert "公開中" in body


def test_new_from_blank_template_is_valid_and_opens_the_editor(world):
    client = world.client("city_admin")
    response = client.post(
        reverse("console:procedure_new"), {"slug": "new-thing", "start": "blank"}
    )
    draft = ProcedureDraft.objects.get(slug="new-thing")
    assert response.status_code == 302
    assert response["Location"] == reverse("console:draft_edit", args=[draft.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'id="check-ok"' in page.content.decode()
