"""Business rules, by name: each family keeps its own rule book (the rules tables of docs/RULES.md).

A submission that breaks a rule is still answered 202; its transaction ends Failure with one error per
violation, in Amazon's shape (`code`, `message`, `details`), the details naming the document and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

# Every rule book defined, in the order their modules were imported (the admin API's /_sandbox/rules).
BOOKS: list[RuleBook] = []


@dataclass(frozen=True)
class Rule:
    """A business rule: its name, the error code and message of a violation, and the document it governs."""

    name: str
    code: str
    message: str
    applies_to: str


class RuleBook:
    """The rules of one family: defined once, each with a name, an error code and Amazon-style message."""

    def __init__(self, family: str = "") -> None:
        self.family = family
        self.rules: dict[str, Rule] = {}
        BOOKS.append(self)

    def define(self, name: str, code: str, message: str, applies_to: str) -> None:
        if name in self.rules:
            raise ValueError(f"rule {name} is defined twice")
        self.rules[name] = Rule(name, code, message, applies_to)

    def violation(self, rule_name: str, document: str, detail: str) -> dict[str, str]:
        rule = self.rules[rule_name]
        return {
            "code": rule.code,
            "message": rule.message,
            "details": f"{document}: rule {rule.name}: {detail}",
        }
