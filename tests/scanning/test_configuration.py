"""CLAMD_ADDRESS: a value that cannot be used stops the service at its checks; production
without one is said out loud by `check --deploy`."""

from __future__ import annotations

from forms_engine.checks import check_clamd_address, check_clamd_configured
from tests.test_deploy import PRODUCTION, manage


def test_an_unusable_clamd_address_is_a_system_check_error(settings):
    settings.CLAMD_ADDRESS = "127.0.0.1:3310"

    errors = check_clamd_address(None)

    assert [e.id for e in errors] == ["forms_engine.E014"]
    assert "tcp://host:port" in errors[0].msg


def test_tcp_and_unix_socket_addresses_pass_the_check(settings):
    for value in ("tcp://127.0.0.1:3310", "/run/clamav/clamd.ctl", ""):
        settings.CLAMD_ADDRESS = value
        assert check_clamd_address(None) == []


def test_production_without_clamd_is_a_deploy_warning_and_embedded_is_not(settings):
    settings.CLAMD_ADDRESS = ""
    settings.EMBEDDED = False
    assert [e.id for e in check_clamd_configured(None)] == ["forms_engine.W013"]
    settings.EMBEDDED = True
    assert check_clamd_configured(None) == []


def test_check_deploy_names_the_missing_clamd_in_production():
    env = {k: v for k, v in PRODUCTION.items() if k != "CLAMD_ADDRESS"}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "forms_engine.W013" in result.stderr
