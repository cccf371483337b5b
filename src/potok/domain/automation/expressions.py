"""The conditions of automation rules: a small, safe expression language.

A condition reads like a Python boolean expression over the order's fields::

    channel == "shop" and total > 50000 and customer.orders == 0

It is parsed with Python's own parser into a tree and then walked here; nothing is ever
executed by Python (no ``eval``), and only the forms listed below are accepted:
``and``, ``or``, ``not``, the comparisons ``== != < <= > >= in not in``, parentheses,
the fields of :data:`potok.domain.automation.fields.FIELDS`, text in quotes, numbers,
``true``/``false`` (or ``True``/``False``), ``null`` and lists of literals in brackets.
Every mistake is reported with the column it starts at, and a condition that can never be
true (``total > 10 and total < 5``, a payment status that does not exist) is refused too.
"""

from __future__ import annotations

import ast
import difflib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from potok.domain.automation.fields import FIELDS, Field, Kind

MAX_LENGTH = 2000
"""The longest condition accepted."""

MAX_NODES = 200
"""The most parts (fields, literals, operators) one condition may have."""

_NAMES = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}
_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_ORDERED = {"<", "<=", ">", ">="}


@dataclass(frozen=True, slots=True)
class ConditionError:
    """One thing wrong with a condition: where it starts (1-based column), where it ends,
    what is wrong, and a stable code."""

    column: int
    end: int
    message: str
    code: str


class Mistake(Exception):
    def __init__(self, node: ast.AST | None, message: str, code: str) -> None:
        super().__init__(message)
        # the text is parsed inside parentheses: Python's 0-based offsets are 1-based here
        column = max(getattr(node, "col_offset", 1), 1)
        end = getattr(node, "end_col_offset", None)
        self.error = ConditionError(column, max(end - 1, column) if end else column, message, code)


# ---------------------------------------------------------------------- the compiled form


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    kind: Kind


@dataclass(frozen=True, slots=True)
class Ref:
    field: Field


@dataclass(frozen=True, slots=True)
class Compare:
    left: Ref | Literal
    op: str
    right: Ref | Literal


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # and / or
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Node


@dataclass(frozen=True, slots=True)
class Broken:
    """A stored condition that no longer reads (a field this Potok no longer has): it
    fails when the rule runs, and the rule is switched off."""

    why: str


class ConditionBroken(Exception):
    """Raised when a broken condition is evaluated."""


Node = Compare | BoolOp | Not | Ref | Literal | Broken


Check = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition that passed every check: its text and its tree (and the tree made
    into nested Python functions once, which is what runs on every order)."""

    text: str
    tree: Node
    fields: frozenset[str] = field(init=False, compare=False, repr=False)
    _check: Check = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", frozenset(_fields(self.tree)))
        object.__setattr__(self, "_check", _checker(self.tree))

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition is true of these field values (see ``fields.py``)."""
        return bool(self._check(values))

    def holds_walked(self, values: Mapping[str, Any]) -> bool:
        """The same answer, found by walking the tree (what the functions are checked
        against)."""
        return bool(_value(self.tree, values))


def _checker(node: Node) -> Check:
    """The node as a function of the field values; it answers as :func:`_value` does."""
    if isinstance(node, Broken):
        why = node.why

        def broken(values: Mapping[str, Any]) -> Any:
            raise ConditionBroken(f"the condition no longer reads: {why}")

        return broken
    if isinstance(node, Literal):
        constant = node.value
        return lambda values: constant
    if isinstance(node, Ref):
        name = node.field.name
        return lambda values: values[name]
    if isinstance(node, Not):
        inner = _checker(node.part)
        return lambda values: not inner(values)
    if isinstance(node, BoolOp):
        parts = tuple(_checker(p) for p in node.parts)
        if node.op == "and":
            # loops, not all()/any() over a generator: twice as fast on every order

            def every(values: Mapping[str, Any]) -> bool:
                for part in parts:  # noqa: SIM110
                    if not part(values):
                        return False
                return True

            return every

        def some(values: Mapping[str, Any]) -> bool:
            for part in parts:  # noqa: SIM110
                if part(values):
                    return True
            return False

        return some
    if isinstance(node.left, Ref) and isinstance(node.right, Literal):
        return _field_against_constant(node.left.field.name, node.op, node.right.value)
    left, right, op = _checker(node.left), _checker(node.right), node.op
    return lambda values: _apply(op, left(values), right(values))


_ORDERING: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _field_against_constant(name: str, op: str, constant: Any) -> Check:
    """The commonest comparison (``total > 50000``), without the general dispatch."""
    if op == "==":
        return lambda values: values[name] == constant
    if op == "!=":
        return lambda values: values[name] != constant
    if op == "in":
        return lambda values: values[name] in constant
    if op == "not in":
        return lambda values: values[name] not in constant
    if constant is None:
        return lambda values: False  # an unknown figure is neither more nor less than anything
    compare = _ORDERING[op]

    def ordered(values: Mapping[str, Any]) -> Any:
        value = values[name]
        return value is not None and compare(value, constant)

    return ordered


def _fields(node: Node) -> list[str]:
    if isinstance(node, Ref):
        return [node.field.name]
    if isinstance(node, Compare):
        return _fields(node.left) + _fields(node.right)
    if isinstance(node, BoolOp):
        return [name for part in node.parts for name in _fields(part)]
    if isinstance(node, Not):
        return _fields(node.part)
    return []


# ---------------------------------------------------------------------- parsing and checking


def compile_condition(text: str) -> Condition:
    """Parse and check a condition; raises :class:`Mistake` naming the place."""
    if len(text) > MAX_LENGTH:
        raise Mistake(None, f"a condition is at most {MAX_LENGTH} characters", "too-long")
    if "\n" in text or "\r" in text:
        raise Mistake(None, "write the condition on one line", "one-line")
    if not text.strip():
        raise Mistake(None, "the condition is empty; write 'true' to match every order", "empty")
    try:
        parsed = ast.parse(f"({text})", mode="eval")
    except SyntaxError as error:
        column = max((error.offset or 1) - 1, 1)
        marker = ast.Constant(value=None, col_offset=column, end_col_offset=column + 1)
        raise Mistake(marker, f"cannot read this: {error.msg}", "syntax") from None
    if sum(1 for _ in ast.walk(parsed)) > MAX_NODES:
        raise Mistake(None, f"a condition has at most {MAX_NODES} parts", "too-big")
    tree = _build(parsed.body)
    if not _is_flag(tree):
        raise Mistake(parsed.body, "the condition must be true or false (a comparison)", "type")
    _check_satisfiable(tree, parsed.body)
    return Condition(text, tree)


def named_values(text: str, name: str) -> list[tuple[str, int, int]]:
    """The texts a condition compares the field ``name`` with, each with its first and
    last column (as :class:`ConditionError` counts them): ``'toys' in items.categories``
    names 'toys'. Empty when the text does not read."""
    try:
        parsed = ast.parse(f"({text})", mode="eval")
    except SyntaxError:
        return []
    found: list[tuple[str, int, int]] = []
    for node in ast.walk(parsed):
        if not isinstance(node, ast.Compare) or len(node.comparators) != 1:
            continue
        sides = (node.left, node.comparators[0])
        if not any(_dotted(side) == name for side in sides):
            continue
        for side in sides:
            values = side.elts if isinstance(side, ast.List | ast.Tuple) else [side]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    column = max(value.col_offset, 1)
                    end = max((value.end_col_offset or column + 1) - 1, column)
                    found.append((value.value, column, end))
    return found


def _is_flag(node: Node) -> bool:
    if isinstance(node, Ref):
        return node.field.kind is Kind.FLAG
    if isinstance(node, Literal):
        return node.kind is Kind.FLAG
    return True


def _build(node: ast.AST) -> Node:
    if isinstance(node, ast.BoolOp):
        parts = tuple(_build(v) for v in node.values)
        for value, part in zip(node.values, parts, strict=True):
            if not _is_flag(part):
                raise Mistake(value, "each side of 'and'/'or' must be true or false", "type")
        return BoolOp("and" if isinstance(node.op, ast.And) else "or", parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        part = _build(node.operand)
        if not _is_flag(part):
            raise Mistake(node.operand, "'not' takes something true or false", "type")
        return Not(part)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _build(node.operand)
        if isinstance(inner, Literal) and inner.kind is Kind.NUMBER:
            return Literal(-inner.value, Kind.NUMBER)
        raise Mistake(node, "'-' is only allowed before a number", "unsupported")
    if isinstance(node, ast.Compare):
        return _compare(node)
    if isinstance(node, ast.Name | ast.Attribute):
        return _ref(node)
    if isinstance(node, ast.Constant):
        return _literal(node)
    if isinstance(node, ast.List | ast.Tuple):
        return _list(node)
    raise Mistake(node, f"'{ast.unparse(node)}' is not allowed in a condition", "unsupported")


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _ref(node: ast.Name | ast.Attribute) -> Node:
    name = _dotted(node)
    if isinstance(node, ast.Name) and node.id in _NAMES:
        value = _NAMES[node.id]
        return Literal(value, Kind.NULL if value is None else Kind.FLAG)
    if name is None or name not in FIELDS:
        near = difflib.get_close_matches(name or "", list(FIELDS), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        raise Mistake(node, f"'{name or ast.unparse(node)}' is not a field{hint}", "unknown-field")
    return Ref(FIELDS[name])


def _literal(node: ast.Constant) -> Literal:
    value = node.value
    if isinstance(value, bool):
        return Literal(value, Kind.FLAG)
    if value is None:
        return Literal(None, Kind.NULL)
    if isinstance(value, int | float):
        try:
            return Literal(Decimal(str(value)), Kind.NUMBER)
        except InvalidOperation:  # inf, nan
            raise Mistake(node, "write a plain number", "unsupported") from None
    if isinstance(value, str):
        if len(value) > 200:
            raise Mistake(node, "text in a condition is at most 200 characters", "too-long")
        return Literal(value, Kind.TEXT)
    raise Mistake(node, f"'{ast.unparse(node)}' is not allowed in a condition", "unsupported")


def _list(node: ast.List | ast.Tuple) -> Literal:
    items = [_build(e) for e in node.elts]
    kinds = {i.kind for i in items if isinstance(i, Literal)}
    if any(not isinstance(i, Literal) for i in items) or len(kinds) > 1:
        raise Mistake(node, 'a list holds literals of one kind (["a", "b"] or [1, 2])', "type")
    if len(items) > 100:
        raise Mistake(node, "a list holds at most 100 values", "too-big")
    kind = kinds.pop() if kinds else Kind.TEXT
    list_kind = Kind.NUMBERS if kind is Kind.NUMBER else Kind.TEXTS
    values = tuple(i.value for i in items if isinstance(i, Literal))
    return Literal(frozenset(values), list_kind)


def _compare(node: ast.Compare) -> Node:
    if len(node.ops) != 1:
        raise Mistake(node, "compare two things at a time; join comparisons with 'and'", "chain")
    op = _COMPARE.get(type(node.ops[0]))
    if op is None:
        raise Mistake(node, "use == != < <= > >= in or not in", "unsupported")
    left, right = _build(node.left), _build(node.comparators[0])
    _check_types(node, left, op, right)
    return Compare(_leaf(node.left, left), op, _leaf(node.comparators[0], right))


def _leaf(source: ast.AST, node: Node) -> Ref | Literal:
    if not isinstance(node, Ref | Literal):
        raise Mistake(source, "compare a field with a value, not two conditions", "type")
    return node


def _kind(node: Node) -> Kind:
    if isinstance(node, Ref):
        return node.field.kind
    if isinstance(node, Literal):
        return node.kind
    return Kind.FLAG


_ITEM = {Kind.TEXTS: Kind.TEXT, Kind.NUMBERS: Kind.NUMBER}


def _check_types(node: ast.Compare, left: Node, op: str, right: Node) -> None:
    lk, rk = _kind(left), _kind(right)
    where = node.comparators[0]
    if op in ("in", "not in"):
        if rk in _ITEM:
            if _ITEM[rk] is not lk:
                raise Mistake(where, f"a {lk.value} cannot be in a list of {rk.value}", "type")
            _check_values(left, right, where)
            return
        raise Mistake(where, "'in' needs a list after it (a field such as tags, or [...])", "type")
    if rk is Kind.NULL or lk is Kind.NULL:
        if op not in ("==", "!="):
            raise Mistake(node, "null can only be compared with == or !=", "type")
        field = left if isinstance(left, Ref) else right
        if isinstance(field, Ref) and not field.field.optional:
            raise Mistake(node, f"'{field.field.name}' always has a value", "never-true")
        return
    if lk is not rk:
        raise Mistake(
            where, f"'{ast.unparse(node)}' compares a {lk.value} with a {rk.value}", "type"
        )
    if op in _ORDERED and lk is not Kind.NUMBER:
        raise Mistake(
            node, f"'{op}' compares numbers; a {lk.value} is compared with == or !=", "type"
        )
    _check_values(left, right, where)


def _check_values(left: Node, right: Node, where: ast.AST) -> None:
    """A field with a fixed set of values compared with one it never has is never true."""
    field, other = (left, right) if isinstance(left, Ref) else (right, left)
    if not isinstance(field, Ref) or not isinstance(other, Literal) or not field.field.choices:
        return
    values = other.value if isinstance(other.value, frozenset) else {other.value}
    unknown = sorted(str(v) for v in values if v not in field.field.choices)
    if unknown:
        raise Mistake(
            where,
            f"'{unknown[0]}' is never a value of {field.field.name}; "
            f"use one of {', '.join(sorted(field.field.choices))}",
            "never-true",
        )


# ---------------------------------------------------------------------- never-true conditions


def _check_satisfiable(tree: Node, source: ast.AST) -> None:
    """Refuse an 'and' of comparisons of one field that no value can meet."""
    if isinstance(tree, BoolOp):
        for part in tree.parts:
            _check_satisfiable(part, source)
        if tree.op != "and":
            return
        bounds: dict[str, list[Compare]] = {}
        for part in tree.parts:
            if (
                isinstance(part, Compare)
                and isinstance(part.left, Ref)
                and isinstance(part.right, Literal)
            ):
                bounds.setdefault(part.left.field.name, []).append(part)
        for name, compares in bounds.items():
            if not _possible(compares):
                raise Mistake(
                    source, f"the conditions on {name} contradict each other", "never-true"
                )
    elif isinstance(tree, Not):
        _check_satisfiable(tree.part, source)


def _possible(compares: list[Compare]) -> bool:
    low: tuple[Decimal, bool] | None = None  # value, inclusive
    high: tuple[Decimal, bool] | None = None
    equal: set[Any] | None = None
    excluded: set[Any] = set()
    for c in compares:
        assert isinstance(c.right, Literal)
        value = c.right.value
        if c.op == "==":
            equal = {value} if equal is None else equal & {value}
        elif c.op == "in" and isinstance(value, frozenset):
            equal = set(value) if equal is None else equal & value
        elif c.op == "!=":
            excluded.add(value)
        elif c.op == "not in" and isinstance(value, frozenset):
            excluded |= value
        elif c.op in (">", ">="):
            inclusive = c.op == ">="
            if low is None or value > low[0] or (value == low[0] and not inclusive):
                low = (value, inclusive)
        elif c.op in ("<", "<="):
            inclusive = c.op == "<="
            if high is None or value < high[0] or (value == high[0] and not inclusive):
                high = (value, inclusive)
    if (
        low is not None
        and high is not None
        and (low[0] > high[0] or (low[0] == high[0] and not (low[1] and high[1])))
    ):
        return False
    if equal is not None:
        equal -= excluded
        if low is not None or high is not None:
            equal = {v for v in equal if isinstance(v, Decimal) and _within(v, low, high)}
        return bool(equal)
    return True


def _within(
    value: Decimal, low: tuple[Decimal, bool] | None, high: tuple[Decimal, bool] | None
) -> bool:
    if low is not None and (value < low[0] or (value == low[0] and not low[1])):
        return False
    return not (high is not None and (value > high[0] or (value == high[0] and not high[1])))


# ---------------------------------------------------------------------- evaluation


def stored_condition(text: str) -> Condition:
    """A condition as it was stored: compiled again, or kept as :class:`Broken` when it
    no longer reads, so that only its rule fails (and is switched off) when it runs."""
    try:
        return compile_condition(text)
    except Mistake as mistake:
        return Condition(text, Broken(f"column {mistake.error.column}: {mistake.error.message}"))


def _value(node: Node, values: Mapping[str, Any]) -> Any:
    if isinstance(node, Broken):
        raise ConditionBroken(f"the condition no longer reads: {node.why}")
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return values[node.field.name]
    if isinstance(node, Not):
        return not _value(node.part, values)
    if isinstance(node, BoolOp):
        if node.op == "and":
            return all(_value(p, values) for p in node.parts)
        return any(_value(p, values) for p in node.parts)
    left, right = _value(node.left, values), _value(node.right, values)
    return _apply(node.op, left, right)


def _apply(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "in":
        return left in right
    if op == "not in":
        return left not in right
    if left is None or right is None:
        return False  # an unknown figure is neither more nor less than anything
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)
