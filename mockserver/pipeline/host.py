"""What the Host header may choose: Amazon's regional hosts select a region, sandbox hosts static mode.

Any other host (clients that override their endpoint send odd ones) uses the server's defaults.
Nothing else is ever derived from Host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_AMAZON_HOST = re.compile(r"^(?P<sandbox>sandbox\.)?sellingpartnerapi-(?P<region>na|eu|fe)\.amazon\.com$")


@dataclass(frozen=True, slots=True)
class EndpointChoice:
    """What a request's Host selects: the mode (dynamic or static) and the region to enforce, if any."""

    mode: str
    region: str | None  # None: the host names no region, so none is enforced


@lru_cache(maxsize=256)
def endpoint_for_host(host: str, default_mode: str) -> EndpointChoice:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    match = _AMAZON_HOST.match(name.strip().lower())
    if not match:
        return EndpointChoice(default_mode, None)
    return EndpointChoice("static" if match.group("sandbox") else default_mode, match.group("region"))
