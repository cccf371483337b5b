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
from tests.documents_support import first_page_image, fns_schema, pdf_text, xsd_errors
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


def test_every_document_of_a_shipped_demo_order_renders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    built = potok_cli(
        url, "demo", "--no-serve", "--orders", "60", "--seed", "3", "--history-days", "0"
    )
    assert built.exit_code == 0, built.output
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT b.order_id, s.id, w.number FROM order_buyers b "
                "JOIN legal_entities e ON e.id = b.legal_entity_id "
                "JOIN shipments s ON s.order_id = b.order_id "
                "JOIN waves w ON w.id = s.wave_id "
                "WHERE e.edo_id IS NOT NULL AND s.tracking_number IS NOT NULL "
                "AND s.status IN ('handed_over', 'in_transit', 'ready_for_pickup', 'delivered') "
                "ORDER BY b.order_id, s.id"
            )
        ).first()
    engine.dispose()
    assert found is not None, "the sandbox sells a shipped order to a buyer with an ЭДО id"
    order_id, shipment_id, wave = found
    order, shipment = str(order_id), str(shipment_id)
    for args, name in (
        (["invoice", order], "invoice.pdf"),
        (["torg12", order], "torg12.pdf"),
        (["upd", order], "upd.pdf"),
        (["upd", order], "upd.xml"),
        (["torg12", shipment, "--shipment"], "shipment-torg12.pdf"),
        (["upd", shipment, "--shipment"], "shipment-upd.pdf"),
        (["upd", shipment, "--shipment"], "shipment-upd.xml"),
        (["pick-list", shipment], "pick-list.pdf"),
        (["packing-slip", shipment], "packing-slip.pdf"),
        (["label", shipment], "label-100x150.pdf"),
        (["label", shipment, "--size", "58x60", "--parcel", "1"], "label-58x60.pdf"),
        (["wave-sheet", wave], "wave-sheet.pdf"),
    ):
        target = tmp_path / name
        rendered = potok_cli(url, "documents", "render", *args, "-o", str(target))
        assert rendered.exit_code == 0, (args, rendered.output)
        if name.endswith(".pdf"):
            first_page_image(target.read_bytes(), f"demo-{name.removesuffix('.pdf')}")
    for name in ("upd.pdf", "shipment-upd.pdf"):
        upd = " ".join(pdf_text((tmp_path / name).read_bytes()).split())
        assert "Покупатель: Общество с ограниченной ответственностью «Северный ветер» (6)" in upd
        assert "ИНН/КПП покупателя: 7812345675/781201001 (6б)" in upd
    for name in ("upd.xml", "shipment-upd.xml"):
        assert xsd_errors(fns_schema(), (tmp_path / name).read_bytes()) == []
    slip = " ".join(pdf_text((tmp_path / "packing-slip.pdf").read_bytes()).split())
    assert f"Упаковочный лист · отправление {order_id}-1" in slip
    assert "Отправитель: ООО «Поток Демо»" in slip
    label = " ".join(pdf_text((tmp_path / "label-58x60.pdf").read_bytes()).split())
    assert label.startswith("SANDBOX Место 1 из")
    sheet = " ".join(pdf_text((tmp_path / "wave-sheet.pdf").read_bytes()).split())
    assert f"Лист волны {wave}" in sheet
    assert f"заказ {order_id} ({order_id}-1," in sheet


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
    label = potok_cli(
        database_url, "documents", "render", "label", str(shipment.id), "--size", "58x60"
    )
    assert label.exit_code == 5
    assert "pack it first" in label.output
    typo = potok_cli(database_url, "documents", "render", "label", "W-1")
    assert typo.exit_code == 3
    assert "'W-1' is not an order number or a shipment id" in typo.output


def test_a_wave_sheet_from_the_command_line(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5})
    for lines in ([("KET", 1), ("MUG", 2)], [("MUG", 1)]):
        intake.place_order(potok.uow(), order_command(lines), TESTER)
    assert potok_cli(database_url, "picking", "wave", "-w", "MSK").exit_code == 0
    waves = potok_cli(database_url, "picking", "waves", "-o", "json")
    (wave,) = json.loads(waves.output)
    target = tmp_path / "wave.pdf"
    drawn = potok_cli(
        database_url, "documents", "render", "wave-sheet", wave["wave"], "-o", str(target)
    )
    assert drawn.exit_code == 0, drawn.output
    text = " ".join(pdf_text(target.read_bytes()).split())
    assert f"Лист волны {wave['wave']}" in text
    assert "1 без ячейки KET Kettle 1 1×1 2 без ячейки MUG Mug 3 1×2, 2×1" in text
    missing = potok_cli(database_url, "documents", "render", "wave-sheet", "W-999999")
    assert missing.exit_code == 4
