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
from tests.staff import login_verified

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
    login_verified(client, admin)
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


class RecipientRefused(BaseEmailBackend):
    def send_messages(self, email_messages):
        to = email_messages[0].to[0]
        raise smtplib.SMTPRecipientsRefused({to: (550, b"5.1.1 user unknown")})


class Greylisted(BaseEmailBackend):
    def send_messages(self, email_messages):
        to = email_messages[0].to[0]
        raise smtplib.SMTPRecipientsRefused({to: (450, b"4.7.1 try again later")})


class ContentRefused(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPDataError(554, b"5.7.1 message refused")


@pytest.mark.parametrize(
    ("backend", "error"),
    [("RecipientRefused", "SMTPRecipientsRefused"), ("ContentRefused", "SMTPDataError")],
)
def test_a_mail_the_server_refuses_for_good_fails_at_once_not_as_an_outage(
    receipt, settings, caplog, backend, error
):
    settings.EMAIL_BACKEND = f"tests.flow.test_receipt_mail_retries.{backend}"
    with caplog.at_level(logging.INFO, logger="forms_engine"):
        assert services.receipt_mails_send() == 0
    receipt.refresh_from_db()
    assert receipt.mail_status == m.Receipt.MailStatus.FAILED
    assert (receipt.mail_attempts, receipt.mail_error) == (1, error)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "refused by the mail server" in errors[0]
    assert "@" not in errors[0]


def test_a_temporary_refusal_of_the_recipient_is_retried(receipt, settings):
    settings.EMAIL_BACKEND = "tests.flow.test_receipt_mail_retries.Greylisted"
    assert services.receipt_mails_send() == 0
    receipt.refresh_from_db()
    assert receipt.mail_status == m.Receipt.MailStatus.PENDING
    assert receipt.mail_next_attempt_at > timezone.now()


class InsideATransaction(BaseEmailBackend):
    """Records, for each mail, whether it was handed over inside a database transaction
    (where the receipt's row lock would be held while the mail server takes its time)."""

    seen: list[bool] = []

    def send_messages(self, email_messages):
        from django.db import connection

        InsideATransaction.seen.append(connection.in_atomic_block)
        return len(email_messages)


def test_no_receipt_mail_is_sent_while_a_transaction_holds_its_row(
    transactional_db, receipt, settings
):
    settings.EMAIL_BACKEND = "tests.flow.test_receipt_mail_retries.InsideATransaction"
    InsideATransaction.seen = []
    assert services.receipt_mails_send() == 1
    assert InsideATransaction.seen == [False]
    receipt.refresh_from_db()
    assert receipt.mail_status == m.Receipt.MailStatus.SENT


def test_a_mail_being_sent_is_not_taken_by_another_worker(receipt, settings):
    # Claimed (leased) by one worker, whose send is still under way: a second poll skips it.
    from forms_engine.services.receipt_mails import _receipt_mail_claim

    claimed = _receipt_mail_claim(receipt.pk)
    assert claimed is not None
    assert services.receipt_mails_send() == 0
    assert mail.outbox == []


def test_a_mail_server_that_never_answers_is_an_outage_after_email_timeout(receipt, settings):
    import socket

    # Accepts connections (the kernel's backlog) and never says a word.
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(8)
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = blackhole.getsockname()
        settings.EMAIL_TIMEOUT = 0.5
        assert services.receipt_mails_send() == 0
    finally:
        blackhole.close()
    receipt.refresh_from_db()
    assert receipt.mail_status == m.Receipt.MailStatus.PENDING
    assert receipt.mail_error == "SMTPServerDisconnected"  # smtplib's word for the timeout


def test_smtp_waits_ten_seconds_at_most_unless_configured():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django; django.setup(); from django.core.mail import get_connection; "
        "print(get_connection('django.core.mail.backends.smtp.EmailBackend').timeout)"
    )
    env = {k: v for k, v in os.environ.items() if k != "EMAIL_TIMEOUT"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "10"


def test_the_receipt_mail_is_one_consumer_of_the_outbox_with_its_own_progress(
    receipt, settings, monkeypatch
):
    clock = Clock(monkeypatch)
    rows = m.OutboxConsumption.objects.filter(
        consumer="forms_engine.receipt_mails", event__submission__receipt=receipt
    )
    (row,) = rows
    assert (row.event.topic, row.state) == ("submission.completed", "pending")
    settings.EMAIL_BACKEND = DOWN
    assert services.receipt_mails_send() == 0
    row.refresh_from_db()
    # The outage is the receipt mail's alone: the row waits for its next attempt.
    assert row.state == "pending" and row.next_attempt_at > clock.now
    assert row.last_error == "SMTPServerDisconnected"
    settings.EMAIL_BACKEND = UP
    clock.advance(minutes=2)
    assert services.receipt_mails_send() == 1
    row.refresh_from_db()
    assert row.state == "done"
