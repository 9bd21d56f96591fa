"""Amounts as the documents give them: decimal text, read without floating point."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def decimal(text: Any) -> Decimal | None:
    """The amount, or None when it is not a finite decimal number."""
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None
