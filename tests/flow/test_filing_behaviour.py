"""What a resident relies on: nothing typed is lost, a filing stays on its version, a second
submit files nothing new, hidden answers are never kept, and the acceptance window holds."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from forms_engine import models as m
from forms_engine import services
from forms_engine.fields import Ctx
from tests.factories import page_post

from .conftest import file_completely, page_spec, walk_to_confirm

DOG = ("sample-city", "dog-registration")


def start(client, org_slug=DOG):
    response = client.post(reverse("procedure_start", args=list(org_slug)))
    assert response.status_code == 302
    return response["Location"]


def test_back_keeps_what_was_typed_even_when_it_does_not_validate_yet(client, loaded):
    url = start(client)
    response = client.post(url, {"_action": "back", "f-name-family": "山田", "f-phone": "06-12"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert 'value="山田"' in page
    assert 'value="06-12"' in page


def test_the_previous_page_shows_its_saved_answers(client, loaded):
    first = start(client)
    _d, _p, page = page_spec(first)
    second = client.post(first, page_post(page))["Location"]
    assert second != first
    html = client.get(first).content.decode()
    assert 'value="山田"' in html and 'value="taro@example.jp"' in html


def test_an_invalid_page_shows_errors_and_keeps_the_input(client, loaded):
    url = start(client)
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-phone"] = "12345"
    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert 'href="#f-phone"' in html  # the input itself
    assert 'value="12345"' in html
    assert 'aria-invalid="true"' in html


def test_hidden_answers_are_never_kept(client, loaded):
    def tweak(position, page, data):
        if page.id == "dog":
            data["f-breed"] = "shiba"
            data["f-breed_other"] = "秘密の犬種"  # posted, but hidden by breed != 'other'
            data["f-vaccinated"] = "no"
        return data

    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)), tweak)
    answers = draft.receipt.submissions.get().answers
    assert answers["breed"] == "shiba"
    assert "breed_other" not in answers
    assert "vaccination_certificate" not in answers


def test_a_shown_conditional_field_is_validated_on_the_server(client, loaded):
    url = start(client)
    _d, _p, page = page_spec(url)
    url = client.post(url, page_post(page))["Location"]
    _d, _p, page = page_spec(url)
    data = page_post(page, skip={"breed_other"})
    data["f-breed"] = "other"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "f-breed_other-error" in response.content.decode()


def test_submitting_again_after_completion_returns_the_first_receipt(client, loaded):
    # Taps one after the other; taps at the same moment are in test_concurrency.py.
    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(DOG)))
    first = client.post(confirm)
    second = client.post(confirm)
    assert first.status_code == second.status_code == 302
    assert m.Submission.objects.count() == 1
    assert m.Receipt.objects.count() == 1
    assert m.OutboxEvent.objects.filter(topic="submission.completed").count() == 1
    # Calling the service again returns the same receipt, without a second status code.
    draft_id = confirm.split("/")[2]
    again = services.submission_complete(draft_id)
    assert again.status_code is None
    assert again.receipt.submissions.count() == 1


def test_receipt_numbers_use_unambiguous_characters_and_the_status_needs_the_code(client, loaded):
    draft, done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    number = draft.receipt.number
    assert re.fullmatch(
        r"[ACEFHJKMNPRTWXY34679]{4}-[ACEFHJKMNPRTWXY34679]{4}-[ACEFHJKMNPRTWXY34679]{4}", number
    )
    code = re.search(r'class="status-code">([A-Z0-9]+)<', done.content.decode())[1]
    assert services.receipt_lookup(number, code) == draft.receipt
    assert services.receipt_lookup(number, "AAAAAAAA") is None
    page = client.post(reverse("status"), {"number": number, "code": "AAAAAAAA"}).content.decode()
    # The number alone reveals nothing (it is only echoed back into its input).
    assert "犬の登録申請" not in page and 'class="submissions"' not in page
    page = client.post(reverse("status"), {"number": number.lower().replace("-", ""), "code": code})
    assert "犬の登録申請" in page.content.decode()
    # The code stays on the completion page for 10 minutes (a reload or a language switch
    # keeps it), then only the receipt number does.
    assert code in client.get(done.wsgi_request.path).content.decode()
    import time

    from forms_engine.views import completion as views

    later = time.time() + views.STATUS_CODE_SHOWN_SECONDS + 1
    with mock.patch.object(views.time, "time", return_value=later):
        again = client.get(done.wsgi_request.path).content.decode()
    assert number in again and code not in again


def test_a_filing_stays_on_the_version_it_started_with(client, loaded, tmp_path, settings):
    url = start(client)
    draft, _p, _page = page_spec(url)
    old_version = services.draft_versions(draft)[0]

    tree = tmp_path / "procedures"
    shutil.copytree(settings.PROCEDURES_DIR, tree)
    path = tree / "sample-city" / "dog-registration.yaml"
    text = path.read_text(encoding="utf-8").replace("犬の名前", "犬の呼び名")
    path.write_text(text, encoding="utf-8")
    report = services.procedures_load(tree)
    assert "sample-city/dog-registration" in report.created

    procedure = old_version.procedure
    procedure.refresh_from_db()
    assert procedure.live_version.number == old_version.number + 1
    # The draft still renders and completes with version 1.
    draft.refresh_from_db()
    assert services.draft_versions(draft)[0].pk == old_version.pk
    _d, _p, page = page_spec(url)
    second = client.post(url, page_post(page))["Location"]
    assert "犬の名前" in client.get(second).content.decode()
    # A new filing gets the new version.
    new_url = start(client)
    new_draft, _p, _page = page_spec(new_url)
    assert services.draft_versions(new_draft)[0].pk == procedure.live_version_id


def test_an_unchanged_tree_creates_no_version_and_a_broken_file_keeps_the_live_one(
    loaded, tmp_path, settings
):
    again = services.procedures_load(settings.PROCEDURES_DIR)
    assert again.created == []
    tree = tmp_path / "procedures"
    shutil.copytree(settings.PROCEDURES_DIR, tree)
    path = tree / "sample-city" / "dog-registration.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("type: yes_no", "type: yesno"))
    report = services.procedures_load(tree)
    assert any("dog-registration.yaml" in e for e in report.errors)
    procedure = m.Procedure.objects.get(slug="dog-registration")
    assert procedure.versions.count() == 1
    assert procedure.live_version.number == 1


def _set_window(opens=None, closes=None, capacity=None, slug="dx-seminar", tmp_path=None):
    tree = tmp_path / "procedures"
    shutil.copytree(settings.PROCEDURES_DIR, tree, dirs_exist_ok=True)
    path = tree / "osaka-pref" / f"{slug}.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"  opens: .*\n", f"  opens: {opens}\n" if opens else "", text)
    text = re.sub(r"  closes: .*\n", f"  closes: {closes}\n" if closes else "", text)
    text = re.sub(r"  capacity: .*\n", f"  capacity: {capacity}\n" if capacity else "", text)
    path.write_text(text, encoding="utf-8")
    report = services.procedures_load(tree)
    assert report.errors == []


def iso(delta_days: int) -> str:
    return (timezone.now() + dt.timedelta(days=delta_days)).isoformat(timespec="seconds")


def test_a_procedure_before_it_opens_cannot_be_started(client, loaded, tmp_path):
    _set_window(opens=iso(1), closes=iso(10), tmp_path=tmp_path)
    url = reverse("procedure_start", args=["osaka-pref", "dx-seminar"])
    response = client.post(url)
    assert response.status_code == 200
    assert "受付" in response.content.decode()
    assert m.Draft.objects.count() == 0
    assert "dx-seminar" not in client.get(reverse("home")).content.decode()


def test_a_filing_started_before_closing_cannot_complete_after_it(client, loaded, tmp_path):
    # The window is the procedure's rule now (read from its live version), while the
    # pages stay those of the version the filing started with.
    confirm = walk_to_confirm(client, reverse("procedure_start", args=["osaka-pref", "dx-seminar"]))
    _set_window(opens=iso(-10), closes=iso(-1), tmp_path=tmp_path)
    response = client.post(confirm)
    assert response.status_code == 409
    assert "受付は終了" in response.content.decode()
    assert m.Submission.objects.count() == 0


def test_capacity_refuses_the_filing_after_the_last_place(client, loaded, tmp_path):
    _set_window(opens=iso(-1), closes=iso(10), capacity=1, tmp_path=tmp_path)
    file_completely(client, reverse("procedure_start", args=["osaka-pref", "dx-seminar"]))
    client.cookies.clear()
    response = client.post(reverse("procedure_start", args=["osaka-pref", "dx-seminar"]))
    assert response.status_code == 200
    assert "定員" in response.content.decode()


def test_save_and_continue_later_mails_a_link_that_resumes_in_another_browser(
    client, loaded, django_user_model
):
    from django.test import Client

    url = start(client)
    client.post(url, {"_action": "save", "f-name-family": "鈴木"})
    response = client.post(
        reverse("filing_save", args=[url.split("/")[2]]), {"email": "a@example.jp"}
    )
    assert response.status_code == 302  # to the "link sent" page: a reload sends nothing
    assert client.get(response["Location"]).status_code == 200
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/resume/(\S+)/", mail.outbox[0].body)
    assert link
    token = link[1]
    assert "鈴木" not in mail.outbox[0].body

    other = Client()
    assert other.get(url).status_code == 404  # another browser cannot open the draft
    assert other.get(f"/resume/{token}/").status_code == 200  # GET does not use the token
    resumed = other.post(f"/resume/{token}/")
    assert resumed.status_code == 302
    assert 'value="鈴木"' in other.get(url).content.decode()
    # The link works once.
    assert Client().post(f"/resume/{token}/").status_code == 400


def test_group_entries_can_be_added_and_removed_without_javascript(client, loaded):
    url = client.post(reverse("procedure_start", args=["osaka-pref", "dx-seminar"]))["Location"]
    html = client.get(url).content.decode()
    assert 'name="f-colleagues-count" value="0"' in html
    client.post(url, {"_action": "add:f-colleagues", "f-colleagues-count": "0"})
    html = client.get(url).content.decode()
    assert 'name="f-colleagues-0-colleague_email"' in html
    client.post(
        url,
        {
            "_action": "add:f-colleagues",
            "f-colleagues-count": "1",
            "f-colleagues-0-colleague_email": "b@example.jp",
        },
    )
    html = client.get(url).content.decode()
    assert 'value="b@example.jp"' in html and 'name="f-colleagues-1-colleague_email"' in html
    client.post(
        url,
        {
            "_action": "remove:f-colleagues:0",
            "f-colleagues-count": "2",
            "f-colleagues-0-colleague_email": "b@example.jp",
            "f-colleagues-1-colleague_email": "c@example.jp",
        },
    )
    html = client.get(url).content.decode()
    assert 'value="c@example.jp"' in html and "b@example.jp" not in html


def test_the_postal_code_fills_the_address_without_javascript(client, loaded):
    url = start(client)
    response = client.post(
        url, {"_action": "postal:f-postal_code", "f-postal_code": "５４０－０００８"}
    )
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert '<option value="大阪府" selected>' in html
    assert 'value="大阪市中央区"' in html
    assert 'value="大手前"' in html


def test_the_postal_lookup_api_answers_json_for_the_enhancement(client, loaded):
    response = client.post(reverse("postal_lookup"), {"code": "540-0008"})
    assert response.status_code == 200
    assert response.json()["results"][0]["city"] == "大阪市中央区"
    assert client.post(reverse("postal_lookup"), {"code": "12"}).status_code == 400


def test_sign_in_by_mail_link_prefills_profile_fields_and_saves_them_back(client, loaded):
    response = client.post(reverse("login"), {"email": "hanako@example.jp"})
    assert response.status_code == 302
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert client.post(f"/login/{token}/").status_code == 302
    resident = m.Resident.objects.get(email="hanako@example.jp")

    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(DOG)))
    assert 'name="save_to_profile"' in client.get(confirm).content.decode()
    client.post(confirm, {"save_to_profile": "1"})
    resident.refresh_from_db()
    assert resident.profile["name"]["family"] == "山田"
    assert resident.profile["postal_code"] == "5400008"

    # Next filing: the profile fields start filled in.
    url = client.post(reverse("procedure_start", args=["sample-city", "child-allowance"]))[
        "Location"
    ]
    html = client.get(url).content.decode()
    assert 'value="山田"' in html
    assert 'value="5400008"' in html


def test_a_used_or_unknown_sign_in_link_is_refused(client, loaded):
    assert client.post("/login/nonsense/").status_code == 400
    client.post(reverse("login"), {"email": "hanako@example.jp"})
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert "hanako@example.jp" in client.get(f"/login/{token}/").content.decode()
    assert client.post(f"/login/{token}/").status_code == 302
    assert client.post(f"/login/{token}/").status_code == 400  # once only
    assert "hanako@example.jp" not in client.get(f"/login/{token}/").content.decode()


def test_signing_in_with_someone_elses_link_hands_them_no_filing(client, loaded):
    from django.test import Client

    # A resident starts a filing without signing in and types their address.
    url = start(client)
    client.post(url, {"_action": "save", "f-email": "victim@example.jp"})
    # Someone forwards them a sign-in link of their own account, and they use it.
    attacker = Client()
    attacker.post(reverse("login"), {"email": "attacker@example.jp"})
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert "attacker@example.jp" in client.get(f"/login/{token}/").content.decode()
    client.post(f"/login/{token}/")
    # The filing stays with the resident's browser; the account holder cannot open it.
    draft = m.Draft.objects.get(pk=url.split("/")[2])
    assert draft.resident_id is None
    attacker.post(f"/login/{services.token_create('login', 'attacker@example.jp')}/")
    assert attacker.get(url).status_code == 404
    assert client.get(url).status_code == 200


def test_pages_send_a_content_security_policy(client, loaded):
    response = client.get(reverse("home"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_the_language_switch_shows_english_and_falls_back_to_japanese(client, loaded):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("procedure_start", args=list(DOG))).content.decode()
    assert "Dog registration" in html
    assert '<html lang="en">' in html
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    html = client.get(reverse("procedure_start", args=list(DOG))).content.decode()
    assert "犬の登録申請" in html


def test_final_submit_is_rate_limited(client, loaded, rate_limited):
    rate_limited.RATE_LIMITS = dict(rate_limited.RATE_LIMITS, submit="1/600")
    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(DOG)))
    assert client.post(confirm).status_code == 302
    other = walk_to_confirm(client, reverse("procedure_start", args=list(DOG)))
    response = client.post(other)
    assert response.status_code == 429
    assert response["Retry-After"] == "600"


def test_each_answer_has_a_change_link_that_returns_to_the_check_page(client, loaded):
    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(DOG)))
    html = client.get(confirm).content.decode()
    link = re.search(r'href="([^"]+\?return=confirm)#f-phone-field"', html)
    assert link, "no change link for the phone answer"
    page = client.get(link[1])
    assert 'name="_return" value="confirm"' in page.content.decode()
    _d, _p, spec_page = page_spec(link[1])
    data = page_post(spec_page)
    data.update({"f-phone": "06-6941-0351", "_return": "confirm"})
    response = client.post(link[1].split("?")[0], data)
    assert response["Location"].endswith("/confirm/")
    assert "06-6941-0351" in client.get(confirm).content.decode()


def _dog_page(client):
    url = start(client)
    _d, _p, page = page_spec(url)
    return client.post(url, page_post(page))["Location"]


def test_an_attachment_is_checked_by_its_content_not_its_name(client, loaded):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = _dog_page(client)
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-vaccination_certificate"] = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "f-vaccination_certificate-error" in response.content.decode()
    assert m.Attachment.objects.count() == 0


def test_a_too_large_attachment_is_refused_and_stores_nothing(client, loaded, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import png_bytes

    url = _dog_page(client)
    _d, _p, page = page_spec(url)
    data = page_post(page)
    big = png_bytes() + b"\x00" * (20 * 1024 * 1024 + 1)
    data["f-vaccination_certificate"] = SimpleUploadedFile("big.png", big)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "20MB" in response.content.decode()
    assert m.Attachment.objects.count() == 0


def test_an_uploaded_file_is_kept_when_another_field_on_the_page_is_wrong(client, loaded):
    url = _dog_page(client)
    _d, _p, page = page_spec(url)
    data = page_post(page)
    data["f-dog_name"] = ""
    response = client.post(url, data)
    assert response.status_code == 200
    assert m.Attachment.objects.count() == 1
    assert "photo.png" in response.content.decode()
    # Posting again without choosing the file again completes the page.
    data = page_post(page, skip={"vaccination_certificate"})
    assert client.post(url, data).status_code == 302
    draft = m.Draft.objects.get(pk=url.split("/")[2])
    assert len(draft.answers["0"]["vaccination_certificate"]) == 1


def test_an_attached_file_can_be_removed_without_javascript(client, loaded):
    url = _dog_page(client)
    _d, _p, page = page_spec(url)
    client.post(url, page_post(page))
    attachment = m.Attachment.objects.get()
    response = client.post(
        url, {"_action": f"remove-file:f-vaccination_certificate:{attachment.pk}"}
    )
    assert response.status_code == 302
    assert m.Attachment.objects.count() == 0
    assert "photo.png" not in client.get(url).content.decode()


def test_a_procedure_that_requires_sign_in_asks_for_it_before_starting(client, loaded, tmp_path):
    tree = tmp_path / "procedures"
    shutil.copytree(settings.PROCEDURES_DIR, tree)
    path = tree / "sample-city" / "dog-registration.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("login: optional", "login: required"))
    assert services.procedures_load(tree).errors == []
    url = reverse("procedure_start", args=list(DOG))
    html = client.get(url).content.decode()
    assert "/login/?next=" in html
    assert client.post(url).status_code == 200
    assert m.Draft.objects.count() == 0


def test_submitting_with_a_page_left_unanswered_goes_to_that_page(client, loaded):
    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(DOG)))
    draft = m.Draft.objects.get(pk=confirm.split("/")[2])
    del draft.answers["0"]["declaration"]
    draft.save()
    response = client.post(confirm)
    assert response.status_code == 302
    assert response["Location"].endswith("/0/agreement/")
    assert m.Submission.objects.count() == 0


def test_a_file_for_a_field_that_became_hidden_is_not_handed_over(client, loaded):
    from django.test import TestCase

    url = _dog_page(client)
    _d, _p, page = page_spec(url)
    client.post(url, page_post(page))  # vaccinated: yes, certificate uploaded
    assert m.Attachment.objects.count() == 1
    data = page_post(page, skip={"vaccination_certificate"})
    data["f-vaccinated"] = "no"
    client.post(url, data)
    confirm = walk_to_confirm_from(client, url)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(confirm)
    sub = m.Submission.objects.get()
    assert "vaccination_certificate" not in sub.answers
    assert sub.attachments.count() == 0
    assert m.Attachment.objects.count() == 0


def walk_to_confirm_from(client, url):
    response = client.get(url)
    while not url.endswith("/confirm/"):
        _d, _p, page = page_spec(url)
        data = page_post(page, skip={"vaccination_certificate", "vaccinated"})
        data["f-vaccinated"] = "no"
        response = client.post(url, data)
        assert response.status_code == 302
        url = response["Location"]
    return url


def test_japanese_is_the_default_whatever_the_browser_prefers(client, loaded):
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="ja">' in html


def test_with_a_broker_the_receipt_mail_is_sent_by_the_poller_not_the_request(
    client, loaded, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    assert mail.outbox == []
    assert services.receipt_mails_send() == 1
    assert len(mail.outbox) == 1
    assert draft.receipt.number in mail.outbox[0].body
    assert services.status_code_for(draft.receipt.number) in mail.outbox[0].body
    assert services.receipt_mails_send() == 0  # sent once


def test_the_receipt_mail_is_in_the_language_of_the_filing(client, loaded):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    _draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    assert "Receipt number" in mail.outbox[0].body
    assert "Dog registration" in mail.outbox[0].body


def test_a_resume_link_opens_the_page_the_resident_was_filling(client, loaded):
    from django.test import Client

    first = start(client)
    _d, _p, page = page_spec(first)
    second = client.post(first, page_post(page))["Location"]
    client.post(second, {"_action": "save", "f-dog_name": "クロ"})
    client.post(reverse("filing_save", args=[second.split("/")[2]]), {"email": "a@example.jp"})
    token = re.search(r"/resume/(\S+)/", mail.outbox[-1].body)[1]
    other = Client()
    landed = other.post(f"/resume/{token}/")["Location"]
    assert landed == second
    assert 'value="クロ"' in other.get(landed).content.decode()


def test_the_receipt_mail_says_a_payment_is_due(client, loaded):
    _draft, _done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    assert "3,000" in mail.outbox[0].body


def test_switching_language_on_a_page_keeps_what_was_typed(client, loaded):
    url = start(client)
    html = client.get(url).content.decode()
    assert 'form="filing-form" name="_action" value="lang:en"' in html
    response = client.post(url, {"_action": "lang:en", "f-name-family": "山田"})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert '<html lang="en">' in html
    assert 'value="山田"' in html


def test_back_to_the_start_page_offers_to_continue_instead_of_starting_over(client, loaded):
    url = start(client)
    client.post(url, {"_action": "back", "f-name-family": "山田"})
    start_url = reverse("procedure_start", args=list(DOG))
    html = client.get(start_url).content.decode()
    assert 'name="_continue"' in html
    landed = client.post(start_url, {"_continue": "1"})["Location"]
    assert landed == url
    assert 'value="山田"' in client.get(url).content.decode()
    assert m.Draft.objects.count() == 1
    # Starting again is still possible, and makes a new filing.
    assert client.post(start_url)["Location"] != url
    assert m.Draft.objects.count() == 2


def test_leaving_a_page_by_the_browser_keeps_what_was_typed(client, loaded):
    url = start(client)
    response = client.post(url, {"_action": "autosave", "f-name-family": "山田"})
    assert response.status_code == 204
    assert 'value="山田"' in client.get(url).content.decode()


CARRIER_ADDRESS = "taro..yamada.@docomo.ne.jp"  # docomo and au issued these until 2009


def test_an_old_carrier_address_can_ask_for_a_sign_in_link(client, loaded):
    response = client.post(reverse("login"), {"email": CARRIER_ADDRESS})
    assert response.status_code == 302
    assert mail.outbox[-1].to == [CARRIER_ADDRESS]
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert client.post(f"/login/{token}/").status_code == 302
    assert m.Resident.objects.filter(email=CARRIER_ADDRESS).exists()


def test_an_old_carrier_address_can_ask_for_a_resume_link(client, loaded):
    url = start(client)
    client.post(url, {"_action": "save", "f-name-family": "鈴木"})
    response = client.post(
        reverse("filing_save", args=[url.split("/")[2]]), {"email": CARRIER_ADDRESS}
    )
    assert response.status_code == 302
    assert mail.outbox[-1].to == [CARRIER_ADDRESS]


def test_sign_in_and_resume_links_refuse_what_an_email_field_refuses(client, loaded):
    from forms_engine.fields import FIELD_TYPES, FieldInvalid
    from forms_engine.procedure_format.model import FieldSpec, Text

    field = FieldSpec(id="mail", type="email", label=Text({"ja": "メール"}), line=1)
    url = start(client)
    save_url = reverse("filing_save", args=[url.split("/")[2]])
    for address in ("taro@localhost", "太郎@example.jp", "a@b@example.jp", "x" * 300):
        with pytest.raises(FieldInvalid):
            FIELD_TYPES["email"].clean(field, address, Ctx())
        assert client.post(reverse("login"), {"email": address}).status_code == 200
        assert client.post(save_url, {"email": address}).status_code == 200
    assert mail.outbox == []


@pytest.mark.parametrize("long_input", ["number", "code"])
def test_an_over_long_receipt_number_or_code_is_refused_before_it_is_normalised(
    client, loaded, monkeypatch, long_input
):
    import unicodedata

    real = unicodedata.normalize

    def guarded(form, text):
        # NFKC only: pytest's own terminal writer uses NFC meanwhile.
        assert form != "NFKC" or len(text) <= 64, f"NFKC was given {len(text)} characters"
        return real(form, text)

    monkeypatch.setattr(unicodedata, "normalize", guarded)
    posted = {"number": "ACEF-HJKM-NPRT", "code": "ACEFHJKM"}
    posted[long_input] = "ＡＣＥＦ" * 50_000  # within the body limit, 3,000 times too long
    assert services.receipt_lookup(posted["number"], posted["code"]) is None

    response = client.post(reverse("status"), posted)

    assert response.status_code == 200
    html = response.content.decode()
    assert "一致する申請が見つかりません" in html
    assert len(html) < 50_000  # the megabytes are not sent back


def test_a_receipt_number_with_spaces_and_hyphens_still_finds_the_filing(client, loaded):
    draft, done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    code = re.search(r'class="status-code">([A-Z0-9]+)<', done.content.decode())[1]
    spaced = " " + " - ".join(draft.receipt.number.split("-")) + " "
    assert services.receipt_lookup(spaced, f" {code} ") == draft.receipt
