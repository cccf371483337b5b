"""Bodies of the legal entities and documents endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from potok.api.schemas.common import JSON_INTEGER, MoneyOut, Out, Page, Schema
from potok.domain.documents import (
    BankAccount,
    DocumentKind,
    EntityKind,
    EntityRole,
    IssuedDocument,
    LegalEntity,
    LegalEntityDraft,
    PersonName,
    Signatory,
    SignatoryRole,
    UpdStatus,
)

Code = Annotated[str, Field(min_length=1, max_length=64)]


class BankAccountIn(Schema):
    bank_name: str = Field(max_length=1000, examples=["ПАО Сбербанк"])
    bik: str = Field(max_length=9, examples=["044525225"])
    correspondent_account: str = Field(max_length=20, examples=["30101810400000000225"])
    account: str = Field(max_length=20, examples=["40702810883800000000"])


class SignatoryIn(Schema):
    role: SignatoryRole = Field(
        description="`head` (руководитель or the entrepreneur), `accountant` (главный "
        "бухгалтер) or `dispatcher` (who hands the goods over)."
    )
    last_name: str = Field(max_length=60, examples=["Иванов"])
    first_name: str = Field(max_length=60, examples=["Иван"])
    middle_name: str = Field(default="", max_length=60, examples=["Иванович"])
    position: str = Field(max_length=255, examples=["Генеральный директор"])
    basis: str = Field(
        default="", max_length=255, description="e.g. «Доверенность № 12 от 01.02.2026»."
    )


class LegalEntityIn(Schema):
    code: str = Field(min_length=1, max_length=64, examples=["potok"])
    role: EntityRole
    kind: EntityKind = EntityKind.ORGANISATION
    name: str = Field(
        max_length=1000, examples=["Общество с ограниченной ответственностью «Поток»"]
    )
    short_name: str = Field(default="", max_length=510, examples=["ООО «Поток»"])
    inn: str | None = Field(default=None, max_length=12, examples=["7707083893"])
    kpp: str | None = Field(default=None, max_length=9, examples=["773601001"])
    ogrn: str | None = Field(default=None, max_length=15, examples=["1027700132195"])
    okpo: str | None = Field(default=None, max_length=10)
    address: str = Field(default="", max_length=1000)
    postal_address: str = Field(default="", max_length=1000)
    phone: str = Field(default="", max_length=255)
    email: str = Field(default="", max_length=255)
    bank_accounts: list[BankAccountIn] = Field(
        default_factory=list, max_length=10, description="The first is printed on documents."
    )
    signatories: list[SignatoryIn] = Field(default_factory=list, max_length=20)
    vat_payer: bool = Field(default=True, strict=True)
    edo_id: str | None = Field(
        default=None, max_length=46, description="The participant id at its ЭДО operator."
    )
    time_zone: str = Field(default="Europe/Moscow", max_length=64)
    channels: list[Code] = Field(
        default_factory=list,
        max_length=100,
        description="Sellers only: the channels whose orders this seller sells.",
    )
    is_default: bool = Field(
        default=False, strict=True, description="Sellers only: sells every other channel's orders."
    )
    active: bool = Field(default=True, strict=True)

    def draft(self) -> LegalEntityDraft:
        return LegalEntityDraft(
            code=self.code,
            role=self.role,
            kind=self.kind,
            name=self.name,
            short_name=self.short_name,
            inn=self.inn,
            kpp=self.kpp,
            ogrn=self.ogrn,
            okpo=self.okpo,
            address=self.address,
            postal_address=self.postal_address,
            phone=self.phone,
            email=self.email,
            bank_accounts=tuple(
                BankAccount(a.bank_name, a.bik, a.correspondent_account, a.account)
                for a in self.bank_accounts
            ),
            signatories=tuple(
                Signatory(
                    s.role,
                    PersonName(s.last_name, s.first_name, s.middle_name),
                    s.position,
                    s.basis,
                )
                for s in self.signatories
            ),
            vat_payer=self.vat_payer,
            edo_id=self.edo_id,
            time_zone=self.time_zone,
            channels=tuple(self.channels),
            is_default=self.is_default,
            active=self.active,
        )


class LegalEntityOut(LegalEntityIn):
    """As registered (the body's shape, and when it was registered and last changed)."""

    created_at: datetime = Field(strict=True)
    updated_at: datetime = Field(strict=True)


def render_legal_entity(entity: LegalEntity) -> LegalEntityOut:
    return LegalEntityOut(
        code=entity.code,
        role=entity.role,
        kind=entity.kind,
        name=entity.name,
        short_name=entity.short_name,
        inn=entity.inn,
        kpp=entity.kpp,
        ogrn=entity.ogrn,
        okpo=entity.okpo,
        address=entity.address,
        postal_address=entity.postal_address,
        phone=entity.phone,
        email=entity.email,
        bank_accounts=[
            BankAccountIn(
                bank_name=a.bank_name,
                bik=a.bik,
                correspondent_account=a.correspondent_account,
                account=a.account,
            )
            for a in entity.bank_accounts
        ],
        signatories=[
            SignatoryIn(
                role=s.role,
                last_name=s.name.last,
                first_name=s.name.first,
                middle_name=s.name.middle,
                position=s.position,
                basis=s.basis,
            )
            for s in entity.signatories
        ],
        vat_payer=entity.vat_payer,
        edo_id=entity.edo_id,
        time_zone=entity.time_zone,
        channels=list(entity.channels),
        is_default=entity.is_default,
        active=entity.active,
        created_at=entity.created_at,
        updated_at=entity.updated_at,
    )


class LegalEntityPageOut(Page):
    items: list[LegalEntityOut]


class BuyerIn(Schema):
    legal_entity: str | None = Field(
        max_length=64,
        description="The code of a legal entity with role `buyer`; null sells the order to "
        "its customer again.",
        examples=["yandex"],
    )


class DocumentIn(Schema):
    kind: DocumentKind = Field(description="`invoice` (счёт на оплату), `torg12` or `upd`.")
    upd_status: Annotated[int, Field(ge=1, le=2), JSON_INTEGER] | None = Field(
        default=None,
        description="УПД only: 1 (счёт-фактура and transfer document) or 2 (transfer only); "
        "by default 1 for a seller that charges VAT, else 2.",
    )


class DocumentLinks(Out):
    pdf: str
    xml: str | None


class DocumentOut(Out):
    id: int
    kind: DocumentKind
    number: int
    year: int
    correction_no: int
    corrects: int | None = Field(description="The document this one corrects.")
    corrected_by: int | None = Field(description="The correction that replaced this one.")
    order_id: int | None
    shipment_id: int | None = Field(
        description="The shipment it describes; none for the order's own documents."
    )
    seller: str
    buyer: str
    upd_status: int | None
    issued_on: date
    issued_at: datetime
    issued_by: str
    currency: str
    total: MoneyOut
    vat_total: MoneyOut
    formats: list[str] = Field(description="Files made so far (the УПД's XML on first request).")
    links: DocumentLinks


class DocumentPageOut(Page):
    items: list[DocumentOut]


def render_document(document: IssuedDocument) -> DocumentOut:
    base = f"/api/v1/documents/{document.id}"
    return DocumentOut(
        id=document.id,
        kind=document.kind,
        number=document.number,
        year=document.year,
        correction_no=document.correction_no,
        corrects=document.corrects_id,
        corrected_by=document.corrected_by,
        order_id=document.order_id,
        shipment_id=document.shipment_id,
        seller=document.seller_code,
        buyer=document.subject.buyer.display_name,
        upd_status=document.upd_status.value if document.upd_status else None,
        issued_on=document.issued_on,
        issued_at=document.issued_at,
        issued_by=document.issued_by,
        currency=document.currency,
        total=document.total,
        vat_total=document.vat_total,
        formats=[f.value for f in document.formats],
        links=DocumentLinks(
            pdf=f"{base}/pdf", xml=f"{base}/xml" if document.kind is DocumentKind.UPD else None
        ),
    )


def upd_status_of(value: int | None) -> UpdStatus | None:
    return UpdStatus(value) if value is not None else None
