"""Rotating SECRET_KEY keeps the status codes residents already hold working, as long as
the old key is listed in SECRET_KEY_FALLBACKS."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from forms_engine import services

from .conftest import file_completely

DOG = ("sample-city", "dog-registration")
OLD = "old-secret-key-for-the-rotation-test-0123456789abcdefghijklmnop"
NEW = "new-secret-key-for-the-rotation-test-0123456789abcdefghijklmnop"
TITLE = "犬の登録申請"


def status_page(client, number: str, code: str) -> str:
    return client.post(reverse("status"), {"number": number, "code": code}).content.decode()


def test_a_status_code_issued_before_a_key_rotation_still_opens_the_status_page(
    client, loaded, settings
):
    settings.SECRET_KEY = OLD
    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    number = draft.receipt.number
    code = services.status_code_for(number)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert TITLE in status_page(client, number, code)


def test_an_old_status_code_stops_working_once_its_key_leaves_the_fallbacks(
    client, loaded, settings
):
    settings.SECRET_KEY = OLD
    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    number = draft.receipt.number
    code = services.status_code_for(number)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, []
    assert TITLE not in status_page(client, number, code)


def test_a_receipt_mail_sent_after_a_key_rotation_carries_the_code_shown_at_completion(
    client, loaded, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the mail goes out after the rotation
    settings.SECRET_KEY = OLD
    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    number = draft.receipt.number
    shown = services.status_code_for(number)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert services.receipt_mails_send() == 1
    assert f"{shown}\n" in mail.outbox[0].body
    assert TITLE in status_page(client, number, shown)


def test_a_filing_after_the_rotation_gets_a_code_from_the_new_key(client, loaded, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    number = draft.receipt.number
    code = services.status_code_for(number)
    assert TITLE in status_page(client, number, code)
    settings.SECRET_KEY_FALLBACKS = []
    assert TITLE in status_page(client, number, code)


def test_a_receipt_mail_whose_key_was_dropped_fails_rather_than_carry_a_wrong_code(
    client, loaded, settings
):
    from forms_engine import models as m

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.SECRET_KEY = OLD
    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, []
    assert services.receipt_mails_send() == 0
    assert mail.outbox == []
    draft.receipt.refresh_from_db()
    assert draft.receipt.mail_status == m.Receipt.MailStatus.FAILED
