"""A quicker ``__init__`` for the frozen, slotted dataclasses made many times per order.

A frozen dataclass's own ``__init__`` sets each field through ``object.__setattr__``,
looked up and called afresh per field (the class's ``__setattr__`` refuses): a stock
position of ten fields cost about four times as much to make as the same class unfrozen.
:func:`quick_init` gives such a class an ``__init__`` that calls each slot's own setter
instead, which the class's ``__setattr__`` does not stand in front of: about half the
cost, and nothing else changes - the instances are as frozen, hashable and comparable as
before, ``dataclasses.replace`` makes them the same way, and the signature is the same.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


class _Factory:
    """A parameter left out whose field has a default factory (shown as the dataclass's)."""

    def __repr__(self) -> str:
        return "<factory>"


_NO_VALUE = _Factory()


def quick_init(cls: type[T]) -> type[T]:
    """Apply above ``@dataclass(frozen=True, slots=True)``; a class it cannot serve exactly
    (a ``__post_init__``, an ``InitVar``, no slots) is refused at import."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init serves frozen, slotted dataclasses")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init cannot run __post_init__")
    every = cls.__dataclass_fields__  # type: ignore[attr-defined]
    if any(f._field_type is dataclasses._FIELD_INITVAR for f in every.values()):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__}: quick_init cannot pass an InitVar")
    namespace: dict[str, Any] = {"_NO_VALUE": _NO_VALUE}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for index, f in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        setter = f"_set{index}"
        namespace[setter] = getattr(cls, f.name).__set__  # the slot's own descriptor
        has_factory = f.default_factory is not dataclasses.MISSING
        if has_factory:
            namespace[f"_factory{index}"] = f.default_factory
        if f.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = f.default
        if not f.init:
            if has_factory:
                body.append(f"    {setter}(self, _factory{index}())")
            elif f.default is not dataclasses.MISSING:
                body.append(f"    {setter}(self, _default{index})")
            continue
        if has_factory:
            parameter = f"{f.name}=_NO_VALUE"
            body.append(
                f"    {setter}(self, _factory{index}() if {f.name} is _NO_VALUE else {f.name})"
            )
        else:
            parameter = f.name
            if f.default is not dataclasses.MISSING:
                parameter += f"=_default{index}"
            body.append(f"    {setter}(self, {f.name})")
        (keyword if f.kw_only else positional).append(parameter)
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # noqa: S102 - made from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
