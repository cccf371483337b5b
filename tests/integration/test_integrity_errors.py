"""Whatever slips past the use cases' own checks, the database's integrity errors leave the
unit of work as typed conflicts naming the tables involved, on both databases alike."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import channels, products, storage_locations, warehouses
from potok.domain.errors import (
    DuplicateRow,
    IntegrityConflict,
    MissingReference,
    StillReferenced,
    ValueOutOfRange,
)
from potok.domain.kernel import Actor
from potok.services import sourcing
from tests.factories import build_world

TESTER = Actor.system("tests")


def test_deleting_a_row_others_refer_to_names_who_refers_to_it(potok: Potok) -> None:
    build_world(potok)
    sourcing.set_rules(potok.uow(), "web", {"max_shipments": 2}, TESTER)

    with pytest.raises(StillReferenced) as raised, potok.uow() as uow:
        uow.connection.execute(sa.delete(channels).where(channels.c.code == "web"))

    assert raised.value.context["table"] == "channels"
    assert "routing rules" in raised.value.context["holders"]


def test_a_row_that_refers_to_nothing_is_a_missing_reference(potok: Potok) -> None:
    build_world(potok)

    with pytest.raises(MissingReference) as raised, potok.uow() as uow:
        uow.connection.execute(
            sa.insert(storage_locations).values(
                warehouse_id=987654,
                code="A-01",
                zone="",
                pick_sequence=0,
                active=True,
                created_at=sa.func.now(),
                updated_at=sa.func.now(),
            )
        )

    assert raised.value.context["table"] == "storage_locations"


def test_a_second_row_with_the_same_unique_values_is_a_duplicate(potok: Potok) -> None:
    build_world(potok)

    with pytest.raises(DuplicateRow) as raised, potok.uow() as uow:
        uow.connection.execute(
            sa.update(warehouses).where(warehouses.c.code == "SPB").values(code="MSK")
        )

    assert raised.value.context["table"] == "warehouses"
    assert "code" in raised.value.context["columns"]


def test_a_row_breaking_a_check_names_the_check(potok: Potok) -> None:
    build_world(potok)

    with pytest.raises(IntegrityConflict) as raised, potok.uow() as uow:
        uow.connection.execute(sa.update(products).values(weight_g=-1))

    assert type(raised.value) is IntegrityConflict
    assert "weight_not_negative" in raised.value.context["constraint"]


def test_a_number_wider_than_its_column_is_out_of_range(potok: Potok) -> None:
    build_world(potok)

    with pytest.raises(ValueOutOfRange), potok.uow() as uow:
        uow.connection.execute(sa.update(channels).values(safety_buffer=2**63))
