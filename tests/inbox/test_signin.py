"""Staff sign-in: password, then a second factor (TOTP enrolled by QR code, or a
single-use backup code); failures slowed then locked (django-axes); sessions expire; the
Django admin behind the same sign-in."""

from __future__ import annotations

import base64
import re
import time

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.middleware import SEEN_AT, SIGNED_IN_AT
from inbox.models import AuditLog
from inbox.otp import static_codes_replace

from .conftest import R, make_staff, verified_client

PASSWORD = "staff-pass-2026!"
LOGIN = "/staff/login/"


@pytest.fixture
def reviewer(loaded):
    return make_staff("reviewer", "sample-city", R.REVIEWER, "environment")


def password_step(client: Client, username: str = "reviewer", password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, t0=device.t0, step=device.step, drift=offset):06d}"


@pytest.fixture
def no_otp_throttle(settings):
    """django-otp makes a device wait 1, 2, 4... seconds after each wrong code; tests that
    enter a wrong code and then the right one switch that off (it is tested on its own)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def test_first_sign_in_enrols_a_totp_device_by_qr_code_and_gives_backup_codes(
    reviewer, no_otp_throttle
):
    client = Client()
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("inbox:otp_setup"))
    # Nothing of the inbox before the second factor is set up.
    assert client.get(reverse("inbox:submission_list")).status_code == 302

    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in text and "<path" in text  # the QR code, inline
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    secret = re.search(r'class="qr__secret">([A-Z2-7 ]+)<', text)[1].replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key

    wrong = client.post(
        response["Location"], {"token": "000000" if code(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 400
    done = client.post(response["Location"], {"token": code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("inbox:submission_list")).status_code == 200
    assert AuditLog.objects.filter(action="otp.enrolled", actor_name="reviewer").exists()

    # A backup code signs in once, never twice.
    for attempt in range(2):
        other = Client()
        step = password_step(other)
        assert step["Location"].startswith(reverse("inbox:otp_verify"))
        verified = other.post(step["Location"], {"token": codes[0]})
        if attempt == 0:
            assert verified.status_code == 302
            assert other.get(reverse("inbox:submission_list")).status_code == 200
        else:
            assert verified.status_code == 400
            assert other.get(reverse("inbox:submission_list")).status_code == 302


def test_a_wrong_code_makes_the_device_wait_before_the_next_one(reviewer):
    device = TOTPDevice.objects.create(user=reviewer, name="app", confirmed=True)
    client = Client()
    step = password_step(client)
    assert client.post(step["Location"], {"token": "12345"}).status_code == 400

    # Right away, even the right code is refused (django-otp's throttling of the device).
    assert client.post(step["Location"], {"token": code(device)}).status_code == 400
    assert client.get(reverse("inbox:submission_list")).status_code == 302


def test_sign_in_with_a_totp_code_is_audited_with_the_address(reviewer, no_otp_throttle, real_key):
    device = TOTPDevice.objects.create(user=reviewer, name="app", confirmed=True)
    client = Client(REMOTE_ADDR="192.0.2.7")
    step = password_step(client, next="/staff/?status=submitted")
    assert step["Location"].startswith(reverse("inbox:otp_verify"))

    bad = client.post(step["Location"], {"token": "12345"})
    assert bad.status_code == 400
    ok = client.post(step["Location"], {"token": code(device)})

    assert ok.status_code == 302 and ok["Location"] == "/staff/?status=submitted"
    actions = list(AuditLog.objects.order_by("id").values_list("action", "address", "actor_name"))
    assert actions == [
        ("signin.password_ok", "192.0.2.7", "reviewer"),
        ("signin.otp_failed", "192.0.2.7", "reviewer"),
        ("signin.otp_ok", "192.0.2.7", "reviewer"),
    ]


def test_next_never_leaves_the_site(reviewer):
    device = TOTPDevice.objects.create(user=reviewer, name="app", confirmed=True)
    client = Client()
    step = password_step(client, next="https://evil.example/")
    ok = client.post(step["Location"], {"token": code(device)})
    assert ok["Location"] == reverse("inbox:submission_list")


def test_a_wrong_password_is_refused_and_audited_without_the_password(reviewer):
    client = Client()
    response = password_step(client, password="not-the-password")

    assert response.status_code == 400
    assert "ユーザー名またはパスワードが正しくありません" in response.content.decode()
    row = AuditLog.objects.get(action="signin.password_failed")
    assert row.data == {"username": "reviewer"}
    assert row.organization_id == reviewer.staff_memberships.get().organization_id
    assert "not-the-password" not in str(row.data)


def test_failed_passwords_slow_down_then_lock_the_user_from_that_address(
    reviewer, settings, real_key
):
    settings.AXES_FAILURE_LIMIT = 5
    client = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(3):
        assert password_step(client, password="wrong").status_code == 400

    # The third failure makes the next attempt wait, even with the right password.
    waiting = password_step(client)
    assert waiting.status_code == 400
    assert "秒待ってから" in waiting.content.decode()
    assert client.get(reverse("inbox:submission_list")).status_code == 302

    # Once the wait is over (moved back in time here), attempts count again, up to the lock.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(minutes=5))
    assert password_step(client, password="wrong").status_code == 400
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(minutes=5))
    locked = password_step(client, password="wrong")
    assert locked.status_code == 429
    assert "ログインが制限されています" in locked.content.decode()  # translated lockout page
    assert AuditLog.objects.filter(action="signin.locked_out").exists()

    # Locked: the right password does not work now, from that address ...
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(minutes=5))
    again = password_step(client)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    # ... while the same user from another address is not locked out.
    elsewhere = password_step(Client(REMOTE_ADDR="203.0.113.9"))
    assert elsewhere.status_code == 302


def test_the_lockout_page_speaks_english_too(reviewer, settings):
    settings.AXES_FAILURE_LIMIT = 1
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = password_step(client, password="wrong")

    assert response.status_code == 429
    text = response.content.decode()
    assert "Sign-in locked" in text and "ログイン" not in text


def test_sessions_end_after_idle_time_and_at_their_absolute_age(reviewer, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 600
    settings.STAFF_SESSION_MAX_SECONDS = 3600
    client = verified_client(reviewer)
    url = reverse("inbox:submission_list")
    assert client.get(url).status_code == 200

    session = client.session
    session[SEEN_AT] = int(time.time()) - 601
    session.save()
    assert client.get(url).status_code == 302
    assert "_auth_user_id" not in client.session

    client = verified_client(reviewer)
    assert client.get(url).status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - 3601
    session[SEEN_AT] = int(time.time()) - 5  # active all along
    session.save()
    assert client.get(url).status_code == 302


def test_a_deactivated_account_cannot_sign_in_and_its_sessions_end(reviewer):
    client = verified_client(reviewer)
    reviewer.is_active = False
    reviewer.save()

    assert client.get(reverse("inbox:submission_list")).status_code == 302
    assert password_step(Client()).status_code == 400


def test_the_django_admin_wants_the_second_factor(db, django_user_model):
    operator = django_user_model.objects.create_superuser("operator", password="op-pass-2026!")
    client = Client()
    client.force_login(operator)  # signed in with the password only

    response = client.get("/admin/forms_engine/submission/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302 and follow["Location"].startswith(LOGIN)

    codes = static_codes_replace(operator, "backup", 2)
    step = client.post(LOGIN, {"username": "operator", "password": "op-pass-2026!"})
    client.post(step["Location"], {"token": codes[0]})
    assert client.get("/admin/forms_engine/submission/").status_code == 200
    assert not StaticToken.objects.filter(token=codes[0]).exists()  # used up


def test_a_user_without_a_membership_or_admin_rights_cannot_sign_in(db, django_user_model):
    django_user_model.objects.create_user("nobody", password=PASSWORD)
    response = password_step(Client(), username="nobody")
    assert response.status_code == 400
