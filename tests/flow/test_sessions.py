"""Sessions live on the server and hold ids only: signing out ends every copy of the cookie,
signing in (or adopting a filing by resume link) gives the browser a new key, and the status
code is never in a session or a cookie."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.module_loading import import_string
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from forms_engine import models as m
from forms_engine import services
from tests.factories import page_post

from .conftest import file_completely, page_spec, walk_to_confirm

DOG = ("sample-city", "dog-registration")


def session_data(key: str) -> dict:
    """What the configured session store holds for a cookie value (empty: no such session)."""
    return import_string(f"{settings.SESSION_ENGINE}.SessionStore")(key).load()


def copy_of(client: Client) -> Client:
    """Another browser holding a copy of this one's session cookie."""
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return other


def sign_in(client: Client, email: str = "hanako@example.jp") -> None:
    client.post(reverse("login"), {"email": email})
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert client.post(f"/login/{token}/").status_code == 302


def test_logout_ends_access_from_a_copied_resident_cookie(client, loaded):
    sign_in(client)
    confirm = walk_to_confirm(client, reverse("procedure_start", args=list(DOG)))
    copied = copy_of(client)
    assert copied.get(confirm).status_code == 200

    assert client.post(reverse("logout")).status_code == 302

    assert copied.get(confirm).status_code == 404
    assert client.get(confirm).status_code == 404
    assert 'action="/logout/"' not in copied.get(reverse("home")).content.decode()


def test_logout_ends_access_from_a_copied_admin_cookie(client, db, django_user_model):
    operator = django_user_model.objects.create_superuser(
        "operator", password="a long operator password"
    )
    device = TOTPDevice.objects.create(user=operator, name="app", confirmed=True)
    # The admin's sign-in is the staff one: the password, then a code from the app.
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("inbox:login"))
    response = client.post(
        reverse("inbox:login"),
        {"username": "operator", "password": "a long operator password", "next": "/admin/"},
    )
    assert response.status_code == 302
    response = client.post(response["Location"], {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    submissions = "/admin/forms_engine/submission/"
    copied = copy_of(client)
    assert copied.get(submissions).status_code == 200

    assert client.post("/admin/logout/").status_code == 200

    response = copied.get(submissions)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_signing_in_gives_the_browser_a_new_session_key(client, loaded):
    # A browser with a session already (a filing started), whose key someone else knows:
    # planted there before (session fixation) or copied.
    start = client.post(reverse("procedure_start", args=list(DOG)))["Location"]
    planted = copy_of(client)
    old_key = planted.cookies[settings.SESSION_COOKIE_NAME].value

    sign_in(client)

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != old_key
    assert session_data(old_key) == {}
    assert client.get(start).status_code == 200  # the filing stays with this browser
    assert planted.get(start).status_code == 404
    assert 'action="/logout/"' not in planted.get(reverse("home")).content.decode()


def test_resuming_by_link_gives_the_browser_a_new_session_key(client, loaded):
    url = client.post(reverse("procedure_start", args=list(DOG)))["Location"]
    client.post(url, {"_action": "save", "f-name-family": "鈴木"})
    client.post(reverse("filing_save", args=[url.split("/")[2]]), {"email": "a@example.jp"})
    token = re.search(r"/resume/(\S+)/", mail.outbox[-1].body)[1]

    # Another browser, whose session key someone else knows, adopts the filing.
    other = Client()
    other.post(reverse("procedure_start", args=["sample-city", "child-allowance"]))
    planted = copy_of(other)
    old_key = planted.cookies[settings.SESSION_COOKIE_NAME].value

    assert other.post(f"/resume/{token}/").status_code == 302

    assert other.cookies[settings.SESSION_COOKIE_NAME].value != old_key
    assert session_data(old_key) == {}
    assert other.get(url).status_code == 200
    assert planted.get(url).status_code == 404


def status_code_on(page) -> str:
    return re.search(r'class="status-code">([A-Z0-9]+)<', page.content.decode())[1]


def test_the_status_code_is_shown_on_the_completion_page_but_kept_in_no_session(client, loaded):
    draft, done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    code = status_code_on(done)
    assert code == services.status_code_for(draft.receipt.number)
    assert code in mail.outbox[0].body

    for cookie in client.cookies.values():
        assert code not in cookie.value
    stored = session_data(client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert code not in json.dumps(stored)
    # A reload still shows it.
    assert status_code_on(client.get(done.wsgi_request.path)) == code


def test_after_logout_no_copy_of_the_cookie_shows_the_status_code(client, loaded):
    draft, done = file_completely(client, reverse("procedure_start", args=list(DOG)))
    code = status_code_on(done)
    copied = copy_of(client)

    client.post(reverse("logout"))

    for browser in (client, copied):
        page = browser.get(done.wsgi_request.path)
        assert page.status_code == 404
        assert code not in page.content.decode()


def test_the_session_holds_ids_only(client, loaded):
    """A whole filing with sign-in, a postal look-up, save for later and completion leaves
    only the ids of the filings and of the resident in the session."""
    client.get(reverse("login") + "?next=/")
    sign_in(client)
    url = client.post(reverse("procedure_start", args=list(DOG)))["Location"]
    client.post(url, {"_action": "postal:f-postal_code", "f-postal_code": "5400008"})
    client.get(url)
    client.post(url, {"_action": "save", "f-name-family": "鈴木"})
    client.post(reverse("filing_save", args=[url.split("/")[2]]), {"email": "a@example.jp"})
    draft, _d, _p = page_spec(url)
    for _ in range(40):
        if url.endswith("/confirm/"):
            break
        _draft, _position, page = page_spec(url)
        url = client.post(url, page_post(page))["Location"]
    done = client.post(url)["Location"]
    assert client.get(done).status_code == 200

    stored = session_data(client.cookies[settings.SESSION_COOKIE_NAME].value)
    resident = m.Resident.objects.get(email="hanako@example.jp")
    # The sign-out-everywhere epoch (my page, issue 10) is a counter, not personal data.
    assert isinstance(stored.pop("resident_epoch"), int)
    assert stored == {"drafts": [str(draft.pk)], "resident": resident.pk}


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/",
        "/\\evil.example/",
        "/\\/evil.example/",
        "https://evil.example/",
        "/\t/evil.example/",
    ],
)
def test_signing_in_never_sends_the_browser_to_another_site(client, loaded, next_url):
    client.get(reverse("login"), {"next": next_url})
    client.post(reverse("login"), {"email": "hanako@example.jp"})
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert client.post(f"/login/{token}/")["Location"] == reverse("home")


def test_signing_in_returns_to_the_page_that_asked_for_it(client, loaded):
    start = reverse("procedure_start", args=list(DOG))
    client.get(reverse("login"), {"next": start})
    client.post(reverse("login"), {"email": "hanako@example.jp"})
    token = re.search(r"/login/(\S+)/", mail.outbox[-1].body)[1]
    assert client.post(f"/login/{token}/")["Location"] == start
