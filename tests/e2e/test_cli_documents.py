"""``potok legal-entities`` and ``potok documents`` through typer's CliRunner."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.services import intake
from potok.settings import get_settings
from tests.documents_support import fns_schema, pdf_text, xsd_errors
from tests.e2e.test_documents_api import BUYER, SELLER
from tests.factories import TESTER, build_world, order_command

runner = CliRunner()


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def potok_cli(url: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200", "USER": "clerk"})


def test_render_from_the_command_line_writes_the_same_file_twice(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    order = intake.place_order(potok.uow(), order_command([("KET", 2)]), TESTER).order
    for name, body in (("seller.json", SELLER), ("buyer.json", BUYER)):
        (tmp_path / name).write_text(json.dumps(body), encoding="utf-8")
        added = potok_cli(database_url, "legal-entities", "add", str(tmp_path / name))
        assert added.exit_code == 0, added.output
    listed = potok_cli(database_url, "legal-entities", "list", "--output", "json")
    assert [entity["code"] for entity in json.loads(listed.output)] == ["potok", "yandex"]
    sold = potok_cli(database_url, "documents", "buyer", str(order.id), "yandex")
    assert sold.exit_code == 0, sold.output

    first = tmp_path / "torg12.pdf"
    rendered = potok_cli(
        database_url, "documents", "render", "torg12", str(order.id), "-o", str(first)
    )
    assert rendered.exit_code == 0, rendered.output
    assert "issued" in rendered.output
    text = " ".join(pdf_text(first.read_bytes()).split())
    assert "Всего по накладной" in text
    assert "Четыре тысячи девятьсот восемьдесят рублей 00 копеек" in text
    second = tmp_path / "again.pdf"
    again = potok_cli(
        database_url, "documents", "render", "torg12", str(order.id), "-o", str(second)
    )
    assert "already issued" in again.output
    assert second.read_bytes() == first.read_bytes()

    xml = tmp_path / "upd.xml"
    made = potok_cli(database_url, "documents", "render", "upd", str(order.id), "-o", str(xml))
    assert made.exit_code == 0, made.output
    assert xsd_errors(fns_schema(), xml.read_bytes()) == []

    table = potok_cli(database_url, "documents", "list", "--output", "csv")
    assert table.output.splitlines()[0].startswith("id,kind,number")
    assert len(table.output.splitlines()) == 3  # header, torg12, upd


def test_bad_input_is_a_message_and_a_non_zero_exit(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    order = intake.place_order(potok.uow(), order_command([("KET", 1)]), TESTER).order
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**SELLER, "kpp": "77360100"}), encoding="utf-8")
    refused = potok_cli(database_url, "legal-entities", "add", str(wrong))
    assert refused.exit_code == 3
    assert "kpp" in refused.output
    no_seller = potok_cli(
        database_url, "documents", "render", "invoice", str(order.id), "-o", str(tmp_path / "x.pdf")
    )
    assert no_seller.exit_code == 3
    assert "has no seller" in no_seller.output
    assert not (tmp_path / "x.pdf").exists()
    missing = potok_cli(database_url, "documents", "render", "invoice", "999999")
    assert missing.exit_code == 4


def test_every_document_of_a_demo_b2b_order_renders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    built = potok_cli(url, "demo", "--no-serve", "--orders", "60", "--seed", "3")
    assert built.exit_code == 0, built.output
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        order_id = connection.execute(
            sa.text(
                "SELECT b.order_id FROM order_buyers b JOIN orders o ON o.id = b.order_id "
                "JOIN legal_entities e ON e.id = b.legal_entity_id "
                "WHERE o.state <> 'cancelled' AND e.edo_id IS NOT NULL ORDER BY b.order_id"
            )
        ).scalar()
    engine.dispose()
    assert order_id is not None, "the sandbox sells some orders to a buyer with an ЭДО id"
    for kind, name in (
        ("invoice", "invoice.pdf"),
        ("torg12", "torg12.pdf"),
        ("upd", "upd.pdf"),
        ("upd", "upd.xml"),
    ):
        target = tmp_path / name
        rendered = potok_cli(url, "documents", "render", kind, str(order_id), "-o", str(target))
        assert rendered.exit_code == 0, rendered.output
    upd = " ".join(pdf_text((tmp_path / "upd.pdf").read_bytes()).split())
    assert "Покупатель: Общество с ограниченной ответственностью «Северный ветер» (6)" in upd
    assert "ИНН/КПП покупателя: 7812345675/781201001 (6б)" in upd
    assert xsd_errors(fns_schema(), (tmp_path / "upd.xml").read_bytes()) == []


def test_a_shipments_papers_from_the_command_line(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    from potok.services.fulfilment import release

    build_world(potok, {("MSK", "KET"): 5})
    order = intake.place_order(potok.uow(), order_command([("KET", 2)]), TESTER).order
    assert order.id is not None
    (shipment,) = release.release_order(potok.uow(), order.id, "MSK", TESTER)
    target = tmp_path / "pick.pdf"
    drawn = potok_cli(
        database_url, "documents", "render", "pick-list", str(shipment.id), "-o", str(target)
    )
    assert drawn.exit_code == 0, drawn.output
    assert f"pick-list of shipment {shipment.id} written to" in drawn.output
    text = " ".join(pdf_text(target.read_bytes()).split())
    assert f"Лист подбора · отправление {order.id}-1" in text
    assert "1 без ячейки KET Kettle 2" in text

    early = potok_cli(
        database_url, "documents", "render", "packing-slip", str(shipment.id), "-o", "x.pdf"
    )
    assert early.exit_code == 5
    assert "pack it first" in early.output
    assert potok_cli(database_url, "documents", "render", "pick-list", "999999").exit_code == 4
