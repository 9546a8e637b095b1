"""Receipt mails survive mail outages: retried with growing delays over days, a mail that
cannot be built is told from an outage, and a mail that failed stays visible."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from forms_engine import models as m
from forms_engine import services

from .conftest import file_completely

DOG = ("sample-city", "dog-registration")
DOWN = "tests.flow.test_receipt_mail_retries.MailServerDown"
UP = "django.core.mail.backends.locmem.EmailBackend"


class MailServerDown(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class Clock:
    """timezone.now() under the test's control."""

    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def receipt(client, loaded, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # beat polls; the request sends nothing
    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    assert mail.outbox == []
    return draft.receipt


def poll(clock: Clock, *, every: dt.timedelta, until: dt.timedelta) -> int:
    """Run the polling task as beat would, every `every`, for `until`; mails sent."""
    sent = 0
    end = clock.now + until
    while clock.now < end:
        sent += services.receipt_mails_send()
        clock.now += every
    return sent


def test_an_eighty_second_mail_outage_delays_the_receipt_mail_and_loses_nothing(
    receipt, settings, monkeypatch
):
    clock = Clock(monkeypatch)
    settings.EMAIL_BACKEND = DOWN
    assert poll(clock, every=dt.timedelta(seconds=10), until=dt.timedelta(seconds=90)) == 0
    settings.EMAIL_BACKEND = UP
    assert poll(clock, every=dt.timedelta(seconds=10), until=dt.timedelta(hours=1)) == 1
    assert len(mail.outbox) == 1 and receipt.number in mail.outbox[0].body
    receipt.refresh_from_db()
    assert receipt.mailed_at is not None


def test_a_day_long_mail_outage_still_delivers_the_receipt_mail_when_it_ends(
    receipt, settings, monkeypatch
):
    clock = Clock(monkeypatch)
    settings.EMAIL_BACKEND = DOWN
    assert poll(clock, every=dt.timedelta(minutes=10), until=dt.timedelta(hours=24)) == 0
    receipt.refresh_from_db()
    # Growing delays: a day of polls every ten minutes made few attempts, not 144.
    assert 5 < receipt.mail_attempts < 20
    assert receipt.mail_error == "SMTPServerDisconnected"
    settings.EMAIL_BACKEND = UP
    assert poll(clock, every=dt.timedelta(minutes=10), until=dt.timedelta(hours=5)) == 1
    assert len(mail.outbox) == 1


def test_the_retry_delays_double_up_to_a_cap_and_span_more_than_a_day():
    from forms_engine.services.receipt_mails import RECEIPT_MAIL_ATTEMPTS, retry_delay

    delays = [retry_delay(n) for n in range(1, RECEIPT_MAIL_ATTEMPTS)]
    assert delays[1] == 2 * delays[0] and delays[2] == 2 * delays[1]
    assert max(delays) == delays[-1] <= dt.timedelta(hours=6)
    assert sum(delays, dt.timedelta()) > dt.timedelta(days=1)


def test_a_receipt_mail_that_cannot_be_built_fails_at_once_and_is_logged_without_personal_data(
    receipt, monkeypatch, caplog
):
    def broken(receipt):
        raise ValueError("cannot build a mail for taro@example.jp")

    monkeypatch.setattr(services.receipt_mails, "_receipt_mail", broken)
    with caplog.at_level(logging.INFO, logger="forms_engine"):
        assert services.receipt_mails_send() == 0
        assert services.receipt_mails_send() == 0  # not tried again: it is no outage
    receipt.refresh_from_db()
    assert receipt.mail_status == m.Receipt.MailStatus.FAILED
    assert receipt.mail_attempts == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    text = errors[0].getMessage() + (errors[0].exc_text or "")
    assert str(receipt.pk) in text and "ValueError" in text
    assert "taro@example.jp" not in text and receipt.number not in text


def test_a_mail_outage_past_the_retry_window_leaves_the_mail_failed_logged_and_retryable(
    receipt, settings, monkeypatch, caplog
):
    clock = Clock(monkeypatch)
    settings.EMAIL_BACKEND = DOWN
    with caplog.at_level(logging.INFO, logger="forms_engine"):
        assert poll(clock, every=dt.timedelta(minutes=10), until=dt.timedelta(days=4)) == 0
    receipt.refresh_from_db()
    assert receipt.mail_status == m.Receipt.MailStatus.FAILED
    assert [r.levelno for r in caplog.records].count(logging.ERROR) == 1
    # The operator fixes the mail server and sends what failed again.
    settings.EMAIL_BACKEND = UP
    call_command("receipt_mails_retry")
    assert services.receipt_mails_send() == 1
    receipt.refresh_from_db()
    assert receipt.mail_status == m.Receipt.MailStatus.SENT


def test_failed_receipt_mails_are_listed_and_filtered_in_the_admin(
    client, receipt, monkeypatch, django_user_model
):
    def broken(receipt):
        raise ValueError("cannot build this mail")

    monkeypatch.setattr(services.receipt_mails, "_receipt_mail", broken)
    services.receipt_mails_send()
    admin = django_user_model.objects.create_superuser("root", "root@example.jp", "pw-123456!")
    client.force_login(admin)
    url = reverse("admin:forms_engine_receipt_changelist")
    failed = client.get(url, {"mail_status__exact": "failed"}).content.decode()
    sent = client.get(url, {"mail_status__exact": "sent"}).content.decode()
    assert receipt.number in failed
    assert receipt.number not in sent


def test_a_receipt_without_a_contact_address_is_not_retried(receipt, monkeypatch):
    def no_address(receipt):
        return None

    monkeypatch.setattr(services.receipt_mails, "_receipt_mail", no_address)
    assert services.receipt_mails_send() == 0
    receipt.refresh_from_db()
    assert receipt.mail_status == m.Receipt.MailStatus.NO_ADDRESS
