"""Signing staff in for tests: the admin and the staff pages let in only users verified
with a second factor (inbox's sign-in; tested on its own in tests/inbox)."""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def login_verified(client: Client, user) -> Client:
    """Sign `client` in as `user` with a confirmed TOTP device verified in the session,
    as inbox:otp_verify leaves it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
