"""Issued documents: kinds, numbering series, corrections, and what each kind needs filled in.

A document is numbered in its seller's series for its kind and calendar year (1, 2, 3 ...
without gaps), stored with the subject it was made from and the files rendered from it,
and never changed again. A correction is a new document that names the one it corrects:
an УПД keeps its number and date and adds «Исправление № n от …», the other kinds take the
next number of their series and say which document they replace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo

from potok.domain.documents.errors import RequisitesMissing, SellerNotVatPayer
from potok.domain.documents.subject import Party, Subject


class DocumentKind(StrEnum):
    INVOICE = "invoice"  # счёт на оплату
    TORG12 = "torg12"  # товарная накладная, унифицированная форма ТОРГ-12
    UPD = "upd"  # универсальный передаточный документ


class FileFormat(StrEnum):
    PDF = "pdf"
    XML = "xml"


TITLES = {
    DocumentKind.INVOICE: "Счёт на оплату",
    DocumentKind.TORG12: "Товарная накладная ТОРГ-12",
    DocumentKind.UPD: "Универсальный передаточный документ",
}


class UpdStatus(IntEnum):
    INVOICE_AND_TRANSFER = 1  # счёт-фактура и передаточный документ
    TRANSFER = 2  # передаточный документ (акт) only


@dataclass(frozen=True, slots=True)
class Corrected:
    """The document a correction replaces, as the correction prints it."""

    number: str
    issued_on: date


@dataclass(frozen=True, slots=True)
class Heading:
    """A document's own particulars: kind, number, date, correction, the XML file's id."""

    kind: DocumentKind
    number: str
    issued_on: date
    issued_at: datetime  # UTC
    time_zone: str
    upd_status: UpdStatus | None = None
    correction_no: int = 0
    correction_on: date | None = None
    corrects: Corrected | None = None
    file_guid: str = ""  # the УПД XML file's GUID, fixed at issue

    @property
    def local_time(self) -> datetime:
        """When it was issued, on the seller's clock (the XML's ДатаИнфПр/ВремИнфПр)."""
        return self.issued_at.astimezone(ZoneInfo(self.time_zone))


@dataclass(frozen=True, slots=True)
class IssuedDocument:
    """A document as it was issued; nothing in it changes afterwards."""

    id: int
    kind: DocumentKind
    seller_id: int
    seller_code: str
    year: int
    number: int
    correction_no: int
    corrects_id: int | None
    order_id: int | None
    upd_status: UpdStatus | None
    issued_on: date
    issued_at: datetime
    issued_by: str
    time_zone: str
    currency: str
    total: Decimal
    vat_total: Decimal
    file_guid: str
    subject: Subject
    formats: tuple[FileFormat, ...] = ()
    corrected_by: int | None = None
    corrects: Corrected | None = None
    shipment_id: int | None = None  # a document of one shipment of its order

    @property
    def display_number(self) -> str:
        return str(self.number)

    @property
    def heading(self) -> Heading:
        upd_correction = self.kind is DocumentKind.UPD and self.correction_no > 0
        original_on = self.corrects.issued_on if self.corrects else self.issued_on
        return Heading(
            kind=self.kind,
            number=self.display_number,
            issued_on=original_on if upd_correction else self.issued_on,
            issued_at=self.issued_at,
            time_zone=self.time_zone,
            upd_status=self.upd_status,
            correction_no=self.correction_no if self.kind is DocumentKind.UPD else 0,
            correction_on=self.issued_on if upd_correction else None,
            corrects=None if self.kind is DocumentKind.UPD else self.corrects,
            file_guid=self.file_guid,
        )

    @property
    def file_stem(self) -> str:
        """A name for the PDF: upd-2026-17, torg12-2026-3-corr1."""
        stem = f"{self.kind.value}-{self.year}-{self.number}"
        return stem + (f"-corr{self.correction_no}" if self.correction_no else "")


def default_upd_status(seller: Party) -> UpdStatus:
    """A VAT payer's УПД is also its счёт-фактура (1); anyone else's is a transfer only (2)."""
    return UpdStatus.INVOICE_AND_TRANSFER if seller.vat_payer else UpdStatus.TRANSFER


def check_ready(kind: DocumentKind, upd_status: UpdStatus | None, subject: Subject) -> None:
    """Refuse to issue a document whose form would have empty required places."""
    invoicing_upd = kind is DocumentKind.UPD and upd_status is UpdStatus.INVOICE_AND_TRANSFER
    if invoicing_upd and not subject.seller.vat_payer:
        raise SellerNotVatPayer(seller=subject.seller.code or subject.seller.name)
    missing: list[str] = []
    seller, buyer = subject.seller, subject.buyer
    if kind is DocumentKind.INVOICE and seller.bank is None:
        missing.append(_needs(seller, "a bank account (bank_accounts)"))
    if buyer.is_company and not buyer.inn:
        missing.append(_needs(buyer, "its ИНН (inn)"))
    if invoicing_upd and buyer.is_company and not buyer.address:
        missing.append(_needs(buyer, "its address (address)"))
    if kind is DocumentKind.UPD:
        missing.extend(
            f"the marking codes of {line.sku}: {line.codes_missing} of {line.quantity} "
            "not captured (scan them at packing: POST /api/v1/shipments/{id}/parcels)"
            for line in subject.lines
            if line.codes_missing
        )
    if missing:
        raise _missing(TITLES[kind], missing)


def check_xml_ready(subject: Subject) -> None:
    """An УПД goes to an ЭДО operator only between companies known to it by their ids."""
    missing: list[str] = []
    seller, buyer = subject.seller, subject.buyer
    if not seller.edo_id:
        missing.append(_needs(seller, "its ЭДО participant id (edo_id)"))
    if seller.head is None:
        missing.append(_needs(seller, "the person who signs, with role 'head' (signatories)"))
    if not buyer.is_company:
        missing.append(
            f"a buyer company on the order (PUT /api/v1/orders/{{id}}/buyer): "
            f"'{buyer.name}' is a private person, and private persons do not use ЭДО"
        )
    elif not buyer.edo_id:
        missing.append(_needs(buyer, "its ЭДО participant id (edo_id)"))
    if missing:
        raise _missing("The УПД's XML file", missing)


def _needs(party: Party, what: str) -> str:
    who = f"legal entity '{party.code}'" if party.code else f"'{party.name}'"
    return f"{who}: {what}"


def _missing(document: str, missing: list[str]) -> RequisitesMissing:
    return RequisitesMissing(document=document, listed="; ".join(missing), missing=missing)
