"""Automation rules in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from potok.api.schemas.common import JSON_INTEGER, AwareDatetime, Flag, Id, MoneyOut, Schema
from potok.domain.automation import Rule, RuleDraft
from potok.services.automation.rules import Trial

Short = Annotated[str, StringConstraints(max_length=64)]
Words = Annotated[str, StringConstraints(max_length=500)]


class ActionIn(Schema):
    """One thing the rule does; `do` says what, the other fields what it needs."""

    do: Short = Field(
        description="hold, release, confirm, cancel, set_priority, add_tag, remove_tag, "
        "comment, assign, notify or webhook"
    )
    hold_type: Short | None = Field(
        None, description="hold, release: payment, fraud, address, manual"
    )
    reason: Words | None = Field(None, description="hold, cancel (needed), confirm, assign")
    priority: Annotated[int, Field(ge=0, le=9), JSON_INTEGER] | None = Field(
        None, description="set_priority: 0-9, as an order's priority"
    )
    tag: Short | None = Field(None, description="add_tag, remove_tag")
    text: Words | None = Field(None, description="comment")
    queue: Short | None = Field(None, description="assign")
    operator: Short | None = Field(None, description="assign: the operator to give the task to")
    skill: Annotated[str, StringConstraints(max_length=80)] | None = Field(
        None,
        description="assign: a skill whoever takes the task must have (e.g. en), besides "
        "what its queue asks",
    )
    template: Short | None = Field(
        None,
        description="notify: the notification template (topic) the customer gets after the "
        "commit, e.g. order_confirmed",
    )
    subscription: Id | None = Field(
        None, description="webhook: the webhook subscription that gets order.webhook_requested"
    )


class RuleIn(Schema):
    name: Annotated[str, StringConstraints(max_length=120)]
    trigger: Short = Field(
        description="The order event the rule waits for, e.g. order.created; or schedule "
        "(every `every_minutes` over the open orders, once per order and version)."
    )
    condition: Annotated[str, StringConstraints(max_length=2000)] = Field(
        description='When the rule acts, e.g. `channel == "shop" and total > 50000 and '
        "customer.new`; `true` for every order."
    )
    actions: list[ActionIn] = Field(max_length=10)
    stop: Flag = Field(False, description="Run no further rules after this one matched.")
    active: Flag = True
    position: Annotated[int, Field(ge=0, le=1_000_000), JSON_INTEGER] | None = Field(
        None, description="Where among the rules it runs (lower first); the end when left out."
    )
    every_minutes: Annotated[int, Field(ge=1, le=100_000), JSON_INTEGER] | None = Field(
        None, description="A schedule rule: how often it runs, 5 minutes to a week."
    )

    def draft(self) -> RuleDraft:
        return RuleDraft(
            name=self.name,
            trigger=self.trigger,
            condition=self.condition,
            actions=[a.model_dump(exclude_none=True) for a in self.actions],
            stop=self.stop,
            active=self.active,
            position=self.position,
            every_minutes=self.every_minutes,
        )


class RuleTrialIn(Schema):
    rule: RuleIn
    order_id: Id


class TrialOut(BaseModel):
    order_id: int
    matches: bool
    actions: list[dict[str, Any]]
    external_id: str | None = None
    channel: str | None = None
    status: str | None = Field(None, description="The order's status now.")
    total: MoneyOut | None = None
    currency: str | None = None
    created_at: datetime | None = None

    @classmethod
    def of(cls, trial: Trial) -> TrialOut:
        seen = trial.seen
        return cls(
            order_id=trial.order_id,
            matches=trial.matches,
            actions=[d.summary() for d in trial.actions],
            external_id=seen.external_id if seen else None,
            channel=seen.channel if seen else None,
            status=seen.status if seen else None,
            total=seen.total if seen else None,
            currency=seen.currency if seen else None,
            created_at=seen.created_at if seen else None,
        )


class DryRunIn(Schema):
    rule: RuleIn
    last: Annotated[int, Field(ge=1, le=1000), JSON_INTEGER] | None = Field(
        None, description="The last N orders taken."
    )
    since: AwareDatetime | None = Field(None, description="Orders taken from this moment...")
    until: AwareDatetime | None = Field(None, description="...until this one.")


class DryRunOut(BaseModel):
    looked_at: int
    matched: list[TrialOut]


class RuleOut(BaseModel):
    id: int
    name: str
    version: int
    position: int
    trigger: str
    condition: str
    actions: list[dict[str, Any]]
    stop: bool
    active: bool
    disabled_reason: str | None
    updated_at: datetime
    updated_by: str
    every_minutes: int | None = None

    @classmethod
    def of(cls, rule: Rule) -> RuleOut:
        return cls(
            id=rule.id,
            name=rule.name,
            version=rule.version,
            position=rule.position,
            trigger=rule.trigger,
            condition=rule.condition.text,
            actions=[a.summary() for a in rule.actions],
            stop=rule.stop,
            active=rule.active,
            disabled_reason=rule.disabled_reason,
            updated_at=rule.updated_at,
            updated_by=rule.updated_by,
            every_minutes=rule.every_minutes,
        )


class RuleVersionOut(BaseModel):
    version: int
    body: dict[str, Any]
    saved_at: datetime
    saved_by: str


class FiringOut(BaseModel):
    rule_id: int
    rule_version: int
    event_id: str
    fired_at: datetime
    outcome: str
    actions: list[dict[str, Any]]
    chain: list[int]
