"""The email target: a notice to the listed addresses with a link to the submission in the
staff inbox, and none of what the resident filed."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from forms_engine.outbox import outbox_dispatch
from integrations.deliveries import delivery_send
from integrations.models import Delivery
from tests.flow.conftest import file_completely

from .conftest import SEMINAR
from .test_webhook import _answer_strings


@pytest.fixture
def seminar_delivery(client, loaded, no_kicks):
    draft, _ = file_completely(client, reverse("procedure_start", args=list(SEMINAR)))
    sub = draft.submissions.get()
    outbox_dispatch("integrations.deliveries")
    mail.outbox.clear()
    return Delivery.objects.get(submission=sub)


def test_the_notice_links_to_the_inbox_and_holds_no_personal_data(seminar_delivery):
    assert seminar_delivery.type == "email"
    assert delivery_send(seminar_delivery.pk) == "delivered"
    (notice,) = mail.outbox
    assert notice.to == ["smartcity@pref.osaka.example"]
    sub = seminar_delivery.submission
    assert f"http://127.0.0.1:8000/staff/submissions/{sub.pk}/" in notice.body
    assert "DX" in notice.subject or "セミナー" in notice.subject
    everything = notice.subject + notice.body
    values = _answer_strings(sub)
    assert values  # the filing did hold text to leak
    for value in values:
        assert value not in everything
    assert sub.contact_email not in everything
    assert sub.number not in everything


class Refused(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({"x@example.jp": (550, b"5.1.1 unknown")})


class Down(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("gone")


def test_a_mail_server_outage_is_retried(seminar_delivery, settings):
    settings.EMAIL_BACKEND = "tests.integrations.test_email_target.Down"
    assert delivery_send(seminar_delivery.pk) == "retrying"
    seminar_delivery.refresh_from_db()
    assert seminar_delivery.last_error == "smtp:SMTPServerDisconnected"


def test_an_address_the_mail_server_refuses_is_dead_at_once(seminar_delivery, settings):
    settings.EMAIL_BACKEND = "tests.integrations.test_email_target.Refused"
    assert delivery_send(seminar_delivery.pk) == "dead"
