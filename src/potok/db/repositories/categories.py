"""The category tree in and out of ``product_categories``; products' membership in
``product_category_links``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.tables import product_categories, product_category_links
from potok.domain.catalogue.categories import Category, path_of, path_text

_c = product_categories
_parent = product_categories.alias("parent")
_SELECT = sa.select(_c, _parent.c.code.label("parent_code")).select_from(
    _c.outerjoin(_parent, _parent.c.id == _c.c.parent_id)
)


def _category(row: Any) -> Category:
    return Category(
        id=int(row.id),
        code=row.code,
        name=row.name,
        parent=row.parent_code,
        path=path_of(row.path),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


TREE_LOCK = 1_900_023  # the advisory lock taken by every change of the tree


class CategoryRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def lock_tree(self) -> None:
        """Make this transaction the only one changing the tree until it ends (two moves
        read apart could otherwise put two categories under each other). SQLite runs one
        writer anyway."""
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": TREE_LOCK}
            )

    def get_by_code(self, code: str) -> Category | None:
        row = self.connection.execute(_SELECT.where(_c.c.code == code)).first()
        return _category(row) if row else None

    def known(self, codes: Collection[str]) -> set[str]:
        """Which of these codes name a category."""
        wanted = sorted(set(codes))
        found: set[str] = set()
        for start in range(0, len(wanted), 1000):
            found.update(
                self.connection.execute(
                    sa.select(_c.c.code).where(_c.c.code.in_(wanted[start : start + 1000]))
                ).scalars()
            )
        return found

    def list(self, *, under: Category | None = None) -> Sequence[Category]:
        """Every category (or those of one branch, its root included), in tree order."""
        query = _SELECT.order_by(_c.c.path)
        if under is not None:
            prefix = path_text(under.path)
            query = query.where(
                sa.or_(
                    _c.c.code == under.code,
                    sa.func.substr(_c.c.path, 1, len(prefix) + 1) == prefix + ">",
                )
            )
        return [_category(row) for row in self.connection.execute(query)]

    def add(
        self, code: str, name: str, parent: Category | None, path: tuple[str, ...], at: datetime
    ) -> Category:
        row = self.connection.execute(
            sa.insert(_c)
            .values(
                code=code,
                name=name,
                parent_id=parent.id if parent else None,
                path=path_text(path),
                created_at=at,
                updated_at=at,
            )
            .returning(_c.c.id)
        ).one()
        return Category(int(row.id), code, name, parent.code if parent else None, path, at, at)

    def replace(
        self,
        current: Category,
        name: str,
        parent: Category | None,
        path: tuple[str, ...],
        at: datetime,
    ) -> Category:
        """Rename or move a category; a move rewrites the paths of its whole branch."""
        self.connection.execute(
            sa.update(_c)
            .where(_c.c.id == current.id)
            .values(
                name=name,
                parent_id=parent.id if parent else None,
                path=path_text(path),
                updated_at=at,
            )
        )
        if path != current.path:
            old = path_text(current.path) + ">"
            self.connection.execute(
                sa.update(_c)
                .where(sa.func.substr(_c.c.path, 1, len(old)) == old)
                .values(
                    path=path_text(path) + ">" + sa.func.substr(_c.c.path, len(old) + 1),
                    updated_at=at,
                )
            )
        return Category(
            current.id,
            current.code,
            name,
            parent.code if parent else None,
            path,
            current.created_at,
            at,
        )

    def height(self, category: Category) -> int:
        """Levels of its branch, itself included (1: no category below it)."""
        prefix = path_text(category.path) + ">"
        paths = self.connection.execute(
            sa.select(_c.c.path).where(sa.func.substr(_c.c.path, 1, len(prefix)) == prefix)
        ).scalars()
        return 1 + max((len(path_of(p)) - category.depth for p in paths), default=0)

    def usage(self, category: Category) -> str | None:
        """Why the category cannot be deleted, or None."""
        if self.connection.execute(
            sa.select(_c.c.id).where(_c.c.parent_id == category.id).limit(1)
        ).first():
            return "has categories below it"
        products = self.connection.execute(
            sa.select(sa.func.count())
            .select_from(product_category_links)
            .where(product_category_links.c.category == category.code)
        ).scalar_one()
        return f"has {products} product(s)" if products else None

    def delete(self, category: Category) -> None:
        self.connection.execute(sa.delete(_c).where(_c.c.id == category.id))

    def paths(self, codes: Collection[str]) -> dict[str, tuple[str, ...]]:
        """The paths of these categories, by code (unknown codes left out)."""
        wanted = sorted(set(codes))
        found: dict[str, tuple[str, ...]] = {}
        for start in range(0, len(wanted), 1000):
            for code, path in self.connection.execute(
                sa.select(_c.c.code, _c.c.path).where(_c.c.code.in_(wanted[start : start + 1000]))
            ):
                found[code] = path_of(path)
        return found
