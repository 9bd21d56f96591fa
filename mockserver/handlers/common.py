"""What every family's handlers share: the one place where the domain's errors become Amazon's error answers,
and the wrapping of a stateful answer in the operation's envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.domain.errors import DomainError
from mockserver.pipeline.errors import SpApiError
from mockserver.pipeline.gateway import Call, Handler, HandlerResult

Answer = Callable[[Call], tuple[int, Any]]


def domain_error(error: DomainError) -> SpApiError:
    """The one place where the domain's errors become Amazon's error bodies."""
    return SpApiError(error.status, error.code, error.message, error.details, stage="handle")


def stateful(answer: Answer, *, envelope: bool = True) -> Handler:
    """A handler from an answer (status, payload): the payload in Amazon's `{"payload": ...}` envelope, or
    as it is for the APIs whose models have none (Direct Fulfillment 2021-12-28, Sandbox Test Data)."""

    def handler(call: Call) -> HandlerResult:
        try:
            status, payload = answer(call)
        except DomainError as error:
            raise domain_error(error) from error
        return HandlerResult(status, {"payload": payload} if envelope else payload, "stateful")

    return handler


def account_of(call: Call) -> str:
    return call.principal.account.name


def json_body(call: Call) -> dict[str, Any]:
    body = call.request.body
    return body if isinstance(body, dict) else {}
