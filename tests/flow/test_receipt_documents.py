"""The receipt PDF of a filing: made once after filing and stored under a random key; the
receipt mail (text and HTML, in the resident's language) carries it and a link to the
status page, and nothing typed beyond what the resident wrote; the status page offers it
under its access rules (a wrong code, a stranger or another resident gets 404)."""

from __future__ import annotations

import datetime as dt
import subprocess
import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forms_engine import models as m
from forms_engine import services
from forms_engine.outbox import OutboxRetry
from forms_engine.storage import object_store

from .conftest import file_completely

DOG = ("sample-city", "dog-registration")
TYPED = {"name", "address", "phone", "text", "textarea", "kana", "email", "postal_code"}


def browser(language: str = "ja") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=language)
    c.cookies["django_language"] = language
    return c


def filed(language: str = "ja") -> m.Submission:
    draft, _done = file_completely(browser(language), reverse("procedure_start", args=list(DOG)))
    return draft.receipt.submissions.get()


def typed_texts(sub: m.Submission) -> list[str]:
    """What the resident typed into text-like fields (their personal data)."""
    spec = services.submission_spec(sub)
    out: list[str] = []

    def leaves(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from leaves(v)
        elif isinstance(value, list):
            for v in value:
                yield from leaves(v)

    for f in spec.iter_fields(include_group_children=False):
        if f.type in TYPED and f.id in sub.answers:
            out += [t for t in leaves(sub.answers[f.id]) if len(t) >= 2]
    assert out, "the filing typed nothing to look for"
    return out


def status_code(sub) -> str:
    return services.receipt_status_code(sub.receipt.number, sub.receipt.status_code_hash)


def granted(sub, language="ja") -> Client:
    c = browser(language)
    response = c.post(
        reverse("status"),
        {"number": sub.receipt.number, "code": status_code(sub), "next": str(sub.pk)},
    )
    assert response.status_code == 302
    return c


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_receipt_pdf_is_made_once_and_mailed_in_japanese(client, loaded, tmp_path):
    sub = filed("ja")
    doc = m.ReceiptDocument.objects.get(submission=sub)
    # A random key: no number, no id, no name.
    assert doc.key.startswith("receipts/") and doc.key.endswith(".pdf")
    assert sub.number not in doc.key and str(sub.pk) not in doc.key
    stored = b"".join(object_store().open_stream(doc.key))
    assert stored.startswith(b"%PDF-") and len(stored) == doc.size
    assert services.receipt_document_make(sub.pk).pk == doc.pk  # once
    assert m.ReceiptDocument.objects.filter(submission=sub).count() == 1

    (message,) = [x for x in mail.outbox if x.to == [sub.contact_email]]
    assert message.subject == f"申請を受け付けました ({sub.receipt.number})" or (
        sub.receipt.number in message.subject and "申請" in message.subject
    )
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and '<html lang="ja">' in html
    status_url = f"/status/{sub.pk}/"
    for body in (message.body, html):
        assert sub.receipt.number in body and status_code(sub) in body
        assert status_url in body
        assert "申請控え（PDF）を添付しています。" in body
        # What the resident typed is not in the mail's text: only in the PDF, for them.
        for typed in typed_texts(sub):
            assert typed not in body, typed
    ((name, content, kind),) = message.attachments
    assert name == f"申請控え-{sub.number}.pdf" and kind == "application/pdf"
    assert content == stored
    text = pdf_text(content, tmp_path)
    assert "申請控え" in text and sub.receipt.number in text
    # The status code is the resident's secret from the mail: not printed on the PDF.
    assert status_code(sub) not in text


def test_the_receipt_mail_and_pdf_are_in_english_for_an_english_filing(client, loaded, tmp_path):
    sub = filed("en")
    assert sub.receipt.language == "en"
    (message,) = [x for x in mail.outbox if x.to == [sub.contact_email]]
    html, _kind = message.alternatives[0]
    assert '<html lang="en">' in html
    for body in (message.body, html):
        assert "Thank you. We received your application." in body
        assert "The copy of your application (PDF) is attached." in body
        assert "受け付けました" not in body
    ((name, content, _),) = message.attachments
    assert name == f"application-receipt-{sub.number}.pdf"
    text = pdf_text(content, tmp_path)
    assert "Application receipt" in text and "Reiwa" in text


def test_with_a_broker_the_mail_waits_for_the_pdf_then_goes_without_it(
    client, loaded, settings, monkeypatch
):
    sub = filed("ja")
    m.ReceiptDocument.objects.filter(submission=sub).delete()
    m.Receipt.objects.filter(pk=sub.receipt_id).update(
        mail_status=m.Receipt.MailStatus.PENDING,
        mail_attempts=0,
        mail_next_attempt_at=timezone.now(),
    )
    mail.outbox.clear()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # a PDF worker exists somewhere
    with pytest.raises(OutboxRetry) as waited:
        services.receipt_mails.receipt_mail_send(sub.receipt_id)
    assert waited.value.error == "pdf_pending" and mail.outbox == []
    # The PDF worker is done: the mail carries it.
    services.receipt_document_make(sub.pk)
    services.receipt_mails.receipt_mail_send(sub.receipt_id)
    assert len(mail.outbox) == 1 and len(mail.outbox[0].attachments) == 1

    # No PDF within the wait: the mail goes with the status page link alone.
    m.ReceiptDocument.objects.filter(submission=sub).delete()
    m.Receipt.objects.filter(pk=sub.receipt_id).update(
        mail_status=m.Receipt.MailStatus.PENDING, mail_next_attempt_at=timezone.now()
    )
    later = timezone.now() + dt.timedelta(seconds=settings.RECEIPT_PDF_MAIL_WAIT_SECONDS + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    services.receipt_mails.receipt_mail_send(sub.receipt_id)
    message = mail.outbox[-1]
    assert message.attachments == []
    assert "申請控え（PDF）は状況ページからダウンロードできます。" in message.body


def test_the_status_page_offers_the_pdf_to_whoever_may_open_it_only(client, loaded):
    sub = filed("ja")
    doc = m.ReceiptDocument.objects.get(submission=sub)
    url = reverse("status_receipt_pdf", args=[sub.pk])

    owner = granted(sub)
    page = owner.get(reverse("status_submission", args=[sub.pk])).content.decode()
    assert f'href="{url}"' in page and "申請控え（PDF）をダウンロード" in page
    response = owner.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert body == b"".join(object_store().open_stream(doc.key))
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert sub.number in response["Content-Disposition"]

    # A stranger, a browser that typed a wrong code, an unknown id: 404.
    assert browser().get(url).status_code == 404
    wrong = browser()
    wrong.post(
        reverse("status"),
        {"number": sub.receipt.number, "code": "WRONG-CODE", "next": str(sub.pk)},
    )
    assert wrong.get(url).status_code == 404
    assert owner.get(reverse("status_receipt_pdf", args=[uuid.uuid4()])).status_code == 404

    # Another resident signed in gets 404; the resident who owns it gets the PDF.
    mine = m.Resident.objects.create(email="mine@example.jp")
    other = m.Resident.objects.create(email="other@example.jp")
    m.Draft.objects.filter(pk=sub.draft_id).update(resident=mine)
    for resident, expected in ((other, 404), (mine, 200)):
        c = browser()
        session = c.session
        session["resident"] = resident.pk
        session.save()
        assert c.get(url).status_code == expected, resident.email


def test_before_the_pdf_is_made_the_status_page_says_so_and_the_download_is_404(client, loaded):
    sub = filed("ja")
    m.ReceiptDocument.objects.filter(submission=sub).delete()
    owner = granted(sub)
    page = owner.get(reverse("status_submission", args=[sub.pk])).content.decode()
    assert "申請控え（PDF）を作成しています。" in page
    assert owner.get(reverse("status_receipt_pdf", args=[sub.pk])).status_code == 404
