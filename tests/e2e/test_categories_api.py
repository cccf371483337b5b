"""Product categories over HTTP: the tree (add, move, rename, delete), products in it, and
the products of a branch."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.test_catalogue_api import PRODUCTS, product_body
from tests.problems import field_codes, problem

CATEGORIES = "/api/v1/categories"


def add(api: httpx.Client, code: str, name: str, parent: str | None = None) -> dict[str, Any]:
    response = api.post(CATEGORIES, json={"code": code, "name": name, "parent": parent})
    assert response.status_code == 201, response.text
    return dict(response.json())


def tree(api: httpx.Client, **params: str) -> list[tuple[str, list[str]]]:
    response = api.get(CATEGORIES, params=params)
    assert response.status_code == 200, response.text
    return [(c["code"], c["path"]) for c in response.json()]


def test_a_tree_is_built_moved_with_its_branch_and_listed_parent_first(
    api: httpx.Client,
) -> None:
    add(api, "home", "Дом")
    add(api, "appliances", "Техника")
    add(api, "kitchen", "Кухня", "home")
    made = add(api, "kettles", "Чайники", "kitchen")
    assert made["path"] == ["home", "kitchen", "kettles"]
    assert made["parent"] == "kitchen"

    moved = api.patch(f"{CATEGORIES}/kitchen", json={"parent": "appliances"})

    assert moved.status_code == 200, moved.text
    assert moved.json()["path"] == ["appliances", "kitchen"]
    assert tree(api) == [
        ("appliances", ["appliances"]),
        ("kitchen", ["appliances", "kitchen"]),
        ("kettles", ["appliances", "kitchen", "kettles"]),
        ("home", ["home"]),
    ]
    assert tree(api, under="kitchen") == [
        ("kitchen", ["appliances", "kitchen"]),
        ("kettles", ["appliances", "kitchen", "kettles"]),
    ]
    renamed = api.patch(f"{CATEGORIES}/kettles", json={"name": "Электрочайники"})
    assert renamed.json()["name"] == "Электрочайники"
    assert renamed.json()["path"] == ["appliances", "kitchen", "kettles"]
    top = api.patch(f"{CATEGORIES}/kitchen", json={"parent": None})
    assert top.json()["path"] == ["kitchen"]
    assert api.get(f"{CATEGORIES}/kettles").json()["path"] == ["kitchen", "kettles"]


def test_a_category_cannot_go_under_its_own_branch_nor_make_the_tree_too_deep(
    api: httpx.Client,
) -> None:
    add(api, "a", "A")
    add(api, "b", "B", "a")
    add(api, "c", "C", "b")

    problem(api.patch(f"{CATEGORIES}/a", json={"parent": "c"}), 409, "category-loop")
    body = problem(api.patch(f"{CATEGORIES}/a", json={"parent": "a"}), 422, "invalid-input")
    assert field_codes(body) == {"parent": "loop"}
    for level in range(4, 9):
        add(api, f"l{level}", f"L{level}", "c" if level == 4 else f"l{level - 1}")
    problem(
        api.post(CATEGORIES, json={"code": "l9", "name": "L9", "parent": "l8"}),
        409,
        "category-too-deep",
    )
    add(api, "x", "X")
    add(api, "y", "Y", "x")
    problem(api.patch(f"{CATEGORIES}/x", json={"parent": "l7"}), 409, "category-too-deep")
    assert tree(api, under="a")[0] == ("a", ["a"])


def test_an_unknown_parent_or_a_taken_code_is_refused(api: httpx.Client) -> None:
    add(api, "toys", "Игрушки")

    body = problem(
        api.post(CATEGORIES, json={"code": "dolls", "name": "Куклы", "parent": "nope"}),
        422,
        "invalid-input",
    )
    assert field_codes(body) == {"parent": "unknown-category"}
    problem(api.post(CATEGORIES, json={"code": "toys", "name": "Toys"}), 409, "category-code-taken")
    body = problem(
        api.put(f"{CATEGORIES}/toys", json={"code": "games", "name": "G"}), 422, "invalid-input"
    )
    assert field_codes(body) == {"code": "code-immutable"}


def test_products_carry_their_category_and_list_by_branch(api: httpx.Client) -> None:
    add(api, "appliances", "Техника")
    add(api, "kettles", "Чайники", "appliances")
    add(api, "lamps", "Лампы")
    created = api.post(PRODUCTS, json=product_body("KET-1", barcode=None, category="kettles"))
    assert created.status_code == 201, created.text
    assert created.json()["category"] == "kettles"
    api.post(PRODUCTS, json=product_body("LAMP-1", barcode=None, category="lamps"))
    api.post(PRODUCTS, json=product_body("BARE", barcode=None)).raise_for_status()

    def skus(**params: str) -> list[str]:
        return [p["sku"] for p in api.get(PRODUCTS, params=params).json()["items"]]

    assert skus(category="appliances") == ["KET-1"]
    assert skus(category="lamps") == ["LAMP-1"]
    assert skus() == ["BARE", "KET-1", "LAMP-1"]
    assert api.get(f"{PRODUCTS}/BARE").json()["category"] is None
    problem(api.get(PRODUCTS, params={"category": "nope"}), 404, "category-not-found")

    body = problem(api.patch(f"{PRODUCTS}/BARE", json={"category": "nope"}), 422, "invalid-input")
    assert field_codes(body) == {"category": "unknown-category"}
    moved = api.patch(f"{PRODUCTS}/LAMP-1", json={"category": "appliances"})
    assert moved.json()["category"] == "appliances"
    assert skus(category="appliances") == ["KET-1", "LAMP-1"]
    cleared = api.patch(f"{PRODUCTS}/LAMP-1", json={"category": None})
    assert cleared.json()["category"] is None
    assert api.get(f"{PRODUCTS}/LAMP-1").json()["category"] is None


def test_a_category_with_products_or_children_is_not_deleted(api: httpx.Client) -> None:
    add(api, "appliances", "Техника")
    add(api, "kettles", "Чайники", "appliances")
    api.post(PRODUCTS, json=product_body("KET-1", barcode=None, category="kettles"))

    problem(api.delete(f"{CATEGORIES}/appliances"), 409, "category-in-use")
    body = problem(api.delete(f"{CATEGORIES}/kettles"), 409, "category-in-use")
    assert "1 product" in body["detail"]
    api.patch(f"{PRODUCTS}/KET-1", json={"category": None}).raise_for_status()

    assert api.delete(f"{CATEGORIES}/kettles").status_code == 204
    assert api.delete(f"{CATEGORIES}/appliances").status_code == 204
    problem(api.get(f"{CATEGORIES}/kettles"), 404, "category-not-found")
