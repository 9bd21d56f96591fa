"""The self-check of answers: every answer until an operation has proven itself, then a counted sample."""

from __future__ import annotations

import pytest

from mockserver.pipeline.response_check import ResponseCheckPolicy


def answer(
    policy: ResponseCheckPolicy, operation: str = "op", status: int = 200, conforms: bool = True
) -> bool:
    checked = policy.should_check(operation, status)
    if checked:
        policy.checked(operation, status, conforms)
    return checked


def test_every_answer_is_checked_until_enough_conformed() -> None:
    policy = ResponseCheckPolicy(full_checks=5, sample_every=4)
    assert [answer(policy) for _ in range(5)] == [True] * 5
    later = [answer(policy) for _ in range(12)]
    assert later.count(True) == 3, "one in four once proven"
    assert later == [(index + 6) % 4 == 0 for index in range(12)]


def test_a_violation_brings_back_checking_every_answer() -> None:
    policy = ResponseCheckPolicy(full_checks=3, sample_every=10)
    for _ in range(3):
        answer(policy)
    sampled = [policy.should_check("op", 200) for _ in range(10)]
    assert sampled.count(True) == 1
    policy.checked("op", 200, conforms=False)
    assert [answer(policy) for _ in range(3)] == [True, True, True]


def test_operations_and_statuses_are_counted_apart() -> None:
    policy = ResponseCheckPolicy(full_checks=2, sample_every=100)
    answer(policy, "a")
    answer(policy, "a")
    assert not policy.should_check("a", 200)
    assert policy.should_check("a", 202)
    assert policy.should_check("b", 200)


def test_reset_forgets_what_was_proven() -> None:
    policy = ResponseCheckPolicy(full_checks=1, sample_every=100)
    answer(policy)
    assert not policy.should_check("op", 200)
    policy.reset()
    assert policy.should_check("op", 200)


def test_checking_everything_is_a_policy_too() -> None:
    policy = ResponseCheckPolicy(full_checks=0, sample_every=1)
    assert all(answer(policy) for _ in range(50))


@pytest.mark.parametrize(("full_checks", "sample_every"), [(-1, 1), (0, 0)])
def test_nonsense_policies_are_refused(full_checks: int, sample_every: int) -> None:
    with pytest.raises(ValueError):
        ResponseCheckPolicy(full_checks, sample_every)
