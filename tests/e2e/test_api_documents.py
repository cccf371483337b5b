"""What the API says about itself: the OpenAPI document, the docs page, health, unknown routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.problems import problem

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def error_responses(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        status: response for status, response in operation["responses"].items() if status[0] in "45"
    }


@pytest.fixture
def document(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def test_the_openapi_document_describes_every_path_under_api_v1(
    document: dict[str, Any],
) -> None:
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Potok"
    assert document["info"]["version"]
    paths = set(document["paths"])
    outside = {path for path in paths if not path.startswith("/api/v1/")}
    assert outside == {"/metrics"}  # Prometheus scrapes its conventional path
    assert {
        "/api/v1/orders",
        "/api/v1/orders/{order_id}/holds/{hold_no}/release",
        "/api/v1/products/{sku}",
        "/api/v1/channels/{code}/availability",
        "/api/v1/warehouses/{code}",
        "/api/v1/stock/levels",
        "/api/v1/stock/reconciliation",
        "/api/v1/health",
    } <= paths
    for method, path, operation in operations(document):
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert operation["responses"], f"{method} {path} documents no response"


def test_the_problem_schema_has_the_members_every_problem_carries(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    problem_schema = schemas["Problem"]

    assert set(problem_schema["required"]) == {
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "code",
    }
    assert "errors" in problem_schema["properties"]
    assert "FieldProblem" in schemas


def test_every_documented_problem_refers_to_the_problem_schema(document: dict[str, Any]) -> None:
    problems = 0
    for method, path, operation in operations(document):
        for status, response in error_responses(operation).items():
            content = response.get("content", {})
            if PROBLEM_JSON not in content:
                continue
            problems += 1
            assert content[PROBLEM_JSON]["schema"] == {"$ref": PROBLEM_REF}, (method, path, status)
            assert response["description"], (method, path, status)
    assert problems > 50


def test_every_route_with_a_path_parameter_documents_its_not_found_problem(
    document: dict[str, Any],
) -> None:
    for method, path, operation in operations(document):
        if "{" not in path:
            continue
        not_found = operation["responses"].get("404")
        assert not_found is not None, f"{method} {path} documents no 404"
        expected = "application/json" if (method.upper(), path) in OWN_FORMAT else PROBLEM_JSON
        assert expected in not_found["content"], f"{method} {path}"


def test_actions_document_conflict_and_stale_version_problems(document: dict[str, Any]) -> None:
    paths = document["paths"]

    for action in ("confirmation", "cancellation", "holds", "payment"):
        responses = paths[f"/api/v1/orders/{{order_id}}/{action}"]["post"]["responses"]
        assert {"404", "409", "412", "422"} <= set(responses), action
        assert all(PROBLEM_JSON in responses[s]["content"] for s in ("409", "412")), action
    write_off = paths["/api/v1/stock/write-offs"]["post"]["responses"]
    assert "write-off-exceeds-stock" in write_off["422"]["description"]


# A refused file upload may answer its problems as a report file in the upload's own format
# (asked for with Accept); the problem document stays the default.
REPORT_FILES = {
    ("PUT", "/api/v1/files/stock-levels", "422"),
    ("PUT", "/api/v1/files/stock-rules", "422"),
    ("PUT", "/api/v1/files/products", "422"),
    ("PUT", "/api/v1/files/store-receipts", "422"),
    ("PUT", "/api/v1/files/orders", "422"),
}
# A route a marketplace calls answers in that marketplace's own format (what its documentation
# says the marketplace reads back), errors included: never a problem document.
OWN_FORMAT = {
    ("POST", "/api/v1/marketplaces/{code}/ozon-notifications"),
    ("POST", "/api/v1/marketplaces/{code}/yandex-market/{token}/notification"),
}
# ... except what Potok's guards refuse before any route runs (a body too large or of another
# media type, a malformed query or path): those stay problem documents everywhere.
BEFORE_THE_ROUTE = {"413", "415", "422"}
REPORT_TYPES = {
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def test_every_documented_error_response_is_a_problem_document(document: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in operations(document):
        for status, response in error_responses(operation).items():
            types = set(response.get("content", {}))
            if (method.upper(), path, str(status)) in REPORT_FILES:
                types -= REPORT_TYPES
            if (method.upper(), path) in OWN_FORMAT and str(status) not in BEFORE_THE_ROUTE:
                if types != {"application/json"}:
                    wrong.append(f"{method} {path} {status}: {sorted(types)}")
                continue
            if types != {PROBLEM_JSON}:
                wrong.append(f"{method} {path} {status}: {sorted(types)}")

    assert wrong == []


def test_a_bad_query_parameter_is_answered_as_a_problem_document(api: httpx.Client) -> None:
    response = api.get("/api/v1/products", params={"limit": 0})

    body = problem(response, 422, "invalid-input")
    assert [e["field"] for e in body["errors"]] == ["limit"]


def test_the_interactive_docs_answer(api: httpx.Client) -> None:
    response = api.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/v1/openapi.json" in response.text


def test_health_says_the_service_and_its_database_are_fine(api: httpx.Client) -> None:
    response = api.get("/api/v1/health")

    assert response.status_code == 200
    health = response.json()
    assert (health["status"], health["database"], health["schema"]) == ("ok", "ok", "current")
    assert health["version"]


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/orders", "/favicon.ico"])
def test_an_unknown_path_is_a_not_found_problem(api: httpx.Client, path: str) -> None:
    response = api.get(path)

    assert problem(response, 404, "not-found")["instance"] == path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/orders"),
        ("GET", "/api/v1/orders/1/confirmation"),
        ("PATCH", "/api/v1/stock/levels"),
        ("POST", "/api/v1/health"),
    ],
)
def test_a_wrong_method_is_a_method_not_allowed_problem(
    api: httpx.Client, method: str, path: str
) -> None:
    response = api.request(method, path)

    problem(response, 405, "method-not-allowed")
    assert response.headers["allow"]


def test_a_wrong_method_names_the_allowed_one(api: httpx.Client) -> None:
    response = api.put("/api/v1/orders/1/confirmation")

    problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"
