"""Document numbers under concurrency: many issuers at once, some of them failing after
they took a number; the numbers that stay are 1..N, none twice, none skipped.

Each thread issues through its own unit of work (its own database connection), as
separate API requests would.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import pytest

from potok.bootstrap import Potok
from potok.domain.documents import DocumentKind, FileFormat
from potok.services import documents, intake, legal_entities
from potok.services.document_ports import StoredFile
from potok.services.unit_of_work import UnitOfWork
from tests.documents_support import SELLER
from tests.factories import TESTER, build_world, order_command
from tests.racing import RACE_LIMIT, start_line

ORDERS = 24
FAILING = 8


class PrinterJam(Exception):
    """The PDF could not be stored: the transaction rolls back after taking its number."""


class JammedDocuments:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def add_file(
        self, document_id: int, fmt: FileFormat, name: str, content: bytes, at: datetime
    ) -> StoredFile:
        raise PrinterJam(f"document {document_id} got its number, then failed")


class JammedUnitOfWork:
    """A real unit of work whose document store fails when the file is stored."""

    def __init__(self, inner: UnitOfWork) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "documents":
            return JammedDocuments(self._inner.documents)
        return getattr(self._inner, name)

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, traceback)


@RACE_LIMIT
@pytest.mark.slow
def test_racing_issuers_leave_numbers_without_gaps_or_twins(potok: Potok) -> None:
    build_world(potok, {("MSK", "MUG"): ORDERS + FAILING})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    order_ids = [
        intake.place_order(potok.uow(), order_command([("MUG", 1)]), TESTER).order.id
        for _ in range(ORDERS + FAILING)
    ]
    start = start_line(ORDERS + FAILING)

    def issue(index: int) -> str:
        order_id = order_ids[index]
        assert order_id is not None
        uow: Any = potok.uow()
        if index % 4 == 3:  # every fourth one fails after it took a number
            uow = JammedUnitOfWork(uow)
        start.wait()
        try:
            documents.issue_document(uow, order_id, DocumentKind.INVOICE, TESTER)
        except PrinterJam:
            return "jammed"
        return "issued"

    with ThreadPoolExecutor(max_workers=ORDERS + FAILING) as pool:
        outcomes = list(pool.map(issue, range(ORDERS + FAILING)))

    assert outcomes.count("jammed") == FAILING
    page = documents.list_documents(potok.uow(), kind=DocumentKind.INVOICE, limit=500)
    numbers = sorted(d.number for d in page.items)
    assert numbers == list(range(1, ORDERS + 1))
    # the next one continues the series, still without a gap
    jammed_before = order_ids[3]  # its first try failed: it is issued now, next in line
    assert jammed_before is not None
    late = documents.issue_document(potok.uow(), jammed_before, DocumentKind.INVOICE, TESTER)
    assert late.document.number == ORDERS + 1
