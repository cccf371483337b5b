"""Fiscal receipts on the order card in a real browser: a registered receipt with its ФН,
ФД and ФПД, a refused one with АТОЛ's reason, corrected from the card; Russian; the card
passes the accessibility check. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.domain.access import Role
from potok.domain.fiscal import FiscalRules
from potok.services import legal_entities
from potok.services.fiscal import reading, sending
from potok.services.fiscal.desk import FiscalDesk
from tests.browser.conftest import person, run_axe, sign_in
from tests.conftest import LiveServer
from tests.documents_support import SELLER
from tests.factories import build_world
from tests.integration.test_fiscal_receipts import drain
from tests.integration.test_fiscal_sending import atol_desk
from tests.integration.test_returns import Clock, _handed_over
from tests.simulators.atol import AtolSimulator

Shot = Callable[[Page, str], Path]


def test_the_order_card_shows_the_receipts_and_corrects_a_failed_one(
    site: LiveServer, page: Page, shot: Shot, atol: AtolSimulator
) -> None:
    potok = site.potok
    build_world(potok, {("MSK", "KET"): 5})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    potok.fiscal = atol_desk(atol)
    try:
        clock = Clock(datetime.now(UTC))
        order_id, _, _ = _handed_over(potok, [("KET", 1)], clock)
        drain(potok)
        atol.refuse_next(2003, "ИНН, указанный в чеке не соответствует ИНН компании.")
        for _ in range(3):
            sending.work_the_queue(potok.uow, potok.fiscal, clock=clock)
            clock.moment += timedelta(minutes=1)
        sale, offset = reading.receipts_of_order(potok.uow(), order_id)
        assert (sale.state.value, offset.state.value) == ("failed", "done")
        assert offset.attributes is not None

        person(site, "ivanova", Role.OPERATOR)
        sign_in(page, "ivanova", path=f"/orders/{order_id}")
        section = page.locator("section[aria-labelledby=receipts-h]")
        registered = section.locator(f"tr[data-receipt='{offset.id}']")
        expect(registered).to_contain_text("Full settlement")
        expect(registered).to_contain_text("Registered")
        expect(registered.locator("[data-fn]")).to_have_text("9999078902004312")
        expect(registered.locator("[data-fd]")).to_have_text(
            str(offset.attributes.fiscal_document_number)
        )
        expect(registered.locator("[data-fpd]")).to_have_text(
            str(offset.attributes.fiscal_document_attribute)
        )
        failed = section.locator(f"tr[data-receipt='{sale.id}']")
        expect(failed).to_contain_text("Sale (full prepayment)")
        expect(failed.locator("[data-receipt-reason]")).to_have_text(
            "ИНН, указанный в чеке не соответствует ИНН компании. (code 2003)"
        )
        assert run_axe(page) == [], "the order card with its receipts"
        shot(page, "receipts")

        failed.get_by_role("button", name="Correct").click()
        expect(page.locator("#flash")).to_contain_text("Correction queued")
        expect(section.locator("tr[data-receipt]")).to_have_count(3)
        expect(section.locator("tr[data-receipt-state='queued']")).to_contain_text("Correction")

        page.get_by_role("link", name="Русский").click()
        expect(page.get_by_role("heading", name=re.compile("Фискальные чеки"))).to_be_visible()
        expect(registered).to_contain_text("Зарегистрирован")
        expect(section.locator("tr[data-receipt-state='queued']")).to_contain_text("В очереди")
        shot(page, "receipts-ru")
    finally:
        potok.fiscal = FiscalDesk(rules=FiscalRules(enabled=False))
