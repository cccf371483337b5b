"""ИНН, ОГРН, КПП, БИК and bank accounts: real published numbers pass, one wrong digit fails."""

from __future__ import annotations

import pytest

from potok.domain.documents import (
    BankAccount,
    EntityKind,
    EntityRole,
    LegalEntityDraft,
    PersonName,
    Signatory,
    SignatoryRole,
)
from potok.domain.documents.requisites import (
    account_problem,
    bik_problem,
    correspondent_account_problem,
    inn_problem,
    kpp_problem,
    ogrn_problem,
)
from potok.domain.errors import InvalidInput
from tests.documents_support import BUYER, ENTREPRENEUR, SELLER


@pytest.mark.parametrize(
    "inn",
    ["7707083893", "7736207543", "500100732259"],  # Sberbank, Yandex, a published person's
)
def test_published_inns_pass(inn: str) -> None:
    assert inn_problem(inn) is None


@pytest.mark.parametrize(
    ("inn", "code_word"),
    [
        ("7707083894", "check digit"),  # last digit changed
        ("7707038893", "check digit"),  # two digits swapped
        ("500100732258", "check digits"),
        ("770708389", "10 or 12 digits"),
        ("77070838AB", "10 or 12 digits"),
        ("0007083893", "00"),
    ],
)
def test_wrong_inns_are_named(inn: str, code_word: str) -> None:
    problem = inn_problem(inn)
    assert problem is not None
    assert code_word in problem


def test_an_organisation_needs_ten_digits_and_a_person_twelve() -> None:
    assert inn_problem("500100732259", length=10) == "must be 10 digits"
    assert inn_problem("7707083893", length=12) == "must be 12 digits"


def test_ogrn_and_ogrnip_check_digits() -> None:
    assert ogrn_problem("1027700132195") is None  # Sberbank
    assert ogrn_problem("1027700229193") is None  # Yandex
    assert ogrn_problem("304500116000157") is None  # an entrepreneur's, 15 digits
    assert ogrn_problem("1027700132196") is not None
    assert ogrn_problem("304500116000158") is not None
    assert ogrn_problem("10277001321") is not None


def test_kpp_allows_letters_only_in_the_fifth_and_sixth_place() -> None:
    assert kpp_problem("773601001") is None
    assert kpp_problem("7736AB001") is None
    assert kpp_problem("77360100A") is not None
    assert kpp_problem("77360100") is not None


def test_bik_of_a_russian_bank_starts_with_04() -> None:
    assert bik_problem("044525225") is None
    assert bik_problem("144525225") is not None
    assert bik_problem("04452522") is not None


@pytest.mark.parametrize(
    ("bik", "account"),
    [
        ("044525225", "30101810400000000225"),  # Sberbank, Moscow
        ("044525974", "30101810145250000974"),  # T-Bank
    ],
)
def test_published_correspondent_accounts_match_their_bik(bik: str, account: str) -> None:
    assert correspondent_account_problem(account, bik) is None


def test_a_correspondent_account_of_another_bank_is_refused() -> None:
    problem = correspondent_account_problem("30101810400000000225", "044525974")
    assert problem is not None
    assert "БИК" in problem


def test_settlement_account_key_against_the_bik() -> None:
    # 225 + 40702810883800000000 weighted 7,1,3,...: 14+2+15+28+0+21+0+2+24+7+0+24+56+3+24
    # = 220, which ends in 0: the key holds.
    assert account_problem("40702810883800000000", "044525225") is None
    # the same account at T-Bank (БИК ...974) no longer adds up
    assert account_problem("40702810883800000000", "044525974") is not None
    # one digit off
    assert account_problem("40702810883800000001", "044525225") is not None


def test_the_sample_entities_are_valid() -> None:
    for draft in (SELLER, BUYER, ENTREPRENEUR):
        draft.validate()


def test_a_draft_with_many_mistakes_names_every_field() -> None:
    draft = LegalEntityDraft(
        code="bad code!",
        role=EntityRole.SELLER,
        name="",
        inn="7707083894",
        kpp="77360100",
        ogrn="1027700132196",
        bank_accounts=(
            BankAccount("Банк", "044525225", "30101810400000000226", "40702810883800000001"),
        ),
        edo_id="x",
        time_zone="Mars/Olympus",
        is_default=True,
    )
    with pytest.raises(InvalidInput) as caught:
        draft.validate()
    fields = {error.field: error.code for error in caught.value.errors}
    assert fields == {
        "code": "bad-code",
        "name": "required",
        "address": "required",
        "inn": "bad-inn",
        "kpp": "bad-kpp",
        "ogrn": "bad-ogrn",
        "bank_accounts[0].correspondent_account": "bad-account",
        "bank_accounts[0].account": "bad-account",
        "edo_id": "bad-edo-id",
        "time_zone": "bad-zone",
    }


def test_a_seller_needs_inn_and_kpp_a_buyer_may_come_without() -> None:
    seller = LegalEntityDraft(code="s", role=EntityRole.SELLER, name="ООО «С»", address="Москва")
    with pytest.raises(InvalidInput) as caught:
        seller.validate()
    assert {e.field for e in caught.value.errors} == {"inn", "kpp"}
    LegalEntityDraft(code="b", role=EntityRole.BUYER, name="ООО «Б»").validate()


def test_an_entrepreneur_has_no_kpp_and_signs_as_head() -> None:
    draft = LegalEntityDraft(
        code="ip",
        role=EntityRole.BUYER,
        kind=EntityKind.ENTREPRENEUR,
        name="ИП Кузнецов",
        inn="7707083893",
        kpp="773601001",
    )
    with pytest.raises(InvalidInput) as caught:
        draft.validate()
    assert {e.field: e.code for e in caught.value.errors} == {
        "inn": "bad-inn",  # 10 digits: an organisation's
        "kpp": "not-applicable",
        "signatories": "required",
    }
    Signatory(SignatoryRole.HEAD, PersonName("Кузнецов", "Олег"), "ИП")


def test_only_a_seller_serves_channels_or_is_the_default() -> None:
    draft = LegalEntityDraft(
        code="b", role=EntityRole.BUYER, name="ООО «Б»", channels=("web",), is_default=True
    )
    with pytest.raises(InvalidInput) as caught:
        draft.validate()
    assert {e.field for e in caught.value.errors} == {"channels", "is_default"}
