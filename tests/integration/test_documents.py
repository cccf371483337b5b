"""Documents of orders through the services, on SQLite and PostgreSQL: issue, read again
byte for byte, correct, refuse what cannot be printed, and keep what was issued."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.documents import (
    DocumentKind,
    EntityRole,
    FileFormat,
    LegalEntityDraft,
    UpdStatus,
)
from potok.domain.errors import PotokError
from potok.domain.orders import OrderNotFound
from potok.domain.orders.commands import CancelOrder
from potok.services import documents, intake, legal_entities, orders
from tests.documents_support import BUYER, SELLER, fns_schema, pdf_text, xsd_errors
from tests.factories import TESTER, build_world, order_command


def place(potok: Potok, lines: list[tuple[str, int]] | None = None, **extra: object) -> int:
    command = order_command(
        lines or [("KET", 2), ("MUG", 3)], customer_name="Анна Смирнова", **extra
    )
    placed = intake.place_order(potok.uow(), command, TESTER)
    assert placed.order.id is not None
    return placed.order.id


@pytest.fixture
def world(potok: Potok) -> Potok:
    build_world(potok, {("MSK", "KET"): 50, ("MSK", "MUG"): 50, ("MSK", "TOY"): 50})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    legal_entities.create_legal_entity(potok.uow(), BUYER)
    return potok


def test_an_order_gets_its_documents_and_the_same_bytes_again(world: Potok) -> None:
    order_id = place(world)
    documents.set_order_buyer(world.uow(), order_id, "yandex", TESTER)
    invoice = documents.issue_document(world.uow(), order_id, DocumentKind.INVOICE, TESTER)
    torg12 = documents.issue_document(world.uow(), order_id, DocumentKind.TORG12, TESTER)
    upd = documents.issue_document(world.uow(), order_id, DocumentKind.UPD, TESTER)
    assert invoice.created
    assert torg12.created
    assert upd.created
    assert [d.document.number for d in (invoice, torg12, upd)] == [1, 1, 1]  # a series each
    assert upd.document.upd_status is UpdStatus.INVOICE_AND_TRANSFER
    # KET 2 × 2490 + MUG 3 × 390 = 6 150,00
    assert str(invoice.document.total) == "6150.00"
    first = documents.document_file(world.uow(), upd.document.id, FileFormat.PDF)
    again = documents.issue_document(world.uow(), order_id, DocumentKind.UPD, TESTER)
    assert not again.created
    assert again.document.id == upd.document.id
    second = documents.document_file(world.uow(), upd.document.id, FileFormat.PDF)
    assert second.content == first.content
    assert second.sha256 == first.sha256
    text = " ".join(pdf_text(first.content).split())
    assert "Счет-фактура № 1 от" in text
    assert "ИНН/КПП покупателя: 7736207543/770401001 (6б)" in text
    # VAT inside: KET 4 980,00 × 22/122 = 898,03; MUG 1 170,00 × 22/122 = 210,98
    assert "Всего к оплате (9) 5 040,99 X 1 109,01 6 150,00" in text


def test_numbers_run_on_per_seller_kind_and_year(world: Potok) -> None:
    numbers = [
        documents.issue_document(
            world.uow(), place(world), DocumentKind.INVOICE, TESTER
        ).document.number
        for _ in range(3)
    ]
    assert numbers == [1, 2, 3]


def test_a_correction_is_a_new_document_naming_the_old_one(world: Potok) -> None:
    order_id = place(world)
    documents.set_order_buyer(world.uow(), order_id, "yandex", TESTER)
    upd = documents.issue_document(world.uow(), order_id, DocumentKind.UPD, TESTER).document
    torg12 = documents.issue_document(world.uow(), order_id, DocumentKind.TORG12, TESTER).document
    original_pdf = documents.document_file(world.uow(), upd.id, FileFormat.PDF).content
    fixed_buyer = replace(BUYER, address="119021, г. Москва, ул. Льва Толстого, д. 16, стр. 2")
    legal_entities.replace_legal_entity(world.uow(), "yandex", fixed_buyer)

    upd_fix = documents.correct_document(world.uow(), upd.id, TESTER)
    assert (upd_fix.number, upd_fix.correction_no, upd_fix.corrects_id) == (upd.number, 1, upd.id)
    torg12_fix = documents.correct_document(world.uow(), torg12.id, TESTER)
    assert (torg12_fix.number, torg12_fix.corrects_id) == (2, torg12.id)  # the next number

    fixed_text = " ".join(
        pdf_text(documents.document_file(world.uow(), upd_fix.id, FileFormat.PDF).content).split()
    )
    assert "Исправление № 1 от" in fixed_text
    assert "д. 16, стр. 2" in fixed_text
    torg_text = " ".join(
        pdf_text(
            documents.document_file(world.uow(), torg12_fix.id, FileFormat.PDF).content
        ).split()
    )
    assert f"взамен № {torg12.number} от" in torg_text
    # the original stays exactly as issued, and the order's current УПД is the correction
    assert documents.document_file(world.uow(), upd.id, FileFormat.PDF).content == original_pdf
    assert documents.get_document(world.uow(), upd.id).corrected_by == upd_fix.id
    current = documents.issue_document(world.uow(), order_id, DocumentKind.UPD, TESTER)
    assert not current.created
    assert current.document.id == upd_fix.id
    with pytest.raises(PotokError) as caught:
        documents.correct_document(world.uow(), upd.id, TESTER)
    assert caught.value.code == "correction-exists"


def test_documents_are_immutable_in_the_database(world: Potok) -> None:
    order_id = place(world)
    document = documents.issue_document(
        world.uow(), order_id, DocumentKind.INVOICE, TESTER
    ).document
    for statement in (
        f"UPDATE documents SET number = 99 WHERE id = {document.id}",
        f"DELETE FROM document_files WHERE document_id = {document.id}",
        f"DELETE FROM documents WHERE id = {document.id}",
    ):
        with (
            pytest.raises(sa.exc.DBAPIError, match="immutable"),
            world.engine.begin() as connection,
        ):
            connection.execute(sa.text(statement))
    assert documents.get_document(world.uow(), document.id).number == document.number


def test_refused_without_a_seller_naming_what_to_fill_in(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    order_id = place(potok, [("KET", 1)])
    with pytest.raises(PotokError) as caught:
        documents.issue_document(potok.uow(), order_id, DocumentKind.INVOICE, TESTER)
    assert caught.value.code == "seller-missing"
    assert "'web'" in caught.value.detail
    assert "is_default" in caught.value.detail


def test_a_channel_bound_seller_wins_over_the_default(world: Potok) -> None:
    other = replace(
        SELLER, code="potok-mp", inn="7736207543", kpp="773601001", ogrn=None,
        is_default=False, channels=("web",),
    )  # fmt: skip
    legal_entities.create_legal_entity(world.uow(), other)
    document = documents.issue_document(
        world.uow(), place(world), DocumentKind.INVOICE, TESTER
    ).document
    assert document.seller_code == "potok-mp"
    assert document.subject.seller.inn == "7736207543"


def test_refused_for_a_b2b_buyer_without_inn(world: Potok) -> None:
    legal_entities.create_legal_entity(
        world.uow(), LegalEntityDraft(code="newco", role=EntityRole.BUYER, name="ООО «Новая»")
    )
    order_id = place(world)
    documents.set_order_buyer(world.uow(), order_id, "newco", TESTER)
    for kind in DocumentKind:
        with pytest.raises(PotokError) as caught:
            documents.issue_document(world.uow(), order_id, kind, TESTER)
        assert caught.value.code == "requisites-missing"
        wanted = ["legal entity 'newco': its ИНН (inn)"]
        if kind is DocumentKind.UPD:  # a счёт-фактура names the buyer's address too
            wanted.append("legal entity 'newco': its address (address)")
        assert caught.value.context["missing"] == wanted
    assert documents.list_documents(world.uow(), order_id=order_id).items == []


def test_refused_for_a_cancelled_order(world: Potok) -> None:
    order_id = place(world)
    orders.cancel_order(world.uow(), CancelOrder(order_id, "customer changed their mind"), TESTER)
    with pytest.raises(PotokError) as caught:
        documents.issue_document(world.uow(), order_id, DocumentKind.INVOICE, TESTER)
    assert caught.value.code == "order-cancelled"


def test_unknown_order_is_not_found(world: Potok) -> None:
    with pytest.raises(OrderNotFound):
        documents.issue_document(world.uow(), 424242, DocumentKind.INVOICE, TESTER)


def test_upd_xml_is_made_once_valid_and_kept(world: Potok) -> None:
    schema = fns_schema()
    order_id = place(world)
    documents.set_order_buyer(world.uow(), order_id, "yandex", TESTER)
    upd = documents.issue_document(world.uow(), order_id, DocumentKind.UPD, TESTER).document
    xml = documents.document_file(world.uow(), upd.id, FileFormat.XML)
    assert xsd_errors(schema, xml.content) == []
    assert xml.name.startswith("ON_NSCHFDOPPR_2BE-7736207543_2BM-7707083893-773601001_")
    assert documents.document_file(world.uow(), upd.id, FileFormat.XML).content == xml.content
    invoice = documents.issue_document(world.uow(), order_id, DocumentKind.INVOICE, TESTER).document
    with pytest.raises(PotokError) as caught:
        documents.document_file(world.uow(), invoice.id, FileFormat.XML)
    assert caught.value.code == "format-not-available"


def test_upd_xml_of_a_private_customer_is_refused_saying_why(world: Potok) -> None:
    upd = documents.issue_document(world.uow(), place(world), DocumentKind.UPD, TESTER).document
    assert upd.subject.buyer.name == "Анна Смирнова"
    with pytest.raises(PotokError) as caught:
        documents.document_file(world.uow(), upd.id, FileFormat.XML)
    assert caught.value.code == "requisites-missing"
    assert "private person" in caught.value.detail


def test_a_private_customers_document_is_sealed_at_rest(world: Potok) -> None:
    document = documents.issue_document(
        world.uow(), place(world), DocumentKind.INVOICE, TESTER
    ).document
    with world.engine.connect() as connection:
        (subject,) = connection.execute(
            sa.select(sa.text("subject")).select_from(sa.text("documents"))
        ).one()
        (content,) = connection.execute(sa.text("SELECT content FROM document_files")).one()
    assert "Смирнова" not in str(subject)
    assert not bytes(content).startswith(b"%PDF")
    pdf = documents.document_file(world.uow(), document.id, FileFormat.PDF).content
    assert pdf.startswith(b"%PDF")
    assert "Анна Смирнова" in pdf_text(pdf)


def test_the_buyer_is_set_with_history_and_an_event(world: Potok) -> None:
    order_id = place(world)
    view = documents.set_order_buyer(world.uow(), order_id, "yandex", TESTER, expected_version=None)
    assert view.history[-1].action == "buyer_set"
    assert view.history[-1].details == {"buyer": "yandex", "previous": None}
    with pytest.raises(PotokError) as caught:
        documents.set_order_buyer(world.uow(), order_id, None, TESTER, expected_version=1)
    assert caught.value.code == "stale-version"
    with pytest.raises(PotokError) as caught:
        documents.set_order_buyer(world.uow(), order_id, "potok", TESTER)  # a seller, not a buyer
    assert caught.value.code == "legal-entity-not-found"
    with world.engine.connect() as connection:
        types = connection.execute(sa.text("SELECT type FROM outbox_events")).scalars().all()
    assert "order.buyer_set" in types
    assert "legal_entity.created" in types
