"""Legal entities, the official УПД schema and PDF reading, for the documents' tests.

The requisites below are real, published ones (Sberbank's and Yandex's ИНН, КПП, ОГРН,
Sberbank's БИК and correspondent account), so every checksum in them is the genuine one.
The settlement account's key digit was worked out by hand for БИК 044525225.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pypdfium2 as pdfium
import xmlschema

from potok.domain.documents import (
    BankAccount,
    EntityKind,
    EntityRole,
    LegalEntityDraft,
    PersonName,
    Signatory,
    SignatoryRole,
)
from tests.environment import missing

XSD_NAME = "ON_NSCHFDOPPR_1_997_01_05_03_05.xsd"
REPOSITORY = Path(__file__).resolve().parents[1]

SBER = BankAccount(
    bank_name="ПАО Сбербанк",
    bik="044525225",
    correspondent_account="30101810400000000225",
    account="40702810883800000000",
)

SELLER = LegalEntityDraft(
    code="potok",
    role=EntityRole.SELLER,
    name="Общество с ограниченной ответственностью «Поток»",
    short_name="ООО «Поток»",
    inn="7707083893",
    kpp="773601001",
    ogrn="1027700132195",
    okpo="12345678",
    address="101000, г. Москва, ул. Мясницкая, д. 1",
    phone="+7 495 000-00-00",
    bank_accounts=(SBER,),
    signatories=(
        Signatory(
            SignatoryRole.HEAD, PersonName("Иванов", "Иван", "Иванович"), "Генеральный директор"
        ),
        Signatory(
            SignatoryRole.ACCOUNTANT,
            PersonName("Петрова", "Анна", "Сергеевна"),
            "Главный бухгалтер",
        ),
        Signatory(SignatoryRole.DISPATCHER, PersonName("Сидоров", "Пётр"), "Кладовщик"),
    ),
    edo_id="2BM-7707083893-773601001",
    is_default=True,
)

BUYER = LegalEntityDraft(
    code="yandex",
    role=EntityRole.BUYER,
    name="Общество с ограниченной ответственностью «Яндекс»",
    short_name="ООО «Яндекс»",
    inn="7736207543",
    kpp="770401001",
    ogrn="1027700229193",
    address="119021, г. Москва, ул. Льва Толстого, д. 16",
    edo_id="2BE-7736207543",
)

ENTREPRENEUR = LegalEntityDraft(
    code="ip-kuznetsov",
    role=EntityRole.SELLER,
    kind=EntityKind.ENTREPRENEUR,
    name="Индивидуальный предприниматель Кузнецов Олег Петрович",
    short_name="ИП Кузнецов О. П.",
    inn="500100732259",
    ogrn="304500116000157",
    address="141000, Московская обл., г. Мытищи, ул. Мира, д. 5",
    bank_accounts=(SBER,),
    signatories=(
        Signatory(
            SignatoryRole.HEAD, PersonName("Кузнецов", "Олег", "Петрович"), "Предприниматель"
        ),
    ),
    vat_payer=False,
    edo_id="2BM-500100732259",
)


def fns_schema() -> xmlschema.XMLSchema:
    """The official XSD from shared/specs/fns beside the repository (or POTOK_FNS_XSD)."""
    explicit = os.environ.get("POTOK_FNS_XSD")
    candidates = [Path(explicit)] if explicit else []
    candidates += [parent / "shared" / "specs" / "fns" / XSD_NAME for parent in REPOSITORY.parents]
    for candidate in candidates:
        if candidate.is_file():
            return xmlschema.XMLSchema(str(candidate))
    reason = f"the FNS schema {XSD_NAME} is not in ../shared/specs/fns (set POTOK_FNS_XSD)"
    return missing(reason)


def xsd_errors(schema: xmlschema.XMLSchema, xml: bytes) -> list[str]:
    return [f"{error.path}: {error.reason}" for error in schema.iter_errors(io.BytesIO(xml))]


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of every page, with no-break spaces as plain ones."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [
            page.get_textpage().get_text_range().replace("\u00a0", " ").replace("\r", "")
            for page in document
        ]
    finally:
        document.close()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_pages(pdf))


def first_page_image(pdf: bytes, name: str, *, scale: float = 2.0) -> Path:
    """Rasterise the first page to PNG and keep it as a test artifact (var/test-artifacts,
    or POTOK_TEST_ARTIFACTS)."""
    folder = Path(os.environ.get("POTOK_TEST_ARTIFACTS", REPOSITORY / "var" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale).to_pil()
    finally:
        document.close()
    # under pytest-xdist the other worker may render the same document for the other
    # database at the same moment: each worker keeps its own file
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    path = folder / (f"{name}-{worker}.png" if worker else f"{name}.png")
    image.save(path)
    return path
