"""Each organization's payment account, from the environment (never from YAML).

The account's name is the organization's `payment_account` (or its slug). Its settings
are read in config/settings.py from environment variables named after it, upper case with
`-` as `_` (`sample-city` -> `SAMPLE_CITY`):

- `STRIPE_SECRET_KEY_<NAME>`: the organization's own Stripe account;
- `STRIPE_ACCOUNT_<NAME>`: a connected account (`acct_...`) of the platform whose key is
  `STRIPE_SECRET_KEY`;
- neither: the platform key `STRIPE_SECRET_KEY` when `PAYMENTS_PROVIDER` is `stripe`,
  otherwise the `offline` provider (pay at the counter or by transfer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from forms_engine import models as fm


@dataclass(frozen=True)
class Account:
    name: str
    provider: str
    secret_key: str = ""
    connected_account: str = ""


def env_suffix(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def account_for(organization: fm.Organization) -> Account:
    name = organization.payment_account or organization.slug
    suffix = env_suffix(name)
    own = settings.STRIPE_SECRET_KEYS.get(suffix, "")
    if own:
        return Account(name, "stripe", secret_key=own)
    platform = settings.STRIPE_SECRET_KEY
    connected = settings.STRIPE_ACCOUNTS.get(suffix, "")
    if connected and platform:
        return Account(name, "stripe", secret_key=platform, connected_account=connected)
    if settings.PAYMENTS_PROVIDER == "stripe" and platform:
        return Account(name, "stripe", secret_key=platform)
    return Account(name, "offline")


# The key of the platform's webhook secret (`STRIPE_WEBHOOK_SECRET`) among webhook signers;
# an account's own secret (`STRIPE_WEBHOOK_SECRET_<NAME>`) is keyed by its NAME.
PLATFORM = ""


def webhook_secrets() -> dict[str, str]:
    """The configured webhook signing secrets by whose they are: `PLATFORM` for the
    platform's endpoint (the platform account and its connected accounts), NAME for an
    organization's own account's endpoint."""
    secrets = {
        env_suffix(name): secret
        for name, secret in settings.STRIPE_WEBHOOK_SECRETS.items()
        if secret and env_suffix(name) != PLATFORM
    }
    if settings.STRIPE_WEBHOOK_SECRET:
        secrets[PLATFORM] = settings.STRIPE_WEBHOOK_SECRET
    return secrets


def webhook_signer(account: Account) -> str:
    """Whose webhook secret may sign events about `account`'s payments: the account's own
    (NAME) when it has its own Stripe key, else the platform's."""
    suffix = env_suffix(account.name)
    if not account.connected_account and settings.STRIPE_SECRET_KEYS.get(suffix, ""):
        return suffix
    return PLATFORM


def account_named(provider: str, name: str) -> Account:
    """The account a payment was made with (by its stored name), for later calls."""
    for org in fm.Organization.objects.all():
        account = account_for(org)
        if account.name == name and account.provider == provider:
            return account
    return Account(name, provider)
