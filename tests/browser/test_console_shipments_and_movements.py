"""The order card's shipments, parcels and tracking, and edits of its lines (quantity changed,
a line added, units cancelled, each under If-Match); transfers between warehouses and
purchase orders from suppliers - asked for, shipped, received short with a reason, closed -
in a real browser, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect

from potok.connectors.carriers import TrackingEvent, TrackingStatus
from potok.domain.access import Role
from potok.domain.catalogue import ProductDraft
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.kernel import Tracking
from potok.services import catalogue, intake, inventory
from potok.services import orders as order_service
from potok.services.fulfilment import packing, picking, reads, tracking
from potok.services.fulfilment.picking import ScanInput
from tests.browser.conftest import person, run_axe, sign_in
from tests.conftest import LiveServer
from tests.e2e.test_documents_api import SELLER
from tests.factories import TESTER, build_world, order_command

Shot = Callable[[Page, str], Path]


def on_hand(site: LiveServer, warehouse: str, sku: str) -> int:
    page = inventory.list_levels(site.potok.uow(), warehouse=warehouse, sku=sku)
    return sum(r.on_hand for r in page.items)


def ship_everything(site: LiveServer, shipment_id: int) -> None:
    """What the warehouse does with a released shipment: pick, pack, hand to the carrier."""
    potok = site.potok
    shipment = reads.get_shipment(potok.uow(), shipment_id).shipment
    for item in shipment.items:
        picking.pick(potok.uow(), shipment_id, ScanInput(item.sku, item.quantity), TESTER)
    shipment = reads.get_shipment(potok.uow(), shipment_id).shipment
    lines = tuple(ParcelLine(i.item_no, i.picked) for i in shipment.items)
    packing.pack_parcel(potok.uow(), shipment_id, ParcelDraft(1800, 300, 200, 150, lines), TESTER)
    tracking.hand_over_to(potok.uow(), potok.carriers, shipment_id, TESTER, carrier="sandbox")


def test_a_manager_edits_lines_then_follows_the_shipment_on_the_card(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 20, ("MSK", "TOY"): 5})
    placed = intake.place_order(site.potok.uow(), order_command([("KET", 1), ("MUG", 2)]), TESTER)
    assert isinstance(placed, intake.Placement)
    number = placed.order.id
    assert number is not None
    person(site, "orlova", Role.MANAGER)
    sign_in(page, "orlova", path=f"/orders/{number}")
    expect(page.locator(".page-head [data-status]")).to_have_text("Reserved")
    expect(page.get_by_text("No shipment yet.")).to_be_visible()

    # three mugs rather than two, and a toy bear: one PATCH under If-Match
    page.get_by_text("Change lines", exact=True).click()
    page.get_by_label("Line 2: Mug, units (0 removes it)").fill("3")
    page.get_by_label("New line: SKU").fill("TOY")
    page.get_by_label("New line: units").fill("1")
    page.get_by_label("Why (optional)").fill("звонок покупателя")
    page.get_by_role("button", name="Save the lines").click()
    expect(page.locator("#flash")).to_contain_text("Order changed")
    expect(page.locator("tr[data-line='2'] [data-quantity]")).to_have_text("3")
    expect(page.locator("tr[data-line='3'] [data-quantity]")).to_have_text("1")
    expect(page.locator("ol.timeline")).to_contain_text("Order edited")

    # more kettles than the network has: refused in plain words, the figure typed stays
    page.get_by_text("Change lines", exact=True).click()
    page.get_by_label("Line 1: Kettle, units (0 removes it)").fill("50")
    page.get_by_role("button", name="Save the lines").click()
    refusal = page.locator("form[data-edit-lines] .errors")
    expect(refusal).to_be_visible()
    expect(refusal).to_have_attribute("data-code", re.compile(r".+"))
    expect(page.get_by_label("Line 1: Kettle, units (0 removes it)")).to_have_value("50")
    shot(page, "edit-refused")
    page.reload()

    # one mug cancelled again
    page.get_by_text("Cancel units of lines", exact=True).click()
    page.get_by_label("Line 2: Mug, units to cancel (of 3)").fill("1")
    page.get_by_label("Reason for cancelling these units").fill("одна кружка не нужна")
    page.get_by_role("button", name="Cancel the units").click()
    expect(page.locator("#flash")).to_contain_text("Units cancelled")
    expect(page.locator("tr[data-line='2'] [data-quantity]")).to_have_text("2")
    lines = order_service.get_order(site.potok.uow(), number).order.lines
    assert [(line.sku, line.quantity) for line in lines] == [("KET", 1), ("MUG", 2), ("TOY", 1)]

    # sent to MSK for picking from the card; the warehouse ships it; the card follows
    page.get_by_label("Send for picking at").select_option("MSK")
    page.get_by_role("button", name="Send to the warehouse").click()
    card = page.locator("[data-shipment-card]")
    expect(card.locator("[data-shipment-status]")).to_have_text("Waiting for picking")
    shipment_id = int(card.get_attribute("data-shipment-card") or 0)
    ship_everything(site, shipment_id)
    page.reload()
    expect(page.locator(".page-head [data-status]")).to_have_text("Shipped")
    expect(card.locator("[data-shipment-status]")).to_have_text("Handed over")
    expect(card.locator("[data-tracking]")).to_have_text(re.compile(r"^SBX"))
    expect(card.locator("[data-parcel='1']")).to_contain_text("4 units")
    card.get_by_text("Steps and tracking").click()
    expect(card.locator("ol.timeline")).to_contain_text("Booked with the carrier")
    expect(page.locator("tr.short")).to_have_count(0)  # shipped units are not short
    expect(page.get_by_text("Change lines", exact=True)).to_have_count(0)  # too late now
    expect(page.get_by_text("Cancel the order", exact=True)).to_have_count(0)
    assert run_axe(page) == []
    shot(page, "shipped")

    # the customer refuses the parcel: the card and the dashboard say so
    tracking_number = card.locator("[data-tracking]").inner_text()
    refused = TrackingEvent(
        tracking_number, TrackingStatus.FAILED_DELIVERY, datetime.now(UTC), "Отказ", "fail-1"
    )
    assert tracking.apply_tracking(site.potok.uow(), "sandbox", [refused]).applied == 1
    page.reload()
    expect(card.locator("[data-shipment-status]")).to_have_text("Delivery failed")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-figure=failed_delivery]")).to_have_text("1")
    expect(page.locator(f"[data-failed='{shipment_id}']")).to_contain_text(tracking_number)


def test_stock_moves_between_warehouses_and_arrives_from_a_supplier(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok, {("MSK", "KET"): 10})
    milk = ProductDraft("MILK", "Молоко", Decimal("89.90"), Decimal("10"), tracking=Tracking.LOT)
    catalogue.create_product(site.potok.uow(), milk)
    person(site, "petrova", Role.MANAGER)
    sign_in(page, "petrova", path="/stock/transfers")

    # a transfer of four kettles, MSK to SPB: asked for, shipped, three arrive
    form = page.locator("form[data-new-transfer]")
    form.get_by_label("From warehouse").select_option("MSK")
    form.get_by_label("To warehouse").select_option("SPB")
    form.get_by_label("SKU, line 1", exact=True).fill("KET")
    form.get_by_label("Units, line 1", exact=True).fill("4")
    form.get_by_role("button", name="Ask for the transfer").click()
    expect(page.get_by_role("heading", name=re.compile(r"Transfer TR-\d+"))).to_be_visible()
    expect(page.locator(".page-head [data-status]")).to_have_text("Requested")
    page.get_by_role("button", name="Ship the transfer").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Shipped")
    assert on_hand(site, "MSK", "KET") == 6

    page.get_by_label("Line 1: KET, units arrived").fill("3")
    page.get_by_role("button", name="Receive the transfer").click()
    refusal = page.locator("form[data-receive] .errors")
    expect(refusal).to_be_visible()  # a difference needs its reason
    expect(page.get_by_label("Line 1: KET, units arrived")).to_have_value("3")
    page.get_by_label("Why different (line 1)").fill("один разбит в пути")
    page.get_by_role("button", name="Receive the transfer").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Received")
    expect(page.locator("tr[data-line='1'] [data-received]")).to_have_text("3")
    assert on_hand(site, "SPB", "KET") == 3
    assert run_axe(page) == []
    shot(page, "transfer-received")

    # a purchase order of ten mugs and six bottles of milk (kept by lot): four mugs and all
    # the milk come, then nothing more
    page.get_by_role("link", name="Purchase orders").click()
    form = page.locator("form[data-new-po]")
    form.get_by_label("Supplier").fill("ООО Посуда")
    form.get_by_label("Warehouse", exact=True).select_option("MSK")
    form.get_by_label("SKU, line 1", exact=True).fill("MUG")
    form.get_by_label("Units, line 1", exact=True).fill("10")
    form.get_by_label("SKU, line 2", exact=True).fill("MILK")
    form.get_by_label("Units, line 2", exact=True).fill("6")
    form.get_by_role("button", name="Record the purchase order").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Open")
    page.get_by_label("Line 1: MUG, units in this delivery").fill("4")
    page.get_by_role("button", name="Receive the delivery").click()
    refusal = page.locator("form[data-receive] .errors")
    expect(refusal).to_be_visible()  # the milk's lot is missing
    page.get_by_label("Lot (line 2)").fill("L-0612")
    page.get_by_label("Expires on (line 2)").fill("2027-01-20")
    page.get_by_role("button", name="Receive the delivery").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Partially received")
    expect(page.locator("tr[data-line='1'] [data-outstanding]")).to_have_text("6")
    assert on_hand(site, "MSK", "MUG") == 4
    milk = inventory.list_levels(site.potok.uow(), warehouse="MSK", sku="MILK").items
    assert [(r.lot, str(r.expires_on), r.on_hand) for r in milk] == [("L-0612", "2027-01-20", 6)]
    page.get_by_text("Nothing more will come", exact=True).click()
    page.get_by_label("Why", exact=True).fill("поставщик снял позицию")
    page.get_by_role("button", name="Close the purchase order").click()
    expect(page.locator(".page-head [data-status]")).to_have_text("Cancelled")
    assert run_axe(page) == []
    page.get_by_role("link", name="Purchase orders").click()
    expect(page.locator("tr[data-po]")).to_have_count(1)
    shot(page, "purchase-orders")


def test_an_invoice_is_issued_from_the_card_once_the_seller_is_known(
    site: LiveServer, page: Page, shot: Shot
) -> None:
    build_world(site.potok, {("MSK", "KET"): 10})
    placed = intake.place_order(site.potok.uow(), order_command([("KET", 2)]), TESTER)
    assert isinstance(placed, intake.Placement)
    person(site, "orlova", Role.MANAGER)
    sign_in(page, "orlova", path=f"/orders/{placed.order.id}")
    expect(page.get_by_text("No document issued yet.")).to_be_visible()

    # no seller yet: refused in the problem document's words
    page.get_by_role("button", name="Issue: Invoice for payment").click()
    refusal = page.locator("form[data-issue='invoice'] .errors")
    expect(refusal).to_be_visible()
    expect(refusal).to_have_attribute("data-code", re.compile(r".+"))

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "potok_csrf")
    made = page.request.post("/api/v1/legal-entities", data=SELLER, headers={"X-CSRF-Token": csrf})
    assert made.status == 201, made.text()
    page.get_by_role("button", name="Issue: Invoice for payment").click()
    issued = page.locator("[data-document='invoice']")
    expect(issued).to_contain_text("No. 1 of")
    expect(page.get_by_role("button", name="Issue: Invoice for payment")).to_have_count(0)
    pdf = page.request.get(issued.get_by_role("link", name="PDF").get_attribute("href") or "")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")
    assert run_axe(page) == []
    shot(page, "invoice")
