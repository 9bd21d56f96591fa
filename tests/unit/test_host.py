"""The Host header chooses region and mode only for Amazon's own host names."""

from __future__ import annotations

import pytest

from mockserver.pipeline.host import EndpointChoice, endpoint_for_host


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("sellingpartnerapi-na.amazon.com", EndpointChoice("dynamic", "na")),
        ("sellingpartnerapi-eu.amazon.com:443", EndpointChoice("dynamic", "eu")),
        ("SellingPartnerAPI-FE.amazon.com", EndpointChoice("dynamic", "fe")),
        ("sandbox.sellingpartnerapi-na.amazon.com", EndpointChoice("static", "na")),
        ("sandbox.sellingpartnerapi-eu.amazon.com", EndpointChoice("static", "eu")),
        ("127.0.0.1:8000", EndpointChoice("dynamic", None)),
        ("27.0.0.1:8000", EndpointChoice("dynamic", None)),
        ("localhost", EndpointChoice("dynamic", None)),
        ("", EndpointChoice("dynamic", None)),
        ("[::1]:8000", EndpointChoice("dynamic", None)),
        ("evil.sellingpartnerapi-na.amazon.com.example", EndpointChoice("dynamic", None)),
    ],
)
def test_host_choices(host: str, expected: EndpointChoice) -> None:
    assert endpoint_for_host(host, "dynamic") == expected


def test_other_hosts_use_the_servers_default_mode() -> None:
    assert endpoint_for_host("127.0.0.1:9", "static") == EndpointChoice("static", None)
    assert endpoint_for_host("sellingpartnerapi-na.amazon.com", "static") == EndpointChoice("static", "na")
