"""My page: a signed-in resident's filings and drafts across procedures and organizations,
their once-only profile (shown, edited through the same field types and normalisers as the
filing pages, deleted after a confirmation) and sign-out everywhere."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django.utils.module_loading import import_string

from forms_engine import models as m

from .conftest import walk_to_confirm

DOG = ("sample-city", "dog-registration")
RECORDS = ("osaka-pref", "records-disclosure")
SEMINAR = ("osaka-pref", "dx-seminar")
EMAIL = "hanako@example.jp"


def browser(language: str = "ja") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=language)
    c.cookies["django_language"] = language
    return c


def sign_in(c: Client, email: str = EMAIL) -> None:
    c.post(reverse("login"), {"email": email})
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert c.post(f"/login/{token}/").status_code == 302


def file(c: Client, proc, *, save_to_profile: bool = False) -> m.Submission:
    confirm = walk_to_confirm(c, reverse("procedure_start", args=list(proc)))
    data = {"save_to_profile": "1"} if save_to_profile else {}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = c.post(confirm, data)
    assert response.status_code == 302, response.content.decode()[:500]
    draft = m.Draft.objects.get(pk=confirm.split("/")[2])
    assert draft is not None
    return draft.receipt.submissions.get()


def session_data(key: str) -> dict:
    return import_string(f"{settings.SESSION_ENGINE}.SessionStore")(key).load()


def test_my_page_asks_for_a_sign_in_and_comes_back(client, loaded):
    for url in (reverse("my_page"), reverse("my_profile_edit"), reverse("my_profile_delete")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={url.replace('/', '%2F')}"


def test_my_page_lists_filings_and_drafts_across_organizations(client, loaded):
    c = browser()
    sign_in(c)
    records = file(c, RECORDS)
    dog = file(c, DOG)
    # A filing begun and left: a draft.
    started = c.post(reverse("procedure_start", args=list(SEMINAR)))["Location"]
    # Somebody else's filing is not listed.
    stranger = browser()
    sign_in(stranger, "taro@example.jp")
    theirs = file(stranger, DOG)

    page = c.get(reverse("my_page"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "マイページ" in html and EMAIL in html
    for sub, org in ((records, "大阪府"), (dog, "サンプル市")):
        assert sub.number in html
        assert reverse("status_submission", args=[sub.pk]) in html
        assert m.localized(sub.procedure_version.title, "ja") in html
        assert sub.get_status_display() in html
        assert f'<span class="muted">{org}</span>' in html
    assert theirs.number not in html
    draft_link = re.search(r'<ul class="list" id="my-drafts">\s*<li><a href="([^"]+)"', html)[1]
    assert draft_link.split("/")[2] == started.split("/")[2]
    assert c.get(draft_link).status_code == 200
    # The status page opens from my page (signed in, no code needed).
    status = c.get(reverse("status_submission", args=[dog.pk]))
    assert status.status_code == 200 and 'id="submission-status"' in status.content.decode()
    # The header links to my page when signed in.
    assert f'href="{reverse("my_page")}"' in c.get(reverse("home")).content.decode()


def test_my_page_in_english(client, loaded):
    c = browser("en")
    sign_in(c)
    sub = file(c, DOG)
    html = c.get(reverse("my_page")).content.decode()
    assert "<h1>My page</h1>" in html and "Your applications" in html
    assert sub.number in html and "マイページ" not in html


def test_the_profile_is_shown_and_edited_through_the_field_normalisers(client, loaded):
    c = browser()
    sign_in(c)
    file(c, RECORDS, save_to_profile=True)
    resident = m.Resident.objects.get(email=EMAIL)
    saved = dict(resident.profile)
    assert {"name", "phone", "address", "postal_code", "email"} <= set(saved)

    html = c.get(reverse("my_page")).content.decode()
    assert 'id="my-profile"' in html and "電話番号" in html and saved["phone"] in html

    form = c.get(reverse("my_profile_edit"))
    assert form.status_code == 200
    body = form.content.decode()
    assert 'name="f-phone"' in body and f'value="{saved["phone"]}"' in body

    def post(**changes):
        data = {}
        for name, value in re.findall(r'name="(f-[^"]+)"[^>]*?value="([^"]*)"', body):
            data[name] = value
        for select in re.findall(r'<select[^>]*name="(f-[^"]+)"[^>]*>(.*?)</select>', body, re.S):
            chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select[1])
            data[select[0]] = chosen[1] if chosen else ""
        data.update(changes)
        return c.post(reverse("my_profile_edit"), data)

    # Invalid: refused with the field's own message, linked and marked, nothing saved.
    refused = post(**{"f-phone": "12"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert 'id="error-summary"' in text and 'href="#f-phone"' in text
    assert 'aria-invalid="true"' in text
    assert m.Resident.objects.get(pk=resident.pk).profile == saved

    # Full-width digits are normalised by the phone field as on the filing pages.
    done = post(**{"f-phone": "０６‐６９４４‐６０２２"})
    assert done.status_code == 302 and done["Location"] == reverse("my_page") + "?done=profile"
    profile = m.Resident.objects.get(pk=resident.pk).profile
    assert profile["phone"] == "06-6944-6022"
    assert {k: v for k, v in profile.items() if k != "phone"} == {
        k: v for k, v in saved.items() if k != "phone"
    }
    assert "登録情報を更新しました。" in c.get(done["Location"]).content.decode()

    # An item left empty is erased.
    post(**{"f-phone": ""})
    assert "phone" not in m.Resident.objects.get(pk=resident.pk).profile


def test_deleting_the_profile_asks_first_then_erases_it(client, loaded):
    c = browser()
    sign_in(c)
    file(c, RECORDS, save_to_profile=True)
    resident = m.Resident.objects.get(email=EMAIL)
    assert resident.profile
    ask = c.get(reverse("my_profile_delete"))
    assert ask.status_code == 200 and "はい、削除します" in ask.content.decode()
    assert m.Resident.objects.get(pk=resident.pk).profile == resident.profile  # only asked
    done = c.post(reverse("my_profile_delete"))
    assert done["Location"] == reverse("my_page") + "?done=deleted"
    assert m.Resident.objects.get(pk=resident.pk).profile == {}
    html = c.get(done["Location"]).content.decode()
    assert "登録情報を削除しました。" in html and "保存されている情報はありません。" in html
    # The filings stay.
    assert m.Submission.objects.filter(draft__resident=resident).count() == 1


def test_sign_out_everywhere_ends_the_sessions_of_other_browsers(client, loaded):
    laptop, phone = browser(), browser()
    sign_in(laptop)
    sign_in(phone)
    draft_url = phone.post(reverse("procedure_start", args=list(DOG)))["Location"]
    assert phone.get(reverse("my_page")).status_code == 200
    assert laptop.get(draft_url).status_code == 200  # the resident's draft, from either
    phone_key = phone.cookies[settings.SESSION_COOKIE_NAME].value

    response = laptop.post(reverse("my_sign_out_everywhere"))
    assert response.status_code == 200
    assert "すべての端末からサインアウトしました" in response.content.decode()

    # The other browser is signed out at its next request, its session emptied.
    assert phone.get(reverse("my_page"))["Location"].startswith("/login/")
    assert session_data(phone_key) == {}
    assert phone.get(draft_url).status_code == 404
    assert laptop.get(reverse("my_page"))["Location"].startswith("/login/")
    # Signing in again works, on the new epoch.
    sign_in(phone)
    assert phone.get(reverse("my_page")).status_code == 200
    assert phone.get(draft_url).status_code == 200


def test_a_plain_sign_out_leaves_the_other_browsers_signed_in(client, loaded):
    laptop, phone = browser(), browser()
    sign_in(laptop)
    sign_in(phone)
    laptop.post(reverse("logout"))
    assert phone.get(reverse("my_page")).status_code == 200
