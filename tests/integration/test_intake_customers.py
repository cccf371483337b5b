"""A customer is written with the order that brings them, and never without it.

On PostgreSQL intake's one read writes nothing: it finds the customer by the phone's or
the e-mail's keyed hash, or draws a fresh id for a new one, and the new customer's row is
written by the commit's statement together with the order. So a refused order leaves no
customer behind, and the same new customer sent by many orders at once is one customer:
all but one commit fail on the unique hashes, as duplicates, and are run again, finding
the winner's record.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.errors import InvalidInput
from potok.domain.orders.errors import NetworkCannotCover
from potok.services import intake
from tests.factories import TESTER, build_world, order_command
from tests.racing import RACE_LIMIT, race

RACERS = 16


def rows(potok: Potok, sql: str) -> list[dict[str, Any]]:
    with potok.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(sa.text(sql))]


@RACE_LIMIT
@pytest.mark.slow
def test_one_new_customer_in_many_orders_at_once_is_one_customer(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 100})
    commands = [
        order_command(
            [("KET", 1)],
            external_id=f"same-customer-{n}",
            customer_name="Ольга Новикова",
            customer_phone="+7 903 555-01-02",
        )
        for n in range(RACERS)
    ]
    placed = race([lambda c=c: intake.place_order(potok.uow(), c, TESTER) for c in commands])

    customers = rows(potok, "SELECT id FROM customers")
    assert len(customers) == 1
    stored = rows(potok, "SELECT DISTINCT customer_id FROM orders")
    assert stored == [{"customer_id": customers[0]["id"]}]
    assert all(
        isinstance(p, intake.Placement) and p.order.customer_id == customers[0]["id"]
        for p in placed
    )
    assert len(rows(potok, "SELECT id FROM orders")) == RACERS


def test_a_refused_order_leaves_no_customer(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    with pytest.raises(NetworkCannotCover):  # the channel refuses what it cannot cover
        intake.place_order(
            potok.uow(),
            order_command([("KET", 2)], channel="mp", customer_phone="+7 903 555-01-03"),
            TESTER,
        )
    with pytest.raises(InvalidInput):  # a line names no product
        intake.place_order(
            potok.uow(),
            order_command([("NOPE", 1)], customer_email="nobody@example.ru"),
            TESTER,
        )
    assert rows(potok, "SELECT id FROM customers") == []


def test_a_known_customer_is_found_not_added_again(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    first = intake.place_order(
        potok.uow(),
        order_command([("KET", 1)], customer_phone="+7 903 555-01-04", external_id="a"),
        TESTER,
    )
    second = intake.place_order(  # the same phone, written another way, and an e-mail
        potok.uow(),
        order_command(
            [("KET", 1)],
            customer_phone="8 (903) 555-01-04",
            customer_email="new@example.ru",
            external_id="b",
        ),
        TESTER,
    )
    assert isinstance(first, intake.Placement)
    assert isinstance(second, intake.Placement)
    assert first.order.customer_id is not None
    assert second.order.customer_id == first.order.customer_id
    assert len(rows(potok, "SELECT id FROM customers")) == 1
