"""Routing rules in their JSON form: a round trip keeps them, and every bad field is named."""

from __future__ import annotations

import pytest

from potok.domain.errors import InvalidInput
from potok.domain.sourcing import RoutingRules, SplitPolicy
from potok.sandbox.data import tariffs_csv
from potok.services.sourcing import rules_from_data, rules_to_data
from potok.services.tariff_files import parse_tariffs


def test_built_in_rules_survive_a_round_trip_through_json() -> None:
    rules = RoutingRules()
    assert rules_from_data(rules_to_data(rules)) == rules


def test_settings_left_out_keep_their_built_in_values() -> None:
    rules = rules_from_data({"split": "when_cheaper", "weights": {"cost": 2}})
    assert rules.split is SplitPolicy.WHEN_CHEAPER
    assert (rules.weights.cost, rules.weights.day) == (2.0, RoutingRules().weights.day)
    assert rules.max_shipments == RoutingRules().max_shipments


def test_every_bad_setting_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules_from_data(
            {
                "split": "sometimes",
                "max_shipments": "two",
                "weights": {"cost": -1, "mood": 3},
                "kinds_by_order_type": {"courier": ["castle"], "drone": ["warehouse"]},
                "colour": "red",
            }
        )
    assert {e.field: e.code for e in caught.value.errors} == {
        "split": "invalid",
        "max_shipments": "invalid",
        "weights.cost": "invalid",
        "weights.mood": "unknown",
        "kinds_by_order_type.courier": "invalid",
        "kinds_by_order_type.drone": "unknown",
        "colour": "unknown",
    }


def test_transfer_settings_survive_a_round_trip_and_bad_ones_are_named() -> None:
    rules = RoutingRules(transfers=False, transfer_handling_days=3)
    data = rules_to_data(rules)
    assert (data["transfers"], data["transfer_handling_days"]) == (False, 3)
    assert data["weights"]["transfer"] == RoutingRules().weights.transfer
    assert rules_from_data(data) == rules
    assert rules_from_data({"weights": {"transfer": 120}}).weights.transfer == 120.0
    with pytest.raises(InvalidInput) as caught:
        rules_from_data(
            {"transfers": "yes", "transfer_handling_days": 400, "weights": {"transfer": -5}}
        )
    assert {e.field: e.code for e in caught.value.errors} == {
        "transfers": "invalid",
        "transfer_handling_days": "invalid",
        "weights.transfer": "invalid",
    }
    for days in (-1, 1.5, True):
        with pytest.raises(InvalidInput):
            rules_from_data({"transfer_handling_days": days})


def test_rules_from_before_transfers_consolidate_by_default() -> None:
    old = {k: v for k, v in rules_to_data(RoutingRules()).items() if "transfer" not in k}
    rules = rules_from_data(old)
    assert rules.transfers is True
    assert rules.transfer_handling_days == 1


def test_rules_the_engine_refuses_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules_from_data({"max_shipments": 0})
    assert [e.field for e in caught.value.errors] == ["rules"]


def test_the_sandbox_tariff_table_parses_and_prices_every_distribution_centre() -> None:
    table = parse_tariffs(tariffs_csv())
    for code in ("MSK-1", "SPB-1", "NSK-1"):
        near, far = table.find(code, km=10), table.find(code, km=3000)
        assert near is not None
        assert far is not None
        assert near.days < far.days
    assert table.find("MSK-P1", km=5) is None  # pickup points do not ship


def test_a_carrier_choice_survives_a_round_trip_through_json() -> None:
    data = {
        "carriers": {
            "among": ["cdek", "pochta"],
            "choose": "fastest",
            "by_region": {"Тверская область": "pochta"},
        }
    }
    rules = rules_from_data(data)
    assert rules.carriers is not None
    assert rules.carriers.carriers_for("Тверская область") == ("pochta",)
    assert rules.carriers.carriers_for("Москва") == ("cdek", "pochta")
    assert rules_to_data(rules)["carriers"] == data["carriers"]
    assert rules_from_data(rules_to_data(rules)) == rules
    assert "carriers" not in rules_to_data(RoutingRules())  # the table, as before


def test_a_bad_carrier_choice_names_each_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules_from_data(
            {
                "carriers": {
                    "among": ["cdek", "cdek"],
                    "choose": "prettiest",
                    "by_region": {"Москва": "не код"},
                    "colour": "red",
                }
            }
        )
    assert {e.field: e.code for e in caught.value.errors} == {
        "carriers.among": "invalid",
        "carriers.choose": "invalid",
        "carriers.by_region.Москва": "invalid",
        "carriers.colour": "unknown",
    }
