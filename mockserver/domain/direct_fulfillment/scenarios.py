"""Sandbox test data: generateOrderScenarios creates orders for the selling party and warehouse it names, as
Amazon's dynamic sandbox does, and getOrderScenarios returns them (`testCaseData.scenarios[].orders[]`) once
the transaction is done; those orders are then in getOrders and getOrder like any other. A party that is not
a vendor code of the account, or a warehouse not of that vendor code, fails the call at once (400)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.domain.direct_fulfillment.rules import violation
from mockserver.domain.direct_fulfillment.seeding import place_orders
from mockserver.domain.direct_fulfillment.state import DfState
from mockserver.domain.errors import InvalidInput
from mockserver.domain.transactions import Outcome

SCENARIO_ID = "LIFECYCLE"  # orders for the whole life cycle: acknowledge, label, ship, invoice
ORDERS_PER_SCENARIO = 2
_STATUSES = {"Processing": "PROCESSING", "Success": "SUCCESS", "Failure": "FAILURE"}


def check_request(state: DfState, account: str, body: dict[str, Any]) -> None:
    """The df-scenario-parties rule, at once: a request Amazon's sandbox would not generate orders for."""
    requested = body.get("orders") or []
    if not requested:
        raise InvalidInput(
            "orders: name at least one sellingParty and shipFromParty.", "Invalid request body."
        )
    for index, entry in enumerate(requested):
        selling = (entry.get("sellingParty") or {}).get("partyId")
        ship_from = (entry.get("shipFromParty") or {}).get("partyId")
        warehouse = state.warehouse(account, ship_from)
        if (
            selling not in state.vendor_codes(account)
            or warehouse is None
            or warehouse.vendor_code != selling
        ):
            error = violation(
                "df-scenario-parties",
                f"orders[{index}]",
                f"sellingParty {selling} with shipFromParty {ship_from} is not a vendor code and "
                "warehouse of the selling partner",
            )
            raise InvalidInput(error["details"], error["message"])


def generate(state: DfState, account: str, body: Any, now: datetime) -> Outcome:
    """The scenario transaction's processor: the orders, and the test case data that names them."""
    scenarios = []
    for entry in body.get("orders") or []:
        warehouse = str((entry.get("shipFromParty") or {}).get("partyId"))
        if state.warehouse(account, warehouse) is None:  # checked when submitted; gone after a reset
            return Outcome([violation("df-scenario-parties", "orders", f"{warehouse} is not a warehouse")])
        numbers = place_orders(state, account, warehouse, ORDERS_PER_SCENARIO, now)
        scenarios.append({"scenarioId": SCENARIO_ID, "orders": [{"orderId": number} for number in numbers]})
    return Outcome([], {"scenarios": scenarios})


def status_payload(transaction_id: str, status: str, result: dict[str, Any] | None) -> dict[str, Any]:
    """getOrderScenarios' answer: the sandbox API spells the status in capitals."""
    transaction: dict[str, Any] = {"transactionId": transaction_id, "status": _STATUSES.get(status, status)}
    if status == "Success" and result is not None:
        transaction["testCaseData"] = result
    return {"transactionStatus": transaction}
