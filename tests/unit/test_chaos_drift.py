"""Drift actions as plain functions: each changes exactly what it declares, and nothing else.

The property tests run random drift plans over random valid answers of every operation of the contracts: the
drifted answer validates against the contract loosened exactly as declared, the declared changes applied to
the original give the drifted answer byte for byte (key order included), and the original is left untouched.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.chaos.actions import ActionError, build_effect
from mockserver.chaos.drift import (
    DRIFTS,
    DriftError,
    Loosening,
    apply_changes,
    apply_drift,
    changed_fields,
    loosen,
)
from mockserver.contracts.generate import generate_response
from mockserver.contracts.model import Operation
from mockserver.contracts.registry import OperationRegistry

REGISTRY = OperationRegistry.from_directory()
ORDERS = REGISTRY.find("getPurchaseOrders")
SCHEMA = ORDERS.responses["200"].schema
DEFINITIONS = ORDERS.api.definitions

ANSWER: dict[str, Any] = {
    "payload": {
        "pagination": {"nextToken": "page-2"},
        "orders": [
            {
                "purchaseOrderNumber": "4Z32PABC",
                "purchaseOrderState": "New",
                "orderDetails": {
                    "purchaseOrderDate": "2026-11-30T10:00:00Z",
                    "purchaseOrderStateChangedDate": "2026-11-30T10:00:00Z",
                    "purchaseOrderType": "RegularOrder",
                    "dealCode": "PRIME-DAY",
                    "sellingParty": {"partyId": "ACME1"},
                    "items": [
                        {
                            "itemSequenceNumber": "1",
                            "isBackOrderAllowed": False,
                            "orderedQuantity": {"amount": 4, "unitOfMeasure": "Eaches"},
                            "netCost": {"currencyCode": "USD", "amount": "10.00"},
                        },
                        {
                            "itemSequenceNumber": "2",
                            "isBackOrderAllowed": True,
                            "orderedQuantity": {"amount": 2, "unitOfMeasure": "Cases", "unitSize": 6},
                        },
                    ],
                },
            }
        ],
    }
}


def drift(kind: str, seed: int = 1, body: Any = None, **params: Any) -> Any:
    return apply_drift(kind, params, seed, ANSWER if body is None else body, SCHEMA, DEFINITIONS)


def valid(body: Any, schema: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(body)


def contract(loosening: Loosening | None = None, operation: Operation = ORDERS, status: str = "200") -> Any:
    declared = operation.responses[status].schema
    return loosen(declared, operation.api.definitions, loosening or Loosening())


def dumped(value: Any) -> str:
    return json.dumps(value)  # key order matters: `reordered` changes it


def test_the_sample_answer_is_valid_as_it_is() -> None:
    assert valid(ANSWER, contract())


def test_extra_fields_adds_a_property_to_every_object_and_declares_it() -> None:
    outcome = drift("extra_fields", name="newField", value="x")
    objects = ["", "/payload", "/payload/pagination", "/payload/orders/0", "/payload/orders/0/orderDetails"]
    objects += ["/payload/orders/0/orderDetails/sellingParty"]
    for item in ("0", "1"):
        base = f"/payload/orders/0/orderDetails/items/{item}"
        objects += [base, f"{base}/orderedQuantity"]
    objects.append("/payload/orders/0/orderDetails/items/0/netCost")
    assert sorted(change["path"] for change in outcome.changes) == sorted(f"{p}/newField" for p in objects)
    assert {change["op"] for change in outcome.changes} == {"add"}
    assert outcome.loosening.to_dict() == {"extra_properties": ["newField"]}
    assert outcome.body["payload"]["orders"][0]["orderDetails"]["items"][1]["newField"] == "x"


def test_extra_fields_leaves_closed_objects_alone_when_told_and_never_shadows_a_real_property() -> None:
    closed = {"type": "object", "additionalProperties": False, "properties": {"a": {"type": "string"}}}
    outcome = apply_drift("extra_fields", {"closed": False}, 1, {"a": "x"}, closed, {})
    assert outcome.changes == []
    outcome = apply_drift("extra_fields", {}, 1, {"a": "x"}, closed, {})
    assert [change["path"] for change in outcome.changes] == ["/driftAddedField"]
    assert not valid(outcome.body, closed)  # the contract closes it...
    assert valid(outcome.body, loosen(closed, {}, outcome.loosening))  # ...the declared loosening opens it
    shadowing = drift("extra_fields", name="dealCode", value="x")
    assert shadowing.body["payload"]["orders"][0]["orderDetails"]["dealCode"] == "PRIME-DAY"


def test_omit_optional_drops_named_optional_fields_never_required_ones() -> None:
    outcome = drift("omit_optional", fields=["dealCode", "netCost", "purchaseOrderNumber"])
    assert [change["path"] for change in outcome.changes] == [
        "/payload/orders/0/orderDetails/dealCode",
        "/payload/orders/0/orderDetails/items/0/netCost",
    ]
    assert outcome.body["payload"]["orders"][0]["purchaseOrderNumber"] == "4Z32PABC"  # required: kept
    assert not outcome.loosening


def test_omit_optional_by_default_drops_optional_values_not_objects_lists_or_paging() -> None:
    outcome = drift("omit_optional")
    assert outcome.body["payload"]["pagination"] == {"nextToken": "page-2"}
    details = outcome.body["payload"]["orders"][0]["orderDetails"]
    assert "dealCode" not in details and "purchaseOrderType" not in details
    assert details["items"][0]["netCost"] == {}  # its optional values went; the object stays
    assert details["items"][1]["orderedQuantity"] == {}
    assert valid(outcome.body, contract())


def test_omit_optional_share_drops_some_deterministically_per_seed() -> None:
    first = drift("omit_optional", seed=3, share=0.5)
    again = drift("omit_optional", seed=3, share=0.5)
    assert first.changes == again.changes
    everything = drift("omit_optional")
    assert 0 < len(first.changes) <= len(everything.changes)


def test_deprecated_removed_takes_a_field_out_everywhere_even_a_required_one() -> None:
    outcome = drift("deprecated_removed", fields=["isBackOrderAllowed"])
    assert [change["path"] for change in outcome.changes] == [
        "/payload/orders/0/orderDetails/items/0/isBackOrderAllowed",
        "/payload/orders/0/orderDetails/items/1/isBackOrderAllowed",
    ]
    assert not valid(outcome.body, contract())
    assert valid(outcome.body, contract(outcome.loosening))
    assert outcome.loosening.to_dict() == {"not_required": ["isBackOrderAllowed"]}


def test_new_enum_value_puts_a_value_the_enum_lacks_and_declares_it() -> None:
    outcome = drift("new_enum_value", fields=["purchaseOrderType"], value="ReplenishmentOrder")
    assert outcome.changes == [
        {
            "op": "replace",
            "path": "/payload/orders/0/orderDetails/purchaseOrderType",
            "value": "ReplenishmentOrder",
        }
    ]
    assert not valid(outcome.body, contract())
    assert valid(outcome.body, contract(outcome.loosening))


def test_new_enum_value_without_fields_draws_one_enum_property_and_a_value_in_its_style() -> None:
    outcome = drift("new_enum_value", seed=5)
    (name,) = outcome.loosening.enum_values
    assert name in {"purchaseOrderState", "purchaseOrderType", "unitOfMeasure"}
    assert all(change["path"].endswith(f"/{name}") for change in outcome.changes)
    assert outcome.changes[0]["value"] == "NewlyAddedValue"


def test_new_enum_value_skips_a_value_the_schema_would_refuse_anyway() -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "enum": ["AB"], "maxLength": 2}}}
    assert apply_drift("new_enum_value", {"value": "LONGER"}, 1, {"code": "AB"}, schema, {}).changes == []
    existing = apply_drift("new_enum_value", {"value": "AB"}, 1, {"code": "AB"}, schema, {})
    assert existing.changes == []


def test_reordered_permutes_arrays_and_reverses_keys_keeping_every_value() -> None:
    outcome = drift("reordered", seed=2)
    items = outcome.body["payload"]["orders"][0]["orderDetails"]["items"]
    assert [item["itemSequenceNumber"] for item in items] == ["2", "1"]
    assert list(outcome.body["payload"]) == ["orders", "pagination"]
    assert list(items[1]) == ["netCost", "orderedQuantity", "isBackOrderAllowed", "itemSequenceNumber"]
    items.reverse()
    assert outcome.body == ANSWER  # the same values: dict equality ignores key order...
    assert dumped(outcome.body) != dumped(ANSWER)  # ...the wire does not
    assert not outcome.loosening


def test_reordered_arrays_only_or_keys_only() -> None:
    arrays = drift("reordered", keys=False)
    assert {change["op"] for change in arrays.changes} == {"reorder"}
    keys = drift("reordered", arrays=False)
    assert {change["op"] for change in keys.changes} == {"reverse_keys"}


def test_nulls_sets_named_optional_fields_to_null_and_declares_them_nullable() -> None:
    outcome = drift("nulls", fields=["dealCode", "unitSize", "purchaseOrderState"])
    assert [change["path"] for change in outcome.changes] == [
        "/payload/orders/0/orderDetails/dealCode",
        "/payload/orders/0/orderDetails/items/1/orderedQuantity/unitSize",
    ]
    assert outcome.body["payload"]["orders"][0]["orderDetails"]["dealCode"] is None
    assert not valid(outcome.body, contract())
    assert valid(outcome.body, contract(outcome.loosening))
    assert outcome.loosening.to_dict() == {"nullable": ["dealCode", "unitSize"]}


def test_changed_fields_names_what_was_touched() -> None:
    outcome = drift("omit_optional", fields=["dealCode", "netCost"])
    assert changed_fields(outcome.changes) == ["dealCode", "netCost"]


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("deprecated_removed", {}, "needs `fields`"),
        ("omit_optional", {"fields": 3}, "fields must be"),
        ("omit_optional", {"share": 2}, "share must be"),
        ("nulls", {"keep": [1]}, "keep must be"),
        ("new_enum_value", {"value": ""}, "value must be"),
        ("extra_fields", {"fields": ["a"]}, "fields must be a mapping"),
        ("reordered", {"arrays": [1]}, "arrays must be"),
    ],
)
def test_bad_parameters_are_refused_with_the_reason(kind: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(DriftError, match=message):
        apply_drift(kind, params, 1, ANSWER, SCHEMA, DEFINITIONS)
    with pytest.raises(ActionError, match=message):
        build_effect(kind, params, __import__("random").Random(0))


def test_a_drift_never_modifies_the_answer_it_was_given() -> None:
    before = copy.deepcopy(ANSWER)
    for kind, params in PLANS_FOR_EVERY_KIND:
        drift(kind, **params)
    assert dumped(ANSWER) == dumped(before)


def test_an_object_shared_by_two_places_of_the_answer_is_changed_and_declared_in_both() -> None:
    # Stateful handlers may put one object (a party, say) in several orders of a page.
    party = {"partyId": "ACME1"}
    order = ANSWER["payload"]["orders"][0]
    shared = {
        "payload": {
            "orders": [{**order, "orderDetails": {**order["orderDetails"], "sellingParty": party}}] * 2
        }
    }
    outcome = apply_drift("extra_fields", {}, 1, shared, SCHEMA, DEFINITIONS)
    paths = {change["path"] for change in outcome.changes}
    assert {f"/payload/orders/{index}/orderDetails/sellingParty/driftAddedField" for index in (0, 1)} <= paths
    assert dumped(apply_changes(shared, outcome.changes)) == dumped(outcome.body)
    assert party == {"partyId": "ACME1"}


def test_answers_without_a_schema_or_json_objects_are_left_as_they_are() -> None:
    for kind, params in PLANS_FOR_EVERY_KIND:
        assert apply_drift(kind, params, 1, "text", SCHEMA, DEFINITIONS).changes == []
        assert apply_drift(kind, params, 1, {"a": 1}, {}, {}).changes == []


PLANS_FOR_EVERY_KIND: list[tuple[str, dict[str, Any]]] = [
    ("extra_fields", {}),
    ("omit_optional", {}),
    ("deprecated_removed", {"fields": ["isBackOrderAllowed"]}),
    ("new_enum_value", {}),
    ("reordered", {}),
    ("nulls", {}),
]


# -- property tests over random plans ---------------------------------------------------------------------

OPERATIONS = [
    operation
    for operation in REGISTRY.operations
    if operation.responses.get(operation.success_status)
    and operation.responses[operation.success_status].schema is not None
]
FIELD_NAMES = sorted(
    {
        name
        for operation in OPERATIONS
        for definition in operation.api.definitions.values()
        for name in (definition.get("properties") or {})
    }
)


def keys_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_in(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_in(item)}
    return set()


def draw_step(draw: st.DrawFn, body: Any) -> tuple[str, dict[str, Any], int]:
    """A drift step; the property names it names are mostly ones the answer has, so that they bite."""
    kind = draw(st.sampled_from(sorted(DRIFTS)))
    present = sorted(keys_in(body)) or FIELD_NAMES
    names = st.lists(
        st.one_of(st.sampled_from(present), st.sampled_from(FIELD_NAMES)), min_size=1, max_size=4, unique=True
    )
    params: dict[str, Any] = {}
    if kind == "extra_fields":
        if draw(st.booleans()):
            params["fields"] = {
                draw(st.sampled_from(["addedA", "addedB"])): draw(st.sampled_from([1, "x", None]))
            }
        params["closed"] = draw(st.booleans())
    elif kind in ("omit_optional", "nulls"):
        if draw(st.booleans()):
            params["fields"] = draw(names)
        params["share"] = draw(st.sampled_from([0.3, 1.0]))
    elif kind == "deprecated_removed":
        params["fields"] = draw(names)
    elif kind == "new_enum_value":
        if draw(st.booleans()):
            params["fields"] = draw(names)
        if draw(st.booleans()):
            params["value"] = draw(st.sampled_from(["FutureValue", "FUTURE_VALUE"]))
    else:
        params = {"arrays": draw(st.booleans()), "keys": draw(st.booleans())}
    return kind, params, draw(st.integers(0, 2**32))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    operation=st.sampled_from(OPERATIONS),
    answer_seed=st.integers(0, 2**32),
    count=st.integers(1, 4),
    data=st.data(),
)
def test_random_plans_drift_answers_exactly_as_declared(
    operation: Operation, answer_seed: int, count: int, data: st.DataObject
) -> None:
    status = operation.success_status
    schema = operation.responses[status].schema
    original = generate_response(operation, status, seed=answer_seed)
    untouched = dumped(original)
    assert valid(original, contract(operation=operation, status=status))

    body, loosening, changes, steps = original, Loosening(), [], []
    for _ in range(count):
        kind, params, seed = draw_step(data.draw, body)
        steps.append((kind, params))
        outcome = apply_drift(kind, params, seed, body, schema, operation.api.definitions)
        body = outcome.body
        loosening.merge(outcome.loosening)
        changes.extend(outcome.changes)

    assert dumped(original) == untouched  # the original answer is never modified
    assert valid(body, contract(loosening, operation, status))  # valid against the loosened contract
    assert dumped(apply_changes(original, changes)) == dumped(body)  # exactly the declared changes
    # Nothing is loosened beyond what the steps declared or changed.
    named = {name for _, params in steps for name in params.get("fields") or ()}
    assert loosening.not_required <= named
    assert loosening.nullable <= set(changed_fields(changes))
    assert set(loosening.enum_values) <= set(changed_fields(changes))
    assert loosening.extra_properties <= {"addedA", "addedB", "driftAddedField"}


@settings(max_examples=60, deadline=None)
@given(answer_seed=st.integers(0, 2**32), seed=st.integers(0, 2**32))
def test_an_answer_that_needs_a_loosening_fails_the_strict_contract(answer_seed: int, seed: int) -> None:
    # The loosening is needed, not decoration: where a change requires one, the contract as written refuses.
    original = generate_response(ORDERS, "200", seed=answer_seed)
    outcome = apply_drift("new_enum_value", {}, seed, original, SCHEMA, DEFINITIONS)
    if outcome.changes:
        assert not valid(outcome.body, contract())
        assert valid(outcome.body, contract(outcome.loosening))


def test_the_shipped_plan_loads_by_name_with_every_rule_valid_and_dates_as_iso_text(tmp_path: Any) -> None:
    from mockserver.chaos.engine import ChaosEngine
    from mockserver.chaos.plan import PlanError, load_plan, resolve_plan
    from mockserver.settings import Settings

    plans = Settings().fixtures_dir / "plans"
    plan = load_plan(resolve_plan("drift", plans))
    engine = ChaosEngine()
    engine.load(plan)
    assert engine.rules.count == len(plan.rules) >= 7
    retirements = [rule["params"] for rule in plan.rules if rule["action"] == "retire"]
    assert retirements and all(params["date"] == "2027-06-30" for params in retirements)
    assert json.loads(json.dumps(plan.rules)) == plan.rules  # plain JSON, for the admin API
    assert resolve_plan(tmp_path / "mine.yaml", plans) == tmp_path / "mine.yaml"  # paths are paths
    with pytest.raises(PlanError, match="nor a plan shipped"):
        resolve_plan("no-such-plan", plans)
