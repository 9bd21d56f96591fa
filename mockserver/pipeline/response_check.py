"""The emulator's check of its own answers against the contract: every answer at first, then a sample.

Checking an answer costs about as much as everything else the pipeline does for it (a page of purchase
orders is some 18 KB of JSON for the validator to walk), and the answers of one operation come from the same
code: once an operation and status have answered `full_checks` times within their contract, one answer in
`sample_every` is checked after that. Any violation puts that operation and status back to checking every
answer. Counting, not chance, decides, so the same run checks the same answers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class _Tally:
    """The answers of one operation and status: how many so far, and how many in a row conformed."""

    answered: int = 0
    conforming_in_a_row: int = 0


class ResponseCheckPolicy:
    def __init__(self, full_checks: int = 200, sample_every: int = 20) -> None:
        if full_checks < 0 or sample_every < 1:
            raise ValueError("full_checks must be >= 0 and sample_every >= 1")
        self.full_checks = full_checks
        self.sample_every = sample_every
        self._tallies: dict[tuple[str, int], _Tally] = {}
        self._lock = threading.Lock()

    def should_check(self, operation: str, status: int) -> bool:
        with self._lock:
            tally = self._tallies.setdefault((operation, status), _Tally())
            tally.answered += 1
            if tally.conforming_in_a_row < self.full_checks:
                return True
            return tally.answered % self.sample_every == 0

    def checked(self, operation: str, status: int, conforms: bool) -> None:
        with self._lock:
            tally = self._tallies.setdefault((operation, status), _Tally())
            tally.conforming_in_a_row = tally.conforming_in_a_row + 1 if conforms else 0

    def reset(self) -> None:
        with self._lock:
            self._tallies.clear()


__all__ = ["ResponseCheckPolicy"]
