"""Single-use backup codes (django-otp's static device)."""

from __future__ import annotations

from typing import Any

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken


def static_codes_replace(user: Any, name: str = "backup", count: int = 10) -> list[str]:
    """New single-use codes for `user` in its static device `name`; the old ones of that
    device stop working."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=name, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(count)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes
