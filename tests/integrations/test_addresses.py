"""Webhooks never go to the service itself, to link-local or metadata addresses, nor to
loopback unless allowed; the address checked is the address connected to."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from integrations.deliveries import delivery_send
from integrations.targets.base import DeliveryError
from integrations.webhooks.addresses import address_problem, destination_resolve

from .conftest import env_set


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("169.254.169.254", "metadata"),
        ("::ffff:169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.10.1", "link_local"),
        ("fe80::1", "link_local"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "reserved"),
        ("224.0.0.1", "reserved"),
        ("10.1.2.3", ""),
        ("192.168.10.20", ""),
        ("203.0.113.7", ""),
        # Azure's platform endpoint (metadata, DNS, health) and not-quite-private blocks.
        ("168.63.129.16", "metadata"),
        ("100.64.0.1", "reserved"),
        ("100.127.255.254", "reserved"),
        ("192.0.0.8", "reserved"),
        # 6to4 (2002::/16) carries an IPv4 address in bits 16-48: judged as that address.
        ("2002:a9fe:a9fe::1", "metadata"),
        ("2002:7f00:1::1", "loopback"),
        ("2002:a9fe:a01::", "link_local"),
        ("2002:6440:1::", "reserved"),
        ("2002:cb00:7107::1", ""),
        # Teredo (2001::/32): the client's IPv4 address, inverted, in the last 32 bits.
        ("2001:0:4136:e378:8000:63bf:5601:5601", "metadata"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),
        ("2001:0:4136:e378:8000:63bf:34ff:8ef8", ""),
    ],
)
def test_addresses_are_judged(settings, address, problem):
    settings.DELIVERY_ALLOW_LOOPBACK = False
    assert address_problem(ipaddress.ip_address(address), 443, "backoffice.example") == problem


def test_loopback_when_allowed_is_still_never_the_service_itself(settings):
    settings.DELIVERY_ALLOW_LOOPBACK = True
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert address_problem(ipaddress.ip_address("127.0.0.1"), 9999, "127.0.0.1") == ""
    assert address_problem(ipaddress.ip_address("127.0.0.1"), 8000, "127.0.0.1") == "self"
    with pytest.raises(DeliveryError) as refused:
        destination_resolve("http://127.0.0.1:8000/hook")
    assert refused.value.kind == "refused_address:self" and refused.value.permanent


def test_the_service_host_name_is_refused(settings):
    settings.SITE_URL = "https://shinsei.city.example"
    with pytest.raises(DeliveryError) as refused:
        destination_resolve("https://SHINSEI.city.example./staff/")
    assert refused.value.kind == "refused_address:self"


def test_a_name_resolving_to_a_metadata_address_is_refused(settings, monkeypatch):
    fake_dns(monkeypatch, {"meta.example": ["169.254.169.254"]})
    with pytest.raises(DeliveryError) as refused:
        destination_resolve("https://meta.example/latest/")
    assert refused.value.kind == "refused_address:metadata" and refused.value.permanent


def test_one_bad_address_among_several_refuses_the_name(settings, monkeypatch):
    fake_dns(monkeypatch, {"mixed.example": ["203.0.113.7", "169.254.169.254"]})
    with pytest.raises(DeliveryError):
        destination_resolve("https://mixed.example/")


def test_clear_http_goes_to_loopback_only(settings, monkeypatch):
    fake_dns(monkeypatch, {"plain.example": ["203.0.113.7"]})
    with pytest.raises(DeliveryError) as refused:
        destination_resolve("http://plain.example/")
    assert refused.value.kind == "refused_address:http_not_https"


def test_a_loopback_receiver_is_refused_unless_allowed(child_delivery, receiver, settings):
    settings.DELIVERY_ALLOW_LOOPBACK = False
    assert delivery_send(child_delivery.pk) == "dead"
    child_delivery.refresh_from_db()
    assert child_delivery.last_error == "refused_address:loopback"
    assert receiver.requests == []


def test_the_checked_address_is_pinned_for_the_connection(
    child_delivery, receiver, settings, monkeypatch
):
    """DNS rebinding: the name answers a harmless address to the check and a metadata
    address to any later look-up. The connection must go where the check looked."""
    calls = fake_dns(
        monkeypatch, {"hooks.backoffice.test": ["127.0.0.1"]}, later=["169.254.169.254"]
    )
    with env_set(BENEFITS_URL=f"http://hooks.backoffice.test:{receiver.port}/in"):
        assert delivery_send(child_delivery.pk) == "delivered"
    assert calls["hooks.backoffice.test"] == 1
    (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.backoffice.test:{receiver.port}"


def fake_dns(monkeypatch, names: dict[str, list[str]], later: list[str] | None = None):
    """getaddrinfo answering `names` (then `later` for any further look-up of them); every
    other name is looked up for real."""
    real = socket.getaddrinfo
    calls: dict[str, int] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        calls[host] = calls.get(host, 0) + 1
        answers = names[host] if calls[host] == 1 or later is None else later
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port or 0, 0, 0) if ":" in a else (a, port or 0),
            )
            for a in answers
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls
