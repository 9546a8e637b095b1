"""A submission's deliveries on its inbox page: their state, and a dead one retried by a
member of staff who may see the submission (audited); nobody else can."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from forms_engine import models as m
from inbox.models import AuditLog
from integrations.models import Delivery


def dead_delivery(sub: m.Submission, integration: str = "animal-db") -> Delivery:
    return Delivery.objects.create(
        submission=sub,
        procedure_version=sub.procedure_version,
        integration_id=integration,
        type="webhook",
        state=Delivery.State.DEAD,
        attempts=1,
        last_status=400,
        last_error="http_400",
    )


def retry_url(sub: m.Submission, delivery: Delivery) -> str:
    return reverse("inbox:delivery_retry", args=[sub.pk, delivery.pk])


def test_the_detail_page_lists_the_deliveries_with_a_retry_button_for_dead_ones(world):
    sub = world.submissions["city_env"]
    dead = dead_delivery(sub)
    Delivery.objects.create(
        submission=sub,
        procedure_version=sub.procedure_version,
        integration_id="notify",
        type="email",
        state=Delivery.State.DELIVERED,
        attempts=1,
        delivered_at=timezone.now(),
    )
    text = (
        world.client("city_env")
        .get(reverse("inbox:submission_detail", args=[sub.pk]))
        .content.decode()
    )
    assert "animal-db" in text and "notify" in text and "http_400" in text
    assert retry_url(sub, dead) in text
    assert text.count("/retry/") == 1  # only the dead one offers a retry


def test_staff_retry_a_dead_delivery_and_it_is_audited(world, monkeypatch):
    monkeypatch.setattr("integrations.deliveries.deliveries_enqueue", lambda ids: None)
    sub = world.submissions["city_env"]
    dead = dead_delivery(sub)
    response = world.client("city_env").post(retry_url(sub, dead))
    assert response.status_code == 302
    assert response["Location"].endswith(f"/staff/submissions/{sub.pk}/#deliveries")
    dead.refresh_from_db()
    assert (dead.state, dead.attempts) == ("pending", 0)
    row = AuditLog.objects.get(action="delivery.retry")
    assert row.submission_id == sub.pk and row.data["delivery"] == str(dead.pk)
    assert row.actor_name == "city_env"


def test_staff_of_another_department_cannot_retry_it(world):
    sub = world.submissions["city_env"]
    dead = dead_delivery(sub)
    assert world.client("city_cit").post(retry_url(sub, dead)).status_code == 404
    assert world.client("pref_admin").post(retry_url(sub, dead)).status_code == 404
    other = world.submissions["city_cit"]
    # A delivery of one submission under another submission's address: not found either.
    assert world.client("city_admin").post(retry_url(other, dead)).status_code == 404
    dead.refresh_from_db()
    assert dead.state == "dead"
    assert not AuditLog.objects.filter(action="delivery.retry").exists()


def test_the_retry_is_a_post(world):
    sub = world.submissions["city_env"]
    dead = dead_delivery(sub)
    assert world.client("city_env").get(retry_url(sub, dead)).status_code == 405


def test_the_list_filters_by_delivery_state(world):
    dead_delivery(world.submissions["city_env"])
    client = world.client("city_admin")
    text = client.get(reverse("inbox:submission_list"), {"delivery": "dead"}).content.decode()
    assert world.submissions["city_env"].number in text
    assert world.submissions["city_cit"].number not in text
