"""Login with Amazon (LWA) emulation: the token endpoint of api.amazon.com and the website workflow."""

from mockserver.lwa.blueprint import create_lwa_blueprint
from mockserver.lwa.tokens import (
    GRANTLESS_SCOPES,
    IssuedToken,
    LwaError,
    TokenInfo,
    TokenKind,
    TokenService,
)

__all__ = [
    "GRANTLESS_SCOPES",
    "IssuedToken",
    "LwaError",
    "TokenInfo",
    "TokenKind",
    "TokenService",
    "create_lwa_blueprint",
]
