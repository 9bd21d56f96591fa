"""Errors the domain raises; the handlers serialise them in one place (handlers/common.py)."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "InvalidInput"
    message = "Invalid input."

    def __init__(self, details: str = "", message: str | None = None) -> None:
        super().__init__(details or message or self.message)
        self.details = details
        if message is not None:
            self.message = message


class NotFound(DomainError):
    """Unknown, or another account's: indistinguishable on purpose."""

    status = 404
    code = "NotFound"
    message = "The requested resource was not found."


class InvalidInput(DomainError):
    status = 400
    code = "InvalidInput"
    message = "Invalid input."
