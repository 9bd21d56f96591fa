"""Property tests: fault rules fire exactly as declared, over random plans and random call sequences.

A small reference model says, for each call, which rules match, which fire and which one is applied; the rule
set must agree with it call by call. Probabilities of 0 and 1 are checked against the model; other
probabilities are checked for determinism under the seed and independence from the other rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.chaos.rules import FaultContext, RuleSet

OPERATIONS = ("getPurchaseOrders", "submitAcknowledgement")
METHODS = ("GET", "POST")
ACCOUNTS = ("acme-na", "nordwind-eu")
APPLICATIONS = ("demo-integration", "second-integration")
ACTIONS = ("internal_failure", "quota_exceeded", "service_unavailable")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def rules(draw: st.DrawFn, exact_probability: bool = True) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": draw(st.sampled_from(ACTIONS))}
    for name, values in (
        ("operation", OPERATIONS),
        ("method", METHODS),
        ("account", ACCOUNTS),
        ("application", APPLICATIONS),
    ):
        value = draw(optional(st.sampled_from(values)))
        if value is not None:
            rule[name] = value
    if draw(st.booleans()):
        rule["header"] = {"x-case": draw(st.sampled_from(("a", "b", "*")))}
    nth = draw(optional(st.lists(st.integers(1, 8), min_size=1, max_size=3)))
    if nth is not None:
        rule["nth"] = nth
    for name in ("first", "times"):
        value = draw(optional(st.integers(0, 6)))
        if value is not None:
            rule[name] = value
    window = draw(optional(st.tuples(st.integers(0, 10), st.integers(0, 10))))
    if window is not None:
        rule["window"] = {"start": min(window), "end": max(window)}
    probability = draw(optional(st.sampled_from((0.0, 1.0)) if exact_probability else st.floats(0.0, 1.0)))
    if probability is not None:
        rule["probability"] = probability
    return rule


calls = st.lists(
    st.tuples(
        st.sampled_from(OPERATIONS),
        st.sampled_from(METHODS),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(APPLICATIONS),
        st.sampled_from((None, "a", "b")),
        st.integers(0, 3),  # seconds the clock moves before the call
    ),
    max_size=25,
)


def context(call: tuple[Any, ...]) -> FaultContext:
    operation, method, account, application, header, _ = call
    return FaultContext(
        endpoint="sp-api",
        method=method,
        path="/vendor/x",
        headers={} if header is None else {"x-case": header},
        operation_names=(f"vendorOrders_v1.{operation}", operation),
        account_names=(account, f"A{account}"),
        application_names=(application,),
    )


@dataclass
class ModelRule:
    spec: dict[str, Any]
    matched: int = 0
    fired: int = 0
    armed: float = 0.0
    history: list[bool] = field(default_factory=list)

    def matches(self, call: tuple[Any, ...]) -> bool:
        operation, method, account, application, header, _ = call
        spec = self.spec
        wanted_header = spec.get("header", {}).get("x-case")
        return (
            spec.get("operation") in (None, operation)
            and spec.get("method") in (None, method)
            and spec.get("account") in (None, account)
            and spec.get("application") in (None, application)
            and (wanted_header is None or (header is not None and wanted_header in ("*", header)))
        )

    def fires(self, now: float) -> bool:
        self.matched += 1
        spec, n = self.spec, self.matched
        window = spec.get("window")
        fired = (
            ("nth" not in spec or n in spec["nth"])
            and ("first" not in spec or n <= spec["first"])
            and (window is None or window["start"] <= now - self.armed < window["end"])
            and spec.get("probability", 1.0) == 1.0
            and ("times" not in spec or self.fired < spec["times"])
        )
        self.fired += fired
        return fired


@settings(max_examples=80, deadline=None)
@given(plan=st.lists(rules(), max_size=5), sequence=calls, seed=st.integers(0, 2**32))
def test_rules_fire_exactly_as_the_reference_model_says(
    plan: list[dict[str, Any]], sequence: list[tuple[Any, ...]], seed: int
) -> None:
    clock = FakeClock()
    rule_set = RuleSet(seed=seed, clock=clock)
    added = rule_set.add_all(plan)
    model = [ModelRule(spec, armed=clock.now) for spec in plan]
    for call in sequence:
        clock.now += call[-1]
        expected = None
        for index, rule in enumerate(model):
            if rule.matches(call) and rule.fires(clock.now) and expected is None:
                expected = index
        decided = rule_set.evaluate(context(call))
        if expected is None:
            assert decided is None
        else:
            assert decided is not None
            assert decided[0].id == added[expected].id
            assert decided[1].action == plan[expected]["action"]
    for rule, reference in zip(rule_set.rules(), model, strict=True):
        assert (rule.matched, rule.fired) == (reference.matched, reference.fired)


def decisions(plan: list[dict[str, Any]], sequence: list[tuple[Any, ...]], seed: int) -> list[list[bool]]:
    """For each rule, whether it fired on each of its matching calls (every rule on its own)."""
    result = []
    for spec in plan:
        clock = FakeClock()
        alone = RuleSet(seed=seed, clock=clock)
        alone.add({**spec, "id": spec["id"]})
        fired_before = 0
        history = []
        for call in sequence:
            clock.now += call[-1]
            alone.evaluate(context(call))
            fired_now = alone.rules()[0].fired
            history.append(fired_now > fired_before)
            fired_before = fired_now
        result.append(history)
    return result


@settings(max_examples=60, deadline=None)
@given(
    plan=st.lists(rules(exact_probability=False), min_size=1, max_size=4),
    sequence=calls,
    seed=st.integers(0, 2**32),
)
def test_each_rules_decisions_depend_only_on_the_seed_and_its_own_calls(
    plan: list[dict[str, Any]], sequence: list[tuple[Any, ...]], seed: int
) -> None:
    plan = [{**spec, "id": f"rule-{index}"} for index, spec in enumerate(plan)]
    together: list[list[bool]] = [[] for _ in plan]
    for _ in range(2):  # the same seed twice: the same decisions
        clock = FakeClock()
        rule_set = RuleSet(seed=seed, clock=clock)
        rule_set.add_all(plan)
        run: list[list[bool]] = [[] for _ in plan]
        fired_before = [0] * len(plan)
        for call in sequence:
            clock.now += call[-1]
            rule_set.evaluate(context(call))
            for index, rule in enumerate(rule_set.rules()):
                run[index].append(rule.fired > fired_before[index])
                fired_before[index] = rule.fired
        if together[0] or not plan:
            assert run == together
        together = run
    # A rule fires on the same calls whether or not other rules are in force.
    assert decisions(plan, sequence, seed) == together


@settings(max_examples=15, deadline=None)
@given(probability=st.floats(0.05, 0.95), seed=st.integers(0, 2**32))
def test_probability_fires_about_as_often_as_declared(probability: float, seed: int) -> None:
    rule_set = RuleSet(seed=seed, clock=FakeClock())
    rule_set.add({"action": "internal_failure", "probability": probability})
    call = ("getPurchaseOrders", "GET", "acme-na", "demo-integration", None, 0)
    fired = sum(rule_set.evaluate(context(call)) is not None for _ in range(1000))
    assert abs(fired / 1000 - probability) < 0.08
