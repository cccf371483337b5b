"""Small state machines whose allowed transitions are data kept in one table each."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from potok.domain.errors import Conflict

S = TypeVar("S", bound=StrEnum)


class IllegalTransition(Conflict):
    """A state machine was asked for a move its table does not allow."""

    code = "illegal-transition"
    title = "This change is not allowed in the current state"
    template = "The {machine} cannot go from '{current}' to '{target}'."


class StateMachine(Generic[S]):
    """A named table of allowed transitions; anything not listed is forbidden."""

    def __init__(self, name: str, transitions: Mapping[S, frozenset[S]]) -> None:
        self.name = name
        self.transitions = dict(transitions)

    def allows(self, current: S, target: S) -> bool:
        return target in self.transitions.get(current, frozenset())

    def check(self, current: S, target: S) -> S:
        """Return ``target`` if the move is allowed, else raise :class:`IllegalTransition`."""
        if not self.allows(current, target):
            raise IllegalTransition(machine=self.name, current=current.value, target=target.value)
        return target

    def is_final(self, state: S) -> bool:
        return not self.transitions.get(state)

    def path(self, current: S, target: S, *, through: frozenset[S] | None = None) -> list[S]:
        """The fewest moves from ``current`` to ``target`` (the states after ``current``),
        passing only ``through`` these states on the way; empty when there is none."""
        if current == target:
            return []
        came: dict[S, S] = {}
        frontier = [current]
        while frontier:
            nearer: list[S] = []
            for state in frontier:
                for step in sorted(self.transitions.get(state, frozenset())):
                    if step in came or step == current:
                        continue
                    if step != target and through is not None and step not in through:
                        continue
                    came[step] = state
                    if step == target:
                        moves = [step]
                        while came[moves[-1]] != current:
                            moves.append(came[moves[-1]])
                        return moves[::-1]
                    nearer.append(step)
            frontier = nearer
        return []
