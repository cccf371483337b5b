"""Which of many rules can match an order, found without evaluating them all.

Most conditions start with a comparison they cannot match without - ``channel == "web"
and ...``, ``"KET" in skus and ...``, ``total > 50000 and ...`` -: a *guard*. A rule whose
guard fails is false whatever the rest says, so the index keeps each rule under its guard
(by value for ``==`` and ``in``, by threshold for ``<``/``>``) and, for an order's field
values, hands back only the rules whose guard holds (and those without one), in their
order. With a few hundred rules most of them are never looked at; the ones handed back are
evaluated whole as before, so the answer is the same.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from potok.domain.automation.expressions import BoolOp, Compare, Condition, Literal, Node, Ref
from potok.domain.automation.fields import Kind

Guard = tuple[str, str, Any]
"""(field, how, value): ``==`` (the field equals the value), ``one of`` (the field is one of
the values), ``has`` (the list field holds the value), ``>``, ``>=``, ``<``, ``<=``."""


def guard_of(tree: Node) -> Guard | None:
    """The comparison the condition cannot hold without, the most telling one, or None."""
    parts = tree.parts if isinstance(tree, BoolOp) and tree.op == "and" else (tree,)
    found = [g for g in (_guard(p) for p in parts) if g is not None]
    if not found:
        return None
    return min(found, key=lambda g: _RANK[g[1]])


_RANK = {"==": 0, "has": 1, "one of": 2, ">": 3, ">=": 3, "<": 3, "<=": 3}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _guard(node: Node) -> Guard | None:
    if not isinstance(node, Compare):
        return None
    left, op, right = node.left, node.op, node.right
    if isinstance(left, Literal) and isinstance(right, Ref):
        if op == "in" and right.field.kind in (Kind.TEXTS, Kind.NUMBERS):
            return (right.field.name, "has", left.value)  # "KET" in skus
        if op in _FLIP or op == "==":
            left, right, op = right, left, _FLIP.get(op, op)  # 5000 < total
        else:
            return None
    if not isinstance(left, Ref) or not isinstance(right, Literal):
        return None
    if left.field.kind in (Kind.TEXTS, Kind.NUMBERS):
        return None  # a list compared whole: rare, evaluated
    if op == "==":
        return (left.field.name, "==", right.value)
    if op == "in" and isinstance(right.value, frozenset):
        return (left.field.name, "one of", right.value)
    if op in _FLIP and right.value is not None and left.field.kind is Kind.NUMBER:
        return (left.field.name, op, right.value)
    return None


@dataclass(frozen=True, slots=True)
class _Thresholds:
    """Rules guarded by ``field > t`` (or ``>=``), thresholds ascending; or by ``<``."""

    values: list[Any] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    inclusive: list[bool] = field(default_factory=list)


@dataclass(slots=True)
class RuleIndex:
    """Rules (in the order they run) under their guards."""

    rules: Sequence[Any]  # anything with a ``condition`` (the rules of one trigger)
    always: list[int] = field(default_factory=list)  # no guard: always evaluated
    equal: dict[str, dict[Any, list[int]]] = field(default_factory=dict)
    holding: dict[str, dict[Any, list[int]]] = field(default_factory=dict)
    above: dict[str, _Thresholds] = field(default_factory=dict)
    below: dict[str, _Thresholds] = field(default_factory=dict)
    guarded: frozenset[str] = frozenset()  # the fields the guards name

    def same_after(self, touched: frozenset[str] | None) -> bool:
        """Whether the rules found stay the same after a change of the ``touched`` fields
        (None: any): none of them is named by a guard."""
        return touched is not None and self.guarded.isdisjoint(touched)

    @classmethod
    def of(cls, rules: Sequence[Any]) -> RuleIndex:
        index = cls(rules)
        above: dict[str, list[tuple[Any, int, bool]]] = {}
        below: dict[str, list[tuple[Any, int, bool]]] = {}
        for position, rule in enumerate(rules):
            condition: Condition = rule.condition
            guard = guard_of(condition.tree)
            if guard is None:
                index.always.append(position)
                continue
            name, how, value = guard
            if how == "==":
                index.equal.setdefault(name, {}).setdefault(value, []).append(position)
            elif how == "one of":
                for one in value:
                    index.equal.setdefault(name, {}).setdefault(one, []).append(position)
            elif how == "has":
                index.holding.setdefault(name, {}).setdefault(value, []).append(position)
            elif how in (">", ">="):
                above.setdefault(name, []).append((value, position, how == ">="))
            else:
                below.setdefault(name, []).append((value, position, how == "<="))
        for target, found in ((index.above, above), (index.below, below)):
            for name, entries in found.items():
                entries.sort(key=lambda e: e[0])
                target[name] = _Thresholds(
                    [e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries]
                )
        index.guarded = frozenset([*index.equal, *index.holding, *index.above, *index.below])
        return index

    def candidates(self, values: Mapping[str, Any], after: int = -1) -> list[int]:
        """The positions of the rules whose guard holds for these values (or that have
        none), ascending, beyond ``after``."""
        found = set(self.always)
        for name, by_value in self.equal.items():
            hit = by_value.get(values[name])
            if hit:
                found.update(hit)
        for name, by_value in self.holding.items():
            for one in values[name]:
                hit = by_value.get(one)
                if hit:
                    found.update(hit)
        for name, limits in self.above.items():
            value = values[name]
            if value is None:
                continue
            # every threshold below the value passes; one equal to it only when inclusive
            cut = bisect_left(limits.values, value)
            found.update(limits.positions[:cut])
            for i in range(cut, bisect_right(limits.values, value)):
                if limits.inclusive[i]:
                    found.add(limits.positions[i])
        for name, limits in self.below.items():
            value = values[name]
            if value is None:
                continue
            cut = bisect_right(limits.values, value)
            found.update(limits.positions[cut:])
            for i in range(bisect_left(limits.values, value), cut):
                if limits.inclusive[i]:
                    found.add(limits.positions[i])
        return sorted(p for p in found if p > after)
