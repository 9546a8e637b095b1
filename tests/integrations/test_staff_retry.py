"""Dead deliveries are visible to staff and retried by hand: the service, the command and
the Django admin (a list filtered by state, with an action)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from integrations.deliveries import delivery_retry
from integrations.models import Delivery
from tests.staff import login_verified


@pytest.fixture
def dead(child_delivery):
    Delivery.objects.filter(pk=child_delivery.pk).update(state="dead", attempts=12)
    return child_delivery


def test_only_a_dead_delivery_is_retried(dead):
    assert delivery_retry(dead.pk) is True
    dead.refresh_from_db()
    assert (dead.state, dead.attempts) == ("pending", 0)
    assert delivery_retry(dead.pk) is False


def test_the_command_retries_by_id_or_every_dead_one(dead):
    out = io.StringIO()
    call_command("deliveries_retry", "--all-dead", stdout=out)
    assert "1 of 1" in out.getvalue()
    dead.refresh_from_db()
    assert dead.state == "pending"
    with pytest.raises(CommandError):
        call_command("deliveries_retry")


def test_the_admin_lists_dead_deliveries_and_retries_them(client, dead, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", "pw-123456!")
    login_verified(client, admin)
    url = reverse("admin:integrations_delivery_changelist")
    listed = client.get(url, {"state__exact": "dead"}).content.decode()
    assert str(dead.submission.number) in listed or str(dead.integration_id) in listed
    response = client.post(
        url, {"action": "retry_dead", "_selected_action": [str(dead.pk)]}, follow=True
    )
    assert response.status_code == 200
    dead.refresh_from_db()
    assert dead.state == "pending"
