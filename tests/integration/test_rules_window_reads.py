"""What the rules' window reads, and what it leaves unread: the customer's personal data
when no rule of the window can need it (and the guard that keeps such an order from
being saved with its contact or address changed), the events' payloads, and - on
PostgreSQL - the window's ids passed as arrays the server parses once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.repositories.orders import PersonalDataNotRead
from potok.db.tables import orders as orders_table
from potok.domain.automation import RuleDraft
from potok.services import orders
from potok.services.automation import rules
from potok.services.automation.running import apply_automation_rules
from potok.services.outside import Outside
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from tests.factories import TESTER, build_world
from tests.integration.test_automation_rules import _rules_round, _window, place

SEALED = (
    "customer_name",
    "customer_phone",
    "customer_email",
    "customer_phone_hash",
    "address_line1",
    "address_postal_code",
)


def _sealed(potok: Potok, order_id: int) -> tuple[Any, ...]:
    """The order's personal columns as stored (sealed)."""
    columns = [orders_table.c[name] for name in SEALED]
    with potok.engine.connect() as look:
        return tuple(look.execute(sa.select(*columns).where(orders_table.c.id == order_id)).one())


def _opened(potok: Potok, run: Any) -> int:
    """How many sealed values ``run`` opened."""
    protector = potok.protector
    opened = 0
    decrypt = protector.decrypt

    def counting(stored: str | None) -> str | None:
        nonlocal opened
        opened += 1
        return decrypt(stored)

    protector.decrypt = counting  # type: ignore[method-assign]
    try:
        run()
    finally:
        del protector.decrypt
    return opened


def _placed(potok: Potok, name: str, phone: str | None) -> int:
    return place(potok, [("MUG", 1)], customer_name=name, customer_phone=phone)


def test_a_window_of_rules_that_only_tag_opens_no_personal_data_and_keeps_it(
    potok: Potok,
) -> None:
    """Rules that only tag, note, set a priority or assign read no condition field of the
    customer's contact or the address's sealed lines: the window opens none of them, and
    the orders it saves keep their sealed columns as they were. One rule that may hold,
    and the window's orders are read whole. (Read whole whatever the rules, the first
    window opened six values here.)"""
    build_world(potok, {("MSK", "MUG"): 10})
    rules.add_rule(
        potok.uow(),
        RuleDraft("Seen", "order.created", "true", [{"do": "add_tag", "tag": "seen"}]),
        TESTER,
    )
    _, position = _window(potok, 0)
    placed = [_placed(potok, "Иван Петров", "+79990000001"), _placed(potok, "Анна", None)]
    before = {i: _sealed(potok, i) for i in placed}
    contacts = {i: orders.get_order(potok.uow(), i).order.contact for i in placed}
    events, position = _window(potok, position)

    opened = _opened(
        potok, lambda: apply_automation_rules(Outside(potok.uow, potok.carriers), events)
    )

    assert opened == 0
    for order_id in placed:
        assert _sealed(potok, order_id) == before[order_id]
        after = orders.get_order(potok.uow(), order_id)
        assert after.order.contact == contacts[order_id]
        assert after.order.contact.name in ("Иван Петров", "Анна")
        assert "tagged" in [e.action for e in after.history]

    rules.add_rule(
        potok.uow(),
        RuleDraft(
            "Hold",
            "order.created",
            "total > 99999999",
            [{"do": "hold", "hold_type": "fraud", "reason": "check"}],
        ),
        TESTER,
    )
    _, position = _window(potok, position)
    third = _placed(potok, "Пётр", "+79990000003")
    events, _ = _window(potok, position)
    opened = _opened(
        potok, lambda: apply_automation_rules(Outside(potok.uow, potok.carriers), events)
    )
    assert opened > 0
    assert orders.get_order(potok.uow(), third).order.contact.name == "Пётр"


def test_an_order_read_without_its_personal_data_is_not_saved_with_its_address_changed(
    potok: Potok,
) -> None:
    """An order read with its personal data unopened holds an empty contact and the
    address's sealed lines empty: saved with its address changed, it would write those
    over the customer's. The save is refused and nothing is written. (Without the guard
    the customer's name and street were stored empty.)"""
    build_world(potok, {("MSK", "MUG"): 10})
    order_id = _placed(potok, "Иван Петров", "+79990000001")
    before = _sealed(potok, order_id)

    def move(uow: UnitOfWork) -> None:
        (order,) = uow.orders.get_many([order_id], lock=True, reservations=False, personal=False)
        assert order.contact.name == ""  # unopened
        address = order.delivery.address
        assert address is not None
        order.change_delivery(replace(order.delivery, address=replace(address, city="Клин")))
        order.set_priority(3, order.updated_at, "user:tester", "moved")
        uow.orders.save(order)

    with pytest.raises(PersonalDataNotRead):
        atomically(potok.uow(), move)

    assert _sealed(potok, order_id) == before
    kept = orders.get_order(potok.uow(), order_id).order
    assert kept.contact.name == "Иван Петров"
    assert kept.delivery.address is not None
    assert (kept.delivery.address.city, kept.delivery.address.line1) == (
        "Тверь",
        "ул. Советская, 1",
    )
    assert kept.priority != 3


def test_the_rules_window_reads_the_events_without_their_payloads(potok: Potok) -> None:
    """The rules read the order, not the event's payload: their window's read of the
    outbox leaves the payload column out, and the events come as they are otherwise."""
    build_world(potok, {("MSK", "MUG"): 10})
    seen = rules.add_rule(
        potok.uow(),
        RuleDraft("Seen", "order.created", "true", [{"do": "add_tag", "tag": "seen"}]),
        TESTER,
    )
    _rules_round(potok)
    asked: list[str] = []

    def look(_c: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "FROM outbox_events" in statement and "ORDER BY outbox_events.position" in statement:
            asked.append(statement.split(" FROM ", 1)[0])

    sa.event.listen(potok.engine, "before_cursor_execute", look)
    try:
        order_id = place(potok, [("MUG", 1)])
        _rules_round(potok)
    finally:
        sa.event.remove(potok.engine, "before_cursor_execute", look)

    assert asked
    assert all("outbox_events.event_id" in columns for columns in asked)
    assert not any("payload" in columns for columns in asked)
    assert [f.rule_id for f in rules.order_firings(potok.uow(), order_id)] == [seen.id]
    whole, bare = reading(
        potok.uow(),
        lambda uow: (
            uow.event_log.after(0, 1000, types=["order.created"]),
            uow.event_log.after(0, 1000, types=["order.created"], payloads=False),
        ),
    )
    assert [replace(e, payload={}) for e in whole.events] == bare.events
    assert whole.through == bare.through
    assert all(e.payload for e in whole.events)


def test_the_window_passes_its_ids_as_arrays_the_server_parses_once(
    potok: Potok, backend: str
) -> None:
    """On PostgreSQL the window's orders, their lines, holds, context and firings are read
    with the ids as one array parameter that reaches the server untyped and is taken as
    the array itself. Typed as text (``CAST(%(ids)s::VARCHAR AS BIGINT[])``, as it was)
    the server converts it for every row a scan looks at - the statement's CPU growing with
    the table (``db/arrays.py``). SQLite takes them as an expanding IN."""
    build_world(potok, {("MSK", "MUG"): 10})
    rules.add_rule(
        potok.uow(),
        RuleDraft(
            "Seen", "order.created", '"seen" in tags or true', [{"do": "add_tag", "tag": "s"}]
        ),
        TESTER,
    )
    _, position = _window(potok, 0)
    placed = [place(potok, [("MUG", 1)]) for _ in range(3)]
    events, _ = _window(potok, position)
    sent: list[str] = []

    def look(_c: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(" ".join(statement.split()))

    sa.event.listen(potok.engine, "before_cursor_execute", look)
    try:
        apply_automation_rules(Outside(potok.uow, potok.carriers), events)
    finally:
        sa.event.remove(potok.engine, "before_cursor_execute", look)

    by_id = [s for s in sent if s.startswith("SELECT") and (" IN (" in s or "ANY (" in s)]
    tables = {s.split(" FROM ", 1)[1].split()[0] for s in by_id}
    assert {"orders", "order_lines", "order_holds", "automation_firings"} <= tables
    if backend == "postgresql":
        assert all("ANY (CAST(%(" in s for s in by_id if "orders.id = ANY" in s)
        assert not [s for s in by_id if "::VARCHAR AS BIGINT[]" in s or "::VARCHAR AS TEXT[]" in s]
    else:
        assert not [s for s in by_id if "ANY (" in s]
    assert all(
        "s" in reading(potok.uow(), lambda uow, i=i: uow.automation.contexts([i]))[i].tags
        for i in placed
    )
