"""Sourcing over HTTP: shipping tariffs (all or nothing), versioned routing rules with who
changed them, and the dry run of the engine on orders where the right answer is known."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from potok.db.tables import audit_log, outbox_events
from tests.conftest import LiveServer
from tests.factories import build_world_api, order_body
from tests.problems import field_codes, problem

HEADER = "warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days"
TARIFFS = "\n".join(
    [
        HEADER,
        "MSK,,0,,900,20,0,1",
        "SPB,,0,,300,20,0,3",
        "KZN,,0,,300,20,0,4",
        "MSK-S,,0,,100,0,0,1",
    ]
)
COST_HEAVY = {
    "weights": {"cost": 1, "distance": 0, "day": 0, "priority": 0},
    "split": "never",
    "kinds_by_order_type": {"courier": ["warehouse"]},
}
STOCK = {("MSK", "KET"): 5, ("SPB", "KET"): 5, ("MSK-S", "KET"): 5}


def put_csv(api: httpx.Client, text: str) -> httpx.Response:
    return api.put(
        "/api/v1/sourcing/tariffs", content=text.encode(), headers={"Content-Type": "text/csv"}
    )


def place(api: httpx.Client, lines: list[tuple[str, int]], **extra: Any) -> int:
    response = api.post("/api/v1/orders", json=order_body(lines, **extra))
    assert response.status_code == 201, response.text
    order_id: int = response.json()["id"]
    return order_id


def sourcing_of(api: httpx.Client, order_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/orders/{order_id}/sourcing")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def candidate(body: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        c for c in body["dry_run"]["record"]["candidates"] if c["warehouse"] == code
    )
    return found


def test_a_tariff_file_with_bad_rows_is_refused_whole_with_every_problem_named(
    api: httpx.Client,
) -> None:
    build_world_api(api)
    text = "\n".join(
        [
            HEADER,
            "MSK,,0,,900,20,0,1",
            "NOWHERE,,0,,300,20,0,3",
            "SPB,,0,,lots,20,0,3",
            "KZN,,0,,300,20,0,soon",
        ]
    )
    body = problem(put_csv(api, text), 422, "invalid-tariff-file")
    assert [p.split(":")[0] for p in body["problems"]] == [
        "line 3, column warehouse",
        "line 4, column fixed_rub",
        "line 5, column days",
    ]
    listed = api.get("/api/v1/sourcing/tariffs").json()
    assert (listed["version"], listed["tariffs"]) == (None, [])


def test_tariffs_import_from_csv_or_json_as_new_versions(api: httpx.Client) -> None:
    build_world_api(api)
    first = put_csv(api, TARIFFS)
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["tariffs"]) == (1, 4)
    second = api.put(
        "/api/v1/sourcing/tariffs",
        json=[
            {"warehouse": "*", "min_km": 0, "max_km": 500, "fixed_rub": "350.50", "days": 2},
            {"warehouse": "MSK", "region": "Тверская область", "fixed_rub": "250", "days": 1},
        ],
    )
    assert second.status_code == 200, second.text
    assert (second.json()["version"], second.json()["tariffs"]) == (2, 2)
    listed = api.get("/api/v1/sourcing/tariffs").json()
    assert listed["version"]["version"] == 2
    band = next(t for t in listed["tariffs"] if t["warehouse"] == "*")
    assert (band["max_km"], band["fixed_rub"], band["days"]) == (500.0, "350.50", 2)
    bad = api.put("/api/v1/sourcing/tariffs", json=[{"warehouse": "MSK", "days": 1}])
    problem(bad, 422, "invalid-input")
    too_long = api.put(
        "/api/v1/sourcing/tariffs",
        json=[{"warehouse": "MSK", "fixed_rub": "1e12", "days": 99999}],
    )
    assert field_codes(problem(too_long, 422, "invalid-input")) == {
        "[0].fixed_rub": "decimal_format",
        "[0].days": "less_than_equal",
    }
    overlapping = api.put(
        "/api/v1/sourcing/tariffs",
        json=[
            {"warehouse": "MSK", "fixed_rub": "100", "days": 1, "max_km": 50},
            {"warehouse": "MSK", "fixed_rub": "100", "days": 1, "min_km": 40},
        ],
    )
    refused = problem(overlapping, 422, "invalid-tariff-file")["problems"]
    assert [p.split(":")[0] for p in refused] == ["line 3, column min_km"]
    assert api.get("/api/v1/sourcing/tariffs").json()["version"]["version"] == 2


def test_routing_rules_keep_every_version_and_who_set_it(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    built_in = api.get("/api/v1/sourcing/rules/default").json()
    assert (built_in["version"], built_in["rules"]["split"]) == (0, "only_when_needed")
    first = api.put("/api/v1/sourcing/rules/default", json={"max_shipments": 2})
    assert first.status_code == 200, first.text
    second = api.put("/api/v1/sourcing/rules/default", json=COST_HEAVY)
    assert second.json()["version"] == 2
    current = api.get("/api/v1/sourcing/rules/default").json()
    assert (current["version"], current["rules"]["split"]) == (2, "never")
    old = api.get("/api/v1/sourcing/rules/default", params={"version": 1}).json()
    assert (old["version"], old["rules"]["max_shipments"]) == (1, 2)
    versions = api.get("/api/v1/sourcing/rules/default/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert all(v["created_by"] for v in versions)
    # a channel without rules of its own follows the default
    assert api.get("/api/v1/sourcing/rules/web").json()["version"] == 2
    problem(
        api.get("/api/v1/sourcing/rules/default", params={"version": 9}),
        404,
        "routing-rules-not-found",
    )
    problem(api.put("/api/v1/sourcing/rules/nope", json={}), 404, "channel-not-found")
    bad = problem(
        api.put("/api/v1/sourcing/rules/web", json={"split": "sometimes", "colour": "red"}),
        422,
        "invalid-input",
    )
    assert field_codes(bad) == {"split": "invalid", "colour": "unknown"}
    with live.potok.engine.connect() as connection:
        trail = connection.execute(
            sa.select(audit_log.c.actor, audit_log.c.entity_id).where(
                audit_log.c.action == "sourcing.rules_changed"
            )
        ).all()
        events = connection.execute(
            sa.select(sa.func.count()).where(outbox_events.c.type == "sourcing.rules_changed")
        ).scalar()
    assert [t.entity_id for t in trail] == ["rules:default:*", "rules:default:*"]
    assert trail[0].actor == versions[0]["created_by"]
    assert events == 2


def test_the_dry_run_ships_from_the_cheaper_warehouse_under_cost_heavy_rules(
    api: httpx.Client,
) -> None:
    build_world_api(api, STOCK)
    assert put_csv(api, TARIFFS).status_code == 200
    assert api.put("/api/v1/sourcing/rules/default", json=COST_HEAVY).status_code == 200
    order_id = place(api, [("KET", 1)])
    body = sourcing_of(api, order_id)
    assert [s["action"] for s in body["stored"]] == ["reserved"]
    dry = body["dry_run"]
    assert (dry["outcome"], dry["warehouses"]) == ("decision", ["SPB"])
    record = dry["record"]
    assert record["rules_version"] == "default v1"
    assert record["total_cost_rub"] == "324.00"  # 300 + 1.2 kg x 20
    spb, msk = candidate(body, "SPB"), candidate(body, "MSK")
    assert (spb["chosen"], msk["chosen"]) == (True, False)
    assert (msk["cost_rub"], msk["days"]) == ("924.00", 1)
    assert set(spb["score_parts"]) == {
        "cost",
        "distance",
        "time",
        "last_units",
        "priority",
        "needed_later",
    }
    assert candidate(body, "MSK-S")["excluded"] == "a store does not serve courier orders"
    assert "SPB" in dry["explanation"]


def test_the_dry_run_prefers_the_fastest_warehouse_for_an_express_order(
    api: httpx.Client,
) -> None:
    build_world_api(api, STOCK)
    assert put_csv(api, TARIFFS).status_code == 200
    assert api.put("/api/v1/sourcing/rules/default", json=COST_HEAVY).status_code == 200
    order_id = place(api, [("KET", 1)], priority=9)
    dry = sourcing_of(api, order_id)["dry_run"]
    assert dry["record"]["express"] is True
    assert dry["warehouses"] == ["MSK"]


def test_the_dry_run_leaves_out_warehouses_beyond_the_channels_distance_limit(
    api: httpx.Client,
) -> None:
    build_world_api(api, STOCK)
    assert put_csv(api, TARIFFS).status_code == 200
    assert api.put("/api/v1/sourcing/rules/default", json=COST_HEAVY).status_code == 200
    limited = {**COST_HEAVY, "max_distance_km": 300}
    assert api.put("/api/v1/sourcing/rules/web", json=limited).status_code == 200
    order_id = place(api, [("KET", 1)])
    body = sourcing_of(api, order_id)
    assert body["dry_run"]["warehouses"] == ["MSK"]
    assert body["dry_run"]["record"]["rules_version"] == "web v1"
    assert "beyond the 300 km limit" in candidate(body, "SPB")["excluded"]


def test_the_dry_run_leaves_out_warehouses_without_a_tariff_to_the_region(
    api: httpx.Client,
) -> None:
    build_world_api(api, STOCK)
    regional = "\n".join(
        [HEADER, "SPB,Ленинградская область,,,100,0,0,1", "MSK,Тверская область,,,900,0,0,1"]
    )
    assert put_csv(api, regional).status_code == 200
    assert api.put("/api/v1/sourcing/rules/default", json=COST_HEAVY).status_code == 200
    body_in = order_body([("KET", 1)])
    body_in["delivery"]["address"]["region"] = "Тверская область"
    response = api.post("/api/v1/orders", json=body_in)
    assert response.status_code == 201, response.text
    body = sourcing_of(api, response.json()["id"])
    assert body["dry_run"]["warehouses"] == ["MSK"]
    assert candidate(body, "SPB")["excluded"] == "no shipping tariff reaches the destination"


def test_the_sourcing_of_an_unknown_order_is_a_problem(api: httpx.Client) -> None:
    problem(api.get("/api/v1/orders/424242/sourcing"), 404, "order-not-found")
