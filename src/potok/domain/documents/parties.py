"""Legal entities: the seller (one or more) and B2B buyers, with their requisites.

A legal entity is an organisation or an individual entrepreneur with a tax number (ИНН),
a registration number (ОГРН/ОГРНИП), addresses, bank accounts and the people who sign
its documents. Sellers issue documents; a seller serves the channels bound to it, and
one seller may be the default for every other channel. Buyers are the companies a B2B
order is sold to. Every requisite is checked on entry: a wrong check digit is refused
with the field named, before anything is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from potok.domain.documents.requisites import (
    account_problem,
    bik_problem,
    correspondent_account_problem,
    inn_problem,
    kpp_problem,
    ogrn_problem,
)
from potok.domain.errors import Conflict, InvalidInput, NotFound
from potok.domain.validation import Problems

EDO_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-]{3,45}")
MAX_ACCOUNTS = 10
MAX_SIGNATORIES = 20
MAX_CHANNELS = 100


class EntityKind(StrEnum):
    ORGANISATION = "organisation"  # юридическое лицо: ИНН of 10 digits, КПП, ОГРН of 13
    ENTREPRENEUR = "entrepreneur"  # индивидуальный предприниматель: ИНН of 12, ОГРНИП of 15


class EntityRole(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"


class SignatoryRole(StrEnum):
    HEAD = "head"  # руководитель (or the entrepreneur); signs every document
    ACCOUNTANT = "accountant"  # главный бухгалтер
    DISPATCHER = "dispatcher"  # отпуск груза произвёл / товар передал


class LegalEntityNotFound(NotFound):
    code = "legal-entity-not-found"
    title = "Legal entity not found"
    template = "There is no legal entity '{code}'."


class LegalEntityExists(Conflict):
    code = "legal-entity-exists"
    title = "The legal entity already exists"
    template = "{what} is already registered as legal entity '{existing}'."


class ChannelHasSeller(Conflict):
    code = "channel-has-seller"
    title = "The channel already has a seller"
    template = "Channel '{channel}' is served by seller '{seller}'; take it off that seller first."


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name as Russian documents print it."""

    last: str
    first: str
    middle: str = ""

    @property
    def full(self) -> str:
        return " ".join(part for part in (self.last, self.first, self.middle) if part)

    @property
    def short(self) -> str:
        """Фамилия И. О. - the way a signature is spelled out under it."""
        initials = " ".join(f"{part[0]}." for part in (self.first, self.middle) if part)
        return f"{self.last} {initials}".strip()


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A settlement account at a Russian bank."""

    bank_name: str
    bik: str
    correspondent_account: str
    account: str


@dataclass(frozen=True, slots=True)
class Signatory:
    """Someone who signs the entity's documents, and on what authority."""

    role: SignatoryRole
    name: PersonName
    position: str
    basis: str = ""  # e.g. "Доверенность № 12 от 01.02.2026"; empty: by the charter


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalEntityDraft:
    """What a caller gives to register or replace a legal entity; see :meth:`validate`."""

    code: str
    role: EntityRole
    kind: EntityKind = EntityKind.ORGANISATION
    name: str  # full name: Общество с ограниченной ответственностью «Ромашка»
    short_name: str = ""  # ООО «Ромашка»
    inn: str | None = None
    kpp: str | None = None
    ogrn: str | None = None
    okpo: str | None = None
    address: str = ""  # legal address
    postal_address: str = ""  # where the post goes, when other than the legal address
    phone: str = ""
    email: str = ""
    bank_accounts: tuple[BankAccount, ...] = ()  # the first is the one documents print
    signatories: tuple[Signatory, ...] = ()
    vat_payer: bool = True  # False: УСН and the like, documents say "без НДС"
    edo_id: str | None = None  # the participant id at its ЭДО operator (for УПД XML)
    time_zone: str = "Europe/Moscow"  # documents are dated in it
    channels: tuple[str, ...] = ()  # sellers only: the channels this seller serves
    is_default: bool = False  # sellers only: serves every channel no other seller serves
    active: bool = True

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def account(self) -> BankAccount | None:
        return self.bank_accounts[0] if self.bank_accounts else None

    def signatory(self, role: SignatoryRole) -> Signatory | None:
        for signatory in self.signatories:
            if signatory.role is role:
                return signatory
        return None

    def validate(self) -> None:
        """Refuse the draft with every wrong field named at once."""
        problems = Problems()
        problems.code("code", self.code)
        problems.text("name", self.name, max_length=1000)
        problems.text("short_name", self.short_name, max_length=510, required=False)
        problems.text("address", self.address, max_length=1000, required=self.is_seller)
        problems.text("postal_address", self.postal_address, max_length=1000, required=False)
        problems.text("phone", self.phone, max_length=255, required=False)
        problems.text("email", self.email, max_length=255, required=False)
        self._check_numbers(problems)
        for index, bank in enumerate(self.bank_accounts[:MAX_ACCOUNTS]):
            _check_account(problems, f"bank_accounts[{index}].", bank)
        if len(self.bank_accounts) > MAX_ACCOUNTS:
            problems.add("bank_accounts", f"at most {MAX_ACCOUNTS} accounts", "too-many")
        for index, signatory in enumerate(self.signatories[:MAX_SIGNATORIES]):
            _check_signatory(problems, f"signatories[{index}].", signatory)
        if len(self.signatories) > MAX_SIGNATORIES:
            problems.add("signatories", f"at most {MAX_SIGNATORIES} people", "too-many")
        if self.kind is EntityKind.ENTREPRENEUR and self.signatory(SignatoryRole.HEAD) is None:
            problems.add(
                "signatories",
                "an entrepreneur signs as 'head': add them with their name",
                "required",
            )
        if self.edo_id is not None and not EDO_ID.fullmatch(self.edo_id):
            problems.add(
                "edo_id",
                "must be the 4-46 letters, digits and '-' your ЭДО operator assigned",
                "bad-edo-id",
            )
        if not _known_zone(self.time_zone):
            problems.add("time_zone", "must be a time zone such as Europe/Moscow", "bad-zone")
        self._check_seller_only(problems)
        if problems:
            raise InvalidInput(problems.errors)

    @property
    def is_seller(self) -> bool:
        return self.role is EntityRole.SELLER

    def _check_numbers(self, problems: Problems) -> None:
        organisation = self.kind is EntityKind.ORGANISATION
        if self.inn is None:
            if self.is_seller:
                problems.add("inn", "a seller needs its ИНН", "required")
        elif (issue := inn_problem(self.inn, length=10 if organisation else 12)) is not None:
            problems.add("inn", issue, "bad-inn")
        if organisation:
            if self.kpp is None:
                if self.is_seller:
                    problems.add("kpp", "an organisation that sells needs its КПП", "required")
            elif (issue := kpp_problem(self.kpp)) is not None:
                problems.add("kpp", issue, "bad-kpp")
        elif self.kpp is not None:
            problems.add("kpp", "an entrepreneur has no КПП; leave it out", "not-applicable")
        if self.ogrn is not None and (
            issue := ogrn_problem(self.ogrn, length=13 if organisation else 15)
        ):
            problems.add("ogrn", issue, "bad-ogrn")
        if self.okpo is not None and not (
            self.okpo.isdigit() and len(self.okpo) == (8 if organisation else 10)
        ):
            digits = 8 if organisation else 10
            problems.add("okpo", f"must be {digits} digits", "bad-okpo")

    def _check_seller_only(self, problems: Problems) -> None:
        if self.is_seller:
            for index, channel in enumerate(self.channels[:MAX_CHANNELS]):
                problems.code(f"channels[{index}]", channel)
            if len(self.channels) > MAX_CHANNELS:
                problems.add("channels", f"at most {MAX_CHANNELS} channels", "too-many")
            if len(set(self.channels)) != len(self.channels):
                problems.add("channels", "names a channel twice", "duplicate")
            return
        if self.channels:
            problems.add("channels", "only a seller serves channels", "not-applicable")
        if self.is_default:
            problems.add("is_default", "only a seller can be the default", "not-applicable")


def _known_zone(name: str) -> bool:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_account(problems: Problems, prefix: str, bank: BankAccount) -> None:
    problems.text(prefix + "bank_name", bank.bank_name, max_length=1000)
    if (issue := bik_problem(bank.bik)) is not None:
        problems.add(prefix + "bik", issue, "bad-bik")
    if (issue := correspondent_account_problem(bank.correspondent_account, bank.bik)) is not None:
        problems.add(prefix + "correspondent_account", issue, "bad-account")
    if (issue := account_problem(bank.account, bank.bik)) is not None:
        problems.add(prefix + "account", issue, "bad-account")


def _check_signatory(problems: Problems, prefix: str, signatory: Signatory) -> None:
    problems.text(prefix + "name.last", signatory.name.last, max_length=60)
    problems.text(prefix + "name.first", signatory.name.first, max_length=60)
    problems.text(prefix + "name.middle", signatory.name.middle, max_length=60, required=False)
    problems.text(prefix + "position", signatory.position, max_length=255)
    problems.text(prefix + "basis", signatory.basis, max_length=255, required=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalEntity(LegalEntityDraft):
    """A registered legal entity."""

    id: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_draft(
        cls, draft: LegalEntityDraft, *, entity_id: int, created_at: datetime, updated_at: datetime
    ) -> LegalEntity:
        values = {name: getattr(draft, name) for name in LegalEntityDraft.__dataclass_fields__}
        return cls(**values, id=entity_id, created_at=created_at, updated_at=updated_at)
