"""The warehouse floor on a phone-sized screen (390 x 844) in a real browser: a picker starts
a wave, scans bin and product (one wrong scan refused with a sound and what was expected),
reports a shortage with one tap, packs a parcel with a marking code (a bad code refused, what
was typed kept) and hands it over to the sandbox carrier."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from potok.domain.access import Role
from potok.domain.catalogue import ProductDraft
from potok.domain.fulfilment import UnitIdentifier
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.inventory.locations import LocationDraft
from potok.services import catalogue, intake, inventory, locations
from potok.services import orders as order_service
from potok.services.fulfilment import reads, release
from tests.browser.conftest import person, run_axe, sign_in
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world, order_command

Shot = Callable[[Page, str], Path]
PHONE = {"width": 390, "height": 844}
SHOE_BARCODE = "4650000000010"
KETTLE_BARCODE = "4601234567893"


def marking_code(serial: str) -> str:
    """A Честный ЗНАК code of the shoe (its GTIN, a serial, the crypto tail), GS-separated."""
    return f"010465000000001021{serial}\x1d91EE10\x1d92" + "Q" * 44


@pytest.fixture
def phone(browser: Browser, site: LiveServer) -> Iterator[Page]:
    """A phone-sized page that fails its test if the console's script throws."""
    context: BrowserContext = browser.new_context(
        base_url=site.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        timezone_id="Europe/Moscow",
        locale="en-GB",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def floor_world(site: LiveServer) -> tuple[int, int]:
    """Shoes (a marking code per pair) in bin A-01 and three kettles in A-02 at MSK, more
    kettles at SPB; two orders reserved at MSK. Their numbers, the most urgent first."""
    potok = site.potok
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "KET"): 4})
    catalogue.create_product(
        potok.uow(),
        ProductDraft(
            "SHOE",
            "Кроссовки",
            Decimal("5990.00"),
            Decimal("22"),
            SHOE_BARCODE,
            800,
            unit_identifiers=frozenset({UnitIdentifier.MARKING}),
        ),
    )
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "SHOE", 5), TESTER)
    for sequence, (sku, bin_code) in enumerate((("SHOE", "A-01"), ("KET", "A-02")), start=1):
        locations.create_location(potok.uow(), "MSK", LocationDraft(bin_code, "A", sequence))
        locations.place_stock(potok.uow(), "MSK", sku, bin_code)
    numbers = []
    for lines, priority in (([("SHOE", 1), ("KET", 1)], 5), ([("KET", 2)], 0)):
        placed = intake.place_order(potok.uow(), order_command(lines, priority=priority), TESTER)
        assert isinstance(placed, intake.Placement)
        assert placed.order.id is not None
        assert placed.order.status.value == "reserved"
        numbers.append(placed.order.id)
    return numbers[0], numbers[1]


def scan(page: Page, code: str, quantity: int = 1) -> None:
    page.get_by_label("Scan or type a code").fill(code)
    if quantity != 1:
        page.get_by_label("Units").fill(str(quantity))
    page.get_by_label("Scan or type a code").press("Enter")


def test_a_picker_picks_packs_and_hands_over_a_wave_on_a_phone(
    site: LiveServer, phone: Page, shot: Shot
) -> None:
    urgent, other = floor_world(site)
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))
    sign_in(phone, "petrov", path="/floor")
    expect(phone.get_by_role("heading", name="Warehouse MSK")).to_be_visible()
    shot(phone, "home")

    phone.get_by_role("button", name="Start a wave").click()
    expect(phone.get_by_role("heading", name=re.compile(r"Wave W-\d+"))).to_be_visible()
    target = phone.locator("[data-target]")
    expect(target.locator("[data-bin-code]")).to_have_text("A-01")
    expect(target.locator("[data-product]")).to_have_text("Кроссовки")
    expect(phone.locator("[data-scan-step]")).to_have_text("Scan the bin label")
    expect(phone.get_by_label("Scan or type a code")).to_be_focused()

    # the bin's label, then a mug, which no order of the wave wants: refused, with what was
    # expected
    scan(phone, "A-01")
    expect(phone.locator("[data-scan-step]")).to_have_text("Scan the product")
    scan(phone, "MUG")
    bad = phone.locator("[data-scan-log] li.bad").first
    expect(bad).to_have_text("This product is not to be picked here · MUG")
    refusal = phone.locator("form[data-scan-form] .errors")
    expect(refusal).to_have_attribute("data-code", "wrong-product")
    expect(refusal).to_contain_text("expected one of: KET, SHOE")
    expect(phone.get_by_label("Scan or type a code")).to_have_value("")
    expect(phone.get_by_label("Scan or type a code")).to_be_focused()
    shot(phone, "wrong-scan")

    scan(phone, SHOE_BARCODE)
    expect(phone.locator("body[data-scans='1']")).to_have_count(1)
    expect(target.locator("[data-bin-code]")).to_have_text("A-02")  # the next bin on the walk
    expect(phone.locator("[data-scan-log] li.good").first).to_have_text("Put 1 into slot 1")

    # a bin that is not this one is refused here, before anything is sent
    scan(phone, "A-01")
    expect(phone.locator("[data-scan-log] li.bad").first).to_have_text(
        "Wrong bin: this is A-01, go to A-02"
    )
    scan(phone, "A-02")

    # the answer to two kettles is lost on the way back (the Wi-Fi drops): scanned again, the
    # same request carries the same Idempotency-Key and is not picked twice
    lost: list[str] = []

    def lose_the_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.request.headers.get("idempotency-key", ""))
        route.fetch()  # the server picks them
        route.abort()

    phone.route("**/api/v1/waves/*/picks", lose_the_answer)
    scan(phone, KETTLE_BARCODE, quantity=2)
    expect(phone.locator("[data-scan-log] li.bad").first).to_have_text(
        f"The server cannot be reached · {KETTLE_BARCODE}"
    )
    scan(phone, KETTLE_BARCODE, quantity=2)
    expect(phone.locator("body[data-scans='2']")).to_have_count(1)
    assert lost[0] != ""
    phone.unroute("**/api/v1/waves/*/picks")
    expect(target.locator("[data-line-left]")).to_have_text("1")
    shot(phone, "picking")

    # the third kettle is not on the shelf: one tap, and the rest is sourced again
    phone.get_by_text("Not on the shelf").click()
    phone.get_by_role("button", name="Report 1 missing").click()
    expect(phone.get_by_text("Everything is picked. Pack each order:")).to_be_visible()
    expect(phone.locator("#flash")).to_contain_text("Shortage reported")
    assert order_service.get_order(site.potok.uow(), other).order.status.value == ("in_fulfilment")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert run_axe(phone) == []

    # pack the urgent order: the shoe's marking code, first a wrong one
    shipment = reads.order_shipments(site.potok.uow(), urgent)[0]
    phone.locator(f"a[data-shipment='{shipment.id}']").click()
    expect(phone.get_by_role("heading", name="Pack a parcel")).to_be_visible()
    code_field = phone.get_by_label("Marking code · unit 1")
    code_field.fill("010465000000001721bad")
    phone.get_by_label("Weight, g").fill("2100")
    phone.get_by_role("button", name="Pack the parcel").click()
    errors = phone.locator("form[data-pack-form] .errors")
    expect(errors).to_be_visible()
    expect(code_field).to_have_value("010465000000001721bad")
    expect(phone.get_by_label("Weight, g")).to_have_value("2100")
    shot(phone, "bad-code")
    code_field.fill(marking_code("pair-1"))
    phone.get_by_role("button", name="Pack the parcel").click()
    expect(phone.locator("[data-shipment-status]")).to_have_text("Packed")
    expect(phone.locator("[data-parcel='1']")).to_contain_text("2 units")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert run_axe(phone) == []
    shot(phone, "packed")

    # hand over to the sandbox carrier: a tracking number comes back
    phone.get_by_label("Carrier", exact=True).select_option("sandbox")
    phone.get_by_role("button", name="Hand over").click()
    expect(phone.locator("[data-shipment-status]")).to_have_text("Handed over")
    expect(phone.locator("[data-tracking]")).to_have_text(re.compile(r"^SBX"))
    shot(phone, "handed-over")
    assert order_service.get_order(site.potok.uow(), urgent).order.status.value == "shipped"


def test_the_floor_speaks_russian_and_keeps_other_warehouses_out(
    site: LiveServer, phone: Page, shot: Shot
) -> None:
    floor_world(site)
    person(site, "sokolova", Role.WAREHOUSE, ("SPB",))
    sign_in(phone, "sokolova", path="/floor")
    expect(phone.get_by_role("heading", name="Warehouse SPB")).to_be_visible()
    wave = release.create_wave(site.potok.uow(), "MSK", TESTER, max_orders=10).wave
    shipment = reads.list_shipments(site.potok.uow(), warehouses=["MSK"]).items[0]
    phone.get_by_role("link", name="Русский").click()
    expect(phone.get_by_role("heading", name="Склад SPB")).to_be_visible()
    expect(phone.get_by_role("button", name="Собрать волну")).to_be_visible()
    expect(phone.get_by_text("Ни одна волна не ждёт.")).to_be_visible()  # MSK's is not hers
    shot(phone, "home-ru")
    for path in (f"/floor/waves/{wave.number}", f"/floor/shipments/{shipment.id}"):
        answer = phone.goto(path)
        assert answer is not None
        assert answer.status == 404


def test_a_packer_changes_the_carrier_to_book_before_handing_over(
    site: LiveServer, phone: Page, shot: Shot
) -> None:
    """The shipment page offers the carrier to book with until the shipment is booked: the
    change is a step of the shipment, and the hand-over then offers that carrier first."""
    build_world(site.potok, {("MSK", "KET"): 2})
    placed = intake.place_order(site.potok.uow(), order_command([("KET", 1)]), TESTER)
    assert isinstance(placed, intake.Placement)
    (shipment,) = release.release_order(site.potok.uow(), placed.order.id or 0, "MSK", TESTER)
    person(site, "petrov", Role.WAREHOUSE, ("MSK",))
    sign_in(phone, "petrov", path=f"/floor/shipments/{shipment.id}")
    expect(phone.get_by_role("heading", name="Carrier to book")).to_be_visible()
    phone.get_by_label("Book with").select_option("sandbox")
    phone.get_by_label("Why").fill("the courier comes at five")
    phone.get_by_role("button", name="Change the carrier").click()
    expect(phone.locator("#flash")).to_contain_text("Carrier changed")
    expect(phone.get_by_label("Book with")).to_have_value("sandbox")
    view = reads.get_shipment(site.potok.uow(), shipment.id or 0)
    assert view.shipment.planned_carrier == "sandbox"
    step = view.steps[-1]
    assert (step.action, step.reason, step.details["by"]) == (
        "carrier_planned",
        "the courier comes at five",
        "operator",
    )
    assert run_axe(phone) == []
    shot(phone, "carrier-planned")
