"""quick_init: the same dataclass, made quicker."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field

import pytest

from potok.domain.quick_init import quick_init


@dataclass(frozen=True, slots=True, kw_only=True)
class Base:
    at: int


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Quick(Base):
    name: str
    tags: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plain(Base):
    name: str
    tags: list[str] = field(default_factory=list)
    note: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int = 7
    label: str = field(default="p", init=False)


def test_it_makes_what_the_dataclass_makes() -> None:
    quick = Quick(at=1, name="a")
    plain = Plain(at=1, name="a")
    assert [getattr(quick, f.name) for f in dataclasses.fields(quick)] == [1, "a", [], None]
    assert [getattr(quick, f.name) for f in dataclasses.fields(quick)] == [
        getattr(plain, f.name) for f in dataclasses.fields(plain)
    ]
    assert Quick(at=1, name="a", tags=["t"], note="n").tags == ["t"]
    assert Quick(at=1, name="a").tags is not Quick(at=1, name="a").tags  # a fresh list each
    assert str(inspect.signature(Quick)) == str(inspect.signature(Plain))
    assert repr(Point(1)) == "Point(x=1, y=7, label='p')"
    assert Point(1) == Point(1, 7)
    assert hash(Point(1)) == hash(Point(1, 7))
    assert Point(1) != Point(2)
    assert dataclasses.replace(Point(1), y=3) == Point(1, 3)
    assert pickle.loads(pickle.dumps(Point(4, 5))) == Point(4, 5)  # noqa: S301 - our own


def test_it_stays_frozen_and_checks_its_arguments() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Quick(1, "a")  # type: ignore[call-arg]  # keyword-only, as the dataclass's
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, 2, "label")  # type: ignore[call-arg]  # not a parameter


def test_it_refuses_what_it_cannot_make_exactly() -> None:
    with pytest.raises(TypeError, match="frozen, slotted"):

        @quick_init
        @dataclass(frozen=True)
        class NoSlots:
            x: int

    with pytest.raises(TypeError, match="__post_init__"):

        @quick_init
        @dataclass(frozen=True, slots=True)
        class Checked:
            x: int

            def __post_init__(self) -> None:
                pass
