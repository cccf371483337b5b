"""Product categories: a tree (each category under at most one parent) that products
belong to, that rules ask about and that reports are cut by.

A category's code never changes (products, rules and reports name it); its name and its
parent may. Each category keeps its path - the codes from the root down to itself - so that
the categories above a product's are known without walking the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from potok.domain.errors import Conflict, InvalidInput, NotFound
from potok.domain.validation import Problems

MAX_DEPTH = 8
"""How many levels a tree may have (root categories are level 1)."""

SEPARATOR = ">"
"""Between the codes of a stored path; a code never contains it."""


class CategoryNotFound(NotFound):
    code = "category-not-found"
    title = "Category not found"
    template = "There is no category with code '{category}'."


class CategoryCodeTaken(Conflict):
    code = "category-code-taken"
    title = "The category code already exists"
    template = "A category with code '{category}' already exists."


class CategoryInUse(Conflict):
    code = "category-in-use"
    title = "The category is in use"
    template = "Category '{category}' {why}; move them to another category first."


class CategoryLoop(Conflict):
    code = "category-loop"
    title = "A category cannot be put under itself"
    template = (
        "Category '{category}' cannot go under '{parent}', which is {where}; choose a "
        "parent outside its branch."
    )


class CategoryTooDeep(Conflict):
    code = "category-too-deep"
    title = "The category tree would be too deep"
    template = (
        "Putting '{category}' under '{parent}' makes the tree {depth} levels deep; at most "
        "{limit} are allowed."
    )


@dataclass(frozen=True, slots=True)
class CategoryDraft:
    """What a caller gives to create or replace a category; checked by :meth:`validate`."""

    code: str
    name: str
    parent: str | None = None  # the parent's code; None: a root category

    def validate(self, prefix: str = "") -> None:
        problems = Problems(prefix)
        problems.code("code", self.code)
        problems.text("name", self.name)
        if self.parent is not None:
            problems.code("parent", self.parent)
            if self.parent == self.code:
                problems.add("parent", "a category cannot be its own parent", "loop")
        if problems:
            raise InvalidInput(problems.errors)


@dataclass(frozen=True, slots=True)
class Category:
    """A node of the category tree."""

    id: int
    code: str
    name: str
    parent: str | None
    path: tuple[str, ...]  # the codes from the root down to this one
    created_at: datetime
    updated_at: datetime

    @property
    def depth(self) -> int:
        return len(self.path)


def path_text(path: tuple[str, ...]) -> str:
    """The stored form of a path."""
    return SEPARATOR.join(path)


def path_of(text: str) -> tuple[str, ...]:
    """A stored path as the codes from the root down."""
    return tuple(text.split(SEPARATOR)) if text else ()


def with_ancestors(paths: list[str]) -> frozenset[str]:
    """The codes of these stored paths' categories and of every category above them."""
    return frozenset(code for text in paths if text for code in text.split(SEPARATOR))


def check_move(category: str, parent: Category | None, subtree_height: int) -> tuple[str, ...]:
    """The path of ``category`` under ``parent``, refused when the parent lies in its own
    branch or the branch (``subtree_height`` levels, itself included) would be too deep."""
    if parent is None:
        return (category,)
    if category in parent.path:
        where = "itself" if parent.code == category else f"below it ({' > '.join(parent.path)})"
        raise CategoryLoop(category=category, parent=parent.code, where=where)
    depth = parent.depth + subtree_height
    if depth > MAX_DEPTH:
        raise CategoryTooDeep(category=category, parent=parent.code, depth=depth, limit=MAX_DEPTH)
    return (*parent.path, category)
