"""Automation: rules as data (trigger, condition, actions) that act on orders."""

from potok.domain.automation.errors import RuleNotFound
from potok.domain.automation.model import (
    TRIGGERS,
    Action,
    CheckedRule,
    Do,
    Firing,
    Rule,
    RuleDraft,
    check_rule,
)

__all__ = [
    "TRIGGERS",
    "Action",
    "CheckedRule",
    "Do",
    "Firing",
    "Rule",
    "RuleDraft",
    "RuleNotFound",
    "check_rule",
]
