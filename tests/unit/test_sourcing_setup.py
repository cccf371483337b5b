"""What intake and re-sourcing decide by: the rules in force for a channel and order type,
the built-in tariff bands before any import, and a decision's record kept as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from potok.domain.kernel import ChannelId
from potok.domain.sourcing import RoutingRules, SourcingRecord
from potok.domain.sourcing.setup import build_setup, rules_to_data
from potok.domain.sourcing.tariffs import built_in_tariffs
from potok.domain.sourcing.versions import RulesVersion
from tests.unit.test_sourcing_engine import order, run, site, stock, tariff

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEB, MP = ChannelId(1), ChannelId(2)


def version(channel: str | None, order_type: str, number: int, **rules: object) -> RulesVersion:
    return RulesVersion(channel, order_type, number, dict(rules), "tester", AT)


def test_the_rules_in_force_fall_back_from_type_to_channel_to_default_to_built_in() -> None:
    setup = build_setup(
        None,
        (),
        [
            (WEB, version("web", "pickup", 3, split="never")),
            (WEB, version("web", "*", 2, max_shipments=2)),
            (None, version(None, "*", 5, keep_last_units=4)),
        ],
        [MP],
    )
    assert setup.rules_for(WEB, "pickup").version == "web/pickup v3"
    assert setup.rules_for(WEB, "courier").version == "web v2"
    assert setup.rules_for(WEB, "courier").max_shipments == 2
    assert setup.rules_for(MP, "marketplace").version == "default v5"
    assert setup.rules_for(MP, "marketplace").keep_last_units == 4
    assert build_setup(None, (), []).rules_for(WEB, "courier").version == "built-in"


def test_before_any_import_the_built_in_bands_price_nearer_shipments_lower_and_faster() -> None:
    table = build_setup(None, (), []).tariffs
    assert table.version == "built-in"
    near = table.quote("ANY", km=20, weight_kg=1.0)
    far = table.quote("ANY", km=2000, weight_kg=1.0)
    farthest = table.quote("ANY", km=8000, weight_kg=1.0)
    assert near is not None
    assert far is not None
    assert farthest is not None
    assert (near.cost, near.days) == (Decimal("260.00"), 1)
    assert (far.cost, far.days) == (Decimal("2630.00"), 5)
    assert near.cost < far.cost < farthest.cost
    assert near.days < far.days < farthest.days
    assert built_in_tariffs().find("X", km=0.0) is not None


def test_a_record_survives_its_trip_through_json() -> None:
    sites = [site(1, "A", 10), site(2, "B", 20), site(3, "EMPTY", 5)]
    decision = run(
        order((1, 2)),
        sites,
        [stock(1, 1, 5), stock(2, 1, 5)],
        [tariff("A", "100"), tariff("B", "200")],
    )
    record = decision.record
    assert record is not None
    stored = json.loads(json.dumps(record.to_data()))
    back = SourcingRecord.from_data(stored)
    assert back.summary == record.summary
    assert back.total_cost == record.total_cost
    assert back.shipments == record.shipments
    assert [(c.code, c.chosen, c.excluded, c.cost) for c in back.candidates] == [
        (c.code, c.chosen, c.excluded, c.cost) for c in record.candidates
    ]
    assert [c.breakdown() for c in back.candidates] == [c.breakdown() for c in record.candidates]
    assert (back.rules_version, back.tariffs_version, back.decided_on) == (
        record.rules_version,
        record.tariffs_version,
        record.decided_on,
    )


def test_stored_rules_parse_back_to_the_same_rules_labelled_with_their_version() -> None:
    stored = rules_to_data(RoutingRules(max_shipments=2, keep_last_units=1))
    setup = build_setup(None, (), [(None, version(None, "*", 1, **stored))])
    rules = setup.rules_for(None, "courier")
    assert rules.version == "default v1"
    assert rules == RoutingRules(version="default v1", max_shipments=2, keep_last_units=1)
