"""The category tree: create, rename or move, delete, read; and which products are in a
category."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from potok.domain.catalogue import (
    Category,
    CategoryCodeTaken,
    CategoryDraft,
    CategoryInUse,
    CategoryNotFound,
)
from potok.domain.catalogue.categories import check_move
from potok.domain.catalogue.events import CategoryCreated, CategoryDeleted, CategoryUpdated
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.events import plain
from potok.domain.kernel import Clock, utc_now
from potok.services.idempotency import Once, atomically_once
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def _parent(uow: UnitOfWork, draft: CategoryDraft) -> Category | None:
    if draft.parent is None:
        return None
    parent = uow.categories.get_by_code(draft.parent)
    if parent is None:
        raise InvalidInput(
            [FieldError("parent", f"there is no category '{draft.parent}'", "unknown-category")]
        )
    return parent


def create_category(
    uow: UnitOfWork,
    draft: CategoryDraft,
    *,
    clock: Clock = utc_now,
    once: Once[Category] | None = None,
) -> Category:
    draft.validate()

    def work(uow: UnitOfWork) -> Category:
        uow.categories.lock_tree()
        if uow.categories.get_by_code(draft.code) is not None:
            raise CategoryCodeTaken(category=draft.code)
        parent = _parent(uow, draft)
        path = check_move(draft.code, parent, 1)
        category = uow.categories.add(draft.code, draft.name, parent, path, clock())
        uow.record(
            CategoryCreated(
                occurred_at=category.created_at, code=category.code, category=plain(category)
            )
        )
        return category

    return atomically_once(uow, once, work)


def replace_category(
    uow: UnitOfWork, code: str, draft: CategoryDraft, *, clock: Clock = utc_now
) -> Category:
    """Rename a category or move it (with everything below it) under another parent."""
    draft.validate()
    if draft.code != code:
        raise InvalidInput(
            [FieldError("code", f"must stay '{code}'; a code cannot be renamed", "code-immutable")]
        )

    def work(uow: UnitOfWork) -> Category:
        uow.categories.lock_tree()
        current = uow.categories.get_by_code(code)
        if current is None:
            raise CategoryNotFound(category=code)
        parent = _parent(uow, draft)
        path = current.path
        if draft.parent != current.parent:
            path = check_move(code, parent, uow.categories.height(current))
        category = uow.categories.replace(current, draft.name, parent, path, clock())
        uow.record(
            CategoryUpdated(
                occurred_at=category.updated_at,
                code=code,
                category=plain(category),
                before=plain(current),
            )
        )
        return category

    return atomically(uow, work)


def delete_category(uow: UnitOfWork, code: str, *, clock: Clock = utc_now) -> None:
    """Delete a category with no products and no categories below it."""

    def work(uow: UnitOfWork) -> None:
        uow.categories.lock_tree()
        category = uow.categories.get_by_code(code)
        if category is None:
            raise CategoryNotFound(category=code)
        why = uow.categories.usage(category)
        if why is not None:
            raise CategoryInUse(category=code, why=why)
        uow.categories.delete(category)
        uow.record(CategoryDeleted(occurred_at=clock(), code=code))

    atomically(uow, work)


def get_category(uow: UnitOfWork, code: str) -> Category:
    def work(uow: UnitOfWork) -> Category:
        category = uow.categories.get_by_code(code)
        if category is None:
            raise CategoryNotFound(category=code)
        return category

    return reading(uow, work)


def list_categories(uow: UnitOfWork, *, under: str | None = None) -> Sequence[Category]:
    """Every category in tree order (a parent before its children), or one branch."""

    def work(uow: UnitOfWork) -> Sequence[Category]:
        root = None
        if under is not None:
            root = uow.categories.get_by_code(under)
            if root is None:
                raise CategoryNotFound(category=under)
        return uow.categories.list(under=root)

    return reading(uow, work)


def unknown_categories(uow: UnitOfWork, codes: Collection[str]) -> list[str]:
    """Those of these codes that name no category (in the caller's transaction)."""
    wanted = {c for c in codes if c}
    return sorted(wanted - uow.categories.known(wanted)) if wanted else []


def sync_categories(
    uow: UnitOfWork, wanted: Sequence[CategoryDraft], *, clock: Clock = utc_now
) -> int:
    """Make the tree hold these categories (parents listed before their children) as given:
    missing ones created, renamed or moved ones changed, the rest left alone - in one
    transaction, with an event for each change. Returns how many changed (an ERP's groups
    imported twice change nothing the second time)."""
    for draft in wanted:
        draft.validate()

    def work(uow: UnitOfWork) -> int:
        uow.categories.lock_tree()
        changed = 0
        at = clock()
        for draft in wanted:
            current = uow.categories.get_by_code(draft.code)
            if current is not None and (current.name, current.parent) == (
                draft.name,
                draft.parent,
            ):
                continue
            parent = _parent(uow, draft)
            if current is None:
                made = uow.categories.add(
                    draft.code, draft.name, parent, check_move(draft.code, parent, 1), at
                )
                uow.record(CategoryCreated(occurred_at=at, code=made.code, category=plain(made)))
            else:
                path = current.path
                if draft.parent != current.parent:
                    path = check_move(draft.code, parent, uow.categories.height(current))
                made = uow.categories.replace(current, draft.name, parent, path, at)
                uow.record(
                    CategoryUpdated(
                        occurred_at=at, code=made.code, category=plain(made), before=plain(current)
                    )
                )
            changed += 1
        return changed

    return atomically(uow, work)
