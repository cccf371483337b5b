"""Errors of the automation area."""

from __future__ import annotations

from potok.domain.errors import NotFound


class RuleNotFound(NotFound):
    code = "rule-not-found"
    title = "Automation rule not found"
    template = "There is no automation rule {rule_id}."
