"""Customers' personal data at rest: sealed in every table, found by keyed hashes, exported,
anonymised, and sealed afresh when a key is rotated in - on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from typer.testing import CliRunner

from potok.bootstrap import Potok, bootstrap
from potok.cli.main import app
from potok.db.tables import idempotency_keys
from potok.domain.customers import CustomerNotFound
from potok.domain.orders import Address, DeliveryMethod, HoldType
from potok.domain.orders.commands import DeliveryRequest, PlaceHold, PlaceOrder
from potok.security.data import DataKeyError
from potok.services import customers, intake
from potok.services import orders as order_service
from potok.services.order_edits import EditOrder, edit_order
from potok.services.read_models import OrderFilter
from potok.settings import DatabaseSettings, SecuritySettings, Settings, get_settings
from tests.conftest import TEST_INDEX_KEY
from tests.factories import TESTER, TVER, build_world, order_command

ANNA = {
    "customer_name": "Анна Смирнова",
    "customer_phone": "+7 916 123-45-67",
    "customer_email": "Anna@Example.ru",
}
ADDRESS = Address(
    "Тверь",
    "ул. Советская, 1",
    line2="кв. 17",
    postal_code="170100",
    latitude=TVER[0],
    longitude=TVER[1],
)
PLAINTEXT = ("Анна", "Смирнова", "79161234567", "anna@example.ru", "Советская", "кв. 17", "170100")
K1 = "k1:" + base64.b64encode(b"1" * 32).decode()
K2 = "k2:" + base64.b64encode(b"2" * 32).decode()


def anna_order(**extra: Any) -> PlaceOrder:
    command = order_command([("KET", 1)], **{**ANNA, **extra})
    return replace(command, delivery=DeliveryRequest(DeliveryMethod.COURIER, address=ADDRESS))


def place(potok: Potok, command: PlaceOrder) -> int:
    placed = intake.place_order(potok.uow(), command, TESTER)
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    return placed.order.id


def rows(potok: Potok, sql: str) -> list[dict[str, Any]]:
    with potok.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(sa.text(sql))]


def raw_text(potok: Potok, *tables: str) -> str:
    """Every value of these tables as one string, as the database holds them."""
    return " ".join(str(row) for table in tables for row in rows(potok, f"SELECT * FROM {table}"))


def with_keys(potok: Potok, data_keys: str) -> Potok:
    """Another Potok on the same database, with other data keys (the same index key)."""
    return bootstrap(
        Settings(
            db=potok.settings.db,
            security=SecuritySettings(
                data_keys=SecretStr(data_keys),
                index_key=SecretStr(TEST_INDEX_KEY),
                cookie_secure=False,
            ),
        )
    )


@pytest.fixture
def world(potok: Potok) -> Potok:
    build_world(potok, {("MSK", "KET"): 20})
    return potok


# ---------------------------------------------------------------------- at rest


def test_the_tables_hold_no_plaintext_yet_the_order_reads_back_whole(world: Potok) -> None:
    order_id = place(world, anna_order())

    stored = rows(world, f"SELECT * FROM orders WHERE id = {order_id}")[0]
    for column in ("customer_name", "customer_phone", "customer_email"):
        assert stored[column].startswith("pd1:t1:"), column
    for column in ("address_line1", "address_line2", "address_postal_code"):
        assert stored[column].startswith("pd1:t1:"), column
    assert all(stored[f"customer_{c}_hash"] for c in ("name", "phone", "email"))
    assert not any(
        text in raw_text(world, "orders", "customers", "order_history") for text in PLAINTEXT
    )
    order = order_service.get_order(world.uow(), order_id).order
    assert (order.contact.name, order.contact.phone, order.contact.email) == (
        "Анна Смирнова",
        "+79161234567",
        "anna@example.ru",
    )
    assert order.delivery.address is not None
    address = order.delivery.address
    assert (address.line1, address.line2, address.postal_code) == (
        "ул. Советская, 1",
        "кв. 17",
        "170100",
    )


def test_a_change_that_leaves_the_contact_alone_keeps_its_sealed_columns_as_they_were(
    world: Potok,
) -> None:
    """Saving an order writes back the contact's sealed columns as they were loaded (no
    sealing afresh on every change); a new address is sealed anew and reads back."""
    order_id = place(world, anna_order())
    sealed = ("customer_name", "customer_phone", "customer_email", "address_line1")
    query = f"SELECT {', '.join(sealed)}, version FROM orders WHERE id = {order_id}"
    before = rows(world, query)[0]

    order_service.place_hold(
        world.uow(), PlaceHold(order_id, HoldType.MANUAL, "call the buyer"), TESTER
    )
    held = rows(world, query)[0]
    assert held["version"] == before["version"] + 1
    assert {c: held[c] for c in sealed} == {c: before[c] for c in sealed}

    moved = replace(ADDRESS, line1="ул. Трёхсвятская, 5")
    edit_order(
        world.uow(),
        EditOrder(
            order_id,
            held["version"],
            delivery=DeliveryRequest(DeliveryMethod.COURIER, address=moved),
        ),
        TESTER,
    )
    edited = rows(world, query)[0]
    assert edited["address_line1"] != before["address_line1"]
    assert edited["address_line1"].startswith("pd1:")
    assert "Трёхсвятская" not in raw_text(world, "orders")
    order = order_service.get_order(world.uow(), order_id).order
    assert order.delivery.address is not None
    assert order.delivery.address.line1 == "ул. Трёхсвятская, 5"
    assert order.contact.phone == "+79161234567"


def test_the_stored_answer_to_an_idempotent_request_is_sealed_and_replays_whole(
    world: Potok,
) -> None:
    rendered = {"customer": {"name": "Анна Смирнова", "phone": "+79161234567"}}
    command = replace(anna_order(), idempotency_key="k-1", request_hash="h")
    first = intake.place_order(world.uow(), command, TESTER, respond=lambda p: (201, rendered))
    replay = intake.place_order(world.uow(), command, TESTER, respond=lambda p: (201, {}))

    assert isinstance(first, intake.Placement)
    assert isinstance(replay, intake.Replay)
    assert replay.body == rendered
    assert "Смирнова" not in raw_text(world, "idempotency_keys")


def test_a_repeat_customer_is_found_by_phone_in_any_format_and_kept_once(world: Potok) -> None:
    first = place(world, anna_order())
    second = place(world, anna_order(customer_phone="8 (916) 123 45 67", customer_email=None))
    third = place(world, anna_order(customer_phone=None, customer_email="ANNA@example.ru"))
    boris = place(
        world,
        anna_order(customer_name="Борис", customer_phone="+79035550011", customer_email=None),
    )
    # Boris's phone with Anna's (family) e-mail: the phone's owner wins
    shared = place(world, anna_order(customer_name="Борис", customer_phone="+79035550011"))

    ids = {
        order_id: order_service.get_order(world.uow(), order_id).order.customer_id
        for order_id in (first, second, third, boris, shared)
    }
    assert ids[first] == ids[second] == ids[third]
    assert ids[boris] == ids[shared] != ids[first]
    assert len(rows(world, "SELECT id FROM customers")) == 2


def test_orders_are_searched_by_phone_e_mail_and_full_name_through_their_hashes(
    world: Potok,
) -> None:
    anna = place(world, anna_order())
    place(
        world,
        anna_order(
            customer_name="Борис Петров",
            customer_phone="+79035550011",
            customer_email="boris@example.ru",
        ),
    )

    def found(text: str) -> list[int]:
        page = order_service.list_orders(world.uow(), OrderFilter(text=text))
        return [item.id for item in page.items]

    assert found("89161234567") == [anna]
    assert found("ANNA@example.ru") == [anna]
    assert found("анна  СМИРНОВА") == [anna]
    assert found("Смирнова") == []
    summary = order_service.list_orders(world.uow(), OrderFilter(text="+79161234567")).items[0]
    assert (summary.customer_name, summary.customer_phone, summary.customer_email) == (
        "Анна Смирнова",
        "+79161234567",
        "anna@example.ru",
    )


# ---------------------------------------------------------------------- export, anonymisation


def test_an_export_holds_the_customer_and_every_order_with_its_data(world: Potok) -> None:
    first = place(world, anna_order())
    second = place(world, anna_order(customer_name="Анна С."))
    customer_id = order_service.get_order(world.uow(), first).order.customer_id
    assert customer_id is not None

    export = customers.export_customer(world.uow(), customer_id)

    assert (export.customer.name, export.customer.phone, export.customer.email) == (
        "Анна Смирнова",
        "+79161234567",
        "anna@example.ru",
    )
    assert [o.id for o in export.orders] == [first, second]
    assert [o.customer_name for o in export.orders] == ["Анна Смирнова", "Анна С."]
    assert export.orders[0].address_line2 == "кв. 17"
    assert export.orders[0].address_postal_code == "170100"
    audit = rows(world, "SELECT action, entity_id FROM audit_log WHERE entity_type = 'customer'")
    assert audit == [{"action": "customer.exported", "entity_id": str(customer_id)}]


def test_anonymisation_removes_the_data_everywhere_and_keeps_the_orders(world: Potok) -> None:
    first = place(world, anna_order())
    second = place(world, anna_order())
    before = order_service.get_order(world.uow(), first).order
    assert before.customer_id is not None

    done = customers.anonymise_customer(world.uow(), before.customer_id)

    assert done.order_ids == [first, second]
    customer = rows(world, "SELECT * FROM customers")[0]
    assert (customer["name"], customer["phone"], customer["email"]) == ("", None, None)
    assert (customer["phone_hash"], customer["email_hash"]) == (None, None)
    assert customer["anonymised_at"] is not None
    for stored in rows(world, "SELECT * FROM orders ORDER BY id"):
        assert stored["customer_name"] == ""
        for column in (
            "customer_phone",
            "customer_email",
            "customer_name_hash",
            "customer_phone_hash",
            "customer_email_hash",
            "address_line1",
            "address_line2",
            "address_postal_code",
        ):
            assert stored[column] is None, column
        assert stored["version"] == before.version + 1
    assert len(rows(world, "SELECT * FROM order_lines")) == 2
    after = order_service.get_order(world.uow(), first).order
    assert (after.contact.name, after.contact.phone, after.contact.email) == ("", None, None)
    assert (after.total, len(after.lines), after.status) == (
        before.total,
        len(before.lines),
        before.status,
    )
    events = rows(world, "SELECT type, payload FROM outbox_events WHERE type LIKE 'customer.%'")
    assert [e["type"] for e in events] == ["customer.anonymised"]
    assert not any(text in str(events) for text in PLAINTEXT)
    # the phone finds nobody now: the next order starts a new customer
    third = place(world, anna_order())
    assert order_service.get_order(world.uow(), third).order.customer_id != before.customer_id
    assert (
        order_service.list_orders(world.uow(), OrderFilter(text="89161234567")).items[0].id == third
    )


def test_an_unknown_customer_is_not_found(world: Potok) -> None:
    with pytest.raises(CustomerNotFound):
        customers.get_customer(world.uow(), 999)
    with pytest.raises(CustomerNotFound):
        customers.anonymise_customer(world.uow(), 999)


# ---------------------------------------------------------------------- rotation

runner = CliRunner()


@pytest.fixture
def _settings_restored() -> Iterator[None]:
    """``--db`` and the keys of a command reach the cached settings: forget them after."""
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def sealed_values(potok: Potok) -> list[str]:
    columns = {
        "customers": ("name", "phone", "email"),
        "orders": (
            "customer_name",
            "customer_phone",
            "customer_email",
            "address_line1",
            "address_line2",
            "address_postal_code",
        ),
    }
    found = [
        row[column]
        for table, names in columns.items()
        for row in rows(potok, f"SELECT {', '.join(names)} FROM {table}")
        for column in names
        if row[column]
    ]
    with potok.engine.connect() as connection:
        found.extend(connection.execute(sa.select(idempotency_keys.c.response)).scalars())
    return found


@pytest.mark.usefixtures("_settings_restored")
def test_rotation_seals_everything_under_the_new_key_and_it_stays_readable(
    potok: Potok,
) -> None:
    old = with_keys(potok, K1)
    try:
        build_world(old, {("MSK", "KET"): 20})
        first = place(old, anna_order())
        intake.place_order(
            old.uow(),
            replace(anna_order(), idempotency_key="k-2", request_hash="h"),
            TESTER,
            respond=lambda p: (201, {"name": "Анна Смирнова"}),
        )
        legacy = place(
            old,
            anna_order(
                customer_name="Вера Old",
                customer_phone="+79260001122",
                customer_email="vera@example.ru",
            ),
        )
    finally:
        old.close()
    with potok.engine.begin() as connection:  # as written before encryption was on
        connection.execute(
            sa.text(
                "UPDATE orders SET customer_name = 'Вера Old', customer_phone = '+79260001122', "
                "customer_email = NULL, customer_name_hash = NULL, customer_phone_hash = NULL, "
                f"address_line1 = 'ул. Старая, 2' WHERE id = {legacy}"
            )
        )
        connection.execute(
            sa.text(
                "UPDATE customers SET name = 'Вера Old', phone = '+79260001122', "
                "phone_hash = NULL, email = NULL, email_hash = NULL "
                "WHERE id = (SELECT customer_id FROM orders WHERE id = :legacy)"
            ),
            {"legacy": legacy},
        )
    values = sealed_values(potok)
    assert any(v.startswith("pd1:k1:") for v in values)
    assert "Вера Old" in values

    result = runner.invoke(
        app,
        ["--db", potok.settings.db.url, "security", "rotate"],
        env={"POTOK_SECURITY__DATA_KEYS": f"{K2},{K1}", "COLUMNS": "200"},
    )

    assert result.exit_code == 0, result.output
    assert "values re-encrypted under key 'k2'" in result.output
    values = sealed_values(potok)
    assert values
    assert all(v.startswith("pd1:k2:") for v in values), values
    new = with_keys(potok, K2)  # the old key is no longer needed
    try:
        order = order_service.get_order(new.uow(), first).order
        assert (order.contact.name, order.contact.phone) == ("Анна Смирнова", "+79161234567")
        old_order = order_service.get_order(new.uow(), legacy).order
        assert old_order.contact.name == "Вера Old"
        assert old_order.delivery.address is not None
        assert old_order.delivery.address.line1 == "ул. Старая, 2"
        # the hashes of the plaintext rows were computed: they are found again
        found = order_service.list_orders(new.uow(), OrderFilter(text="вера old")).items
        assert [o.id for o in found] == [legacy]
        again = place(
            new,
            anna_order(customer_name="Вера", customer_phone="+79260001122", customer_email=None),
        )
        assert order_service.get_order(new.uow(), again).order.customer_id == old_order.customer_id
        replay = intake.place_order(
            new.uow(),
            replace(anna_order(), idempotency_key="k-2", request_hash="h"),
            TESTER,
            respond=lambda p: (201, {}),
        )
        assert isinstance(replay, intake.Replay)
        assert replay.body == {"name": "Анна Смирнова"}
    finally:
        new.close()

    second = runner.invoke(
        app,
        ["--db", potok.settings.db.url, "security", "rotate"],
        env={"POTOK_SECURITY__DATA_KEYS": f"{K2},{K1}", "COLUMNS": "200"},
    )
    assert second.exit_code == 0, second.output
    assert "0 values re-encrypted" in second.output


@pytest.mark.usefixtures("_settings_restored")
def test_rotation_without_the_old_key_stops_and_says_which_key_is_missing(
    potok: Potok,
) -> None:
    old = with_keys(potok, K1)
    try:
        build_world(old, {("MSK", "KET"): 5})
        place(old, anna_order())
    finally:
        old.close()

    result = runner.invoke(
        app,
        ["--db", potok.settings.db.url, "security", "rotate"],
        env={"POTOK_SECURITY__DATA_KEYS": K2, "COLUMNS": "200"},
    )

    assert result.exit_code == 2, result.output
    assert "'k1'" in result.stderr
    assert all(v.startswith("pd1:k1:") for v in sealed_values(potok))


def test_a_new_key_is_printed_in_the_settings_format() -> None:
    result = runner.invoke(app, ["security", "new-key", "k7"])

    assert result.exit_code == 0, result.output
    key_id, _, encoded = result.output.strip().partition(":")
    assert key_id == "k7"
    assert len(base64.b64decode(encoded)) == 32
    assert runner.invoke(app, ["security", "new-key", "bad id"]).exit_code == 3


# ---------------------------------------------------------------------- no second key


def test_a_process_without_keys_refuses_a_database_with_sealed_data(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    """Started where the key file is not (another working directory), a process would
    generate a key and seal new data under it; with sealed data present it refuses to start
    and keeps no new key file."""
    build_world(potok, {("MSK", "KET"): 1})
    place(potok, anna_order())
    stray = tmp_path / "elsewhere" / "potok-keys.json"
    stray.parent.mkdir()
    settings = Settings(
        db=DatabaseSettings(url=database_url),
        security=SecuritySettings(key_file=str(stray), cookie_secure=False),
    )

    with pytest.raises(DataKeyError, match="already holds personal data sealed"):
        bootstrap(settings)
    assert not stray.exists()


def test_a_database_without_sealed_data_gets_a_generated_key_file(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)  # a fresh sandbox: no customer yet
    key_file = tmp_path / "potok-keys.json"
    settings = Settings(
        db=DatabaseSettings(url=database_url),
        security=SecuritySettings(key_file=str(key_file), cookie_secure=False),
    )

    fresh = bootstrap(settings)
    fresh.close()

    assert key_file.exists()
