"""Every input the API takes is bounded and strict: walked from the OpenAPI document (bodies,
path, query and header parameters) and from the request models themselves, so a route added
later with a bare ``int`` or ``str`` fails here rather than in a hostile client's hands."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import potok.api.schemas
from potok.api.app import create_app
from potok.api.schemas.common import Schema, iso_text, json_integer
from potok.bootstrap import bootstrap
from tests.conftest import _settings

Found = tuple[str, str]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("openapi") / "potok.db"
    potok = bootstrap(_settings(f"sqlite:///{path}"))
    try:
        return create_app(potok=potok).openapi()
    finally:
        potok.close()


def unbounded(schema: dict[str, Any], components: dict[str, Any], where: str) -> Iterator[Found]:
    """Each integer without both bounds, number without both bounds, string without a
    maximum length (enumerations and dates aside) and array without a maximum length."""
    yield from _walk(schema, components, where, frozenset())


def _walk(
    schema: dict[str, Any], components: dict[str, Any], where: str, seen: frozenset[str]
) -> Iterator[Found]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _walk(components[name], components, where, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _walk(option, components, where, seen)
    kind = schema.get("type")
    has_low = "minimum" in schema or "exclusiveMinimum" in schema
    has_high = "maximum" in schema or "exclusiveMaximum" in schema
    if kind in ("integer", "number") and not (has_low and has_high):
        yield where, f"{kind} without minimum and maximum"
    if (
        kind == "string"
        and "maxLength" not in schema
        and "enum" not in schema
        and "const" not in schema
        and schema.get("format") not in ("date", "date-time", "binary")
    ):
        yield where, "string without maxLength"
    if kind == "array":
        if "maxItems" not in schema:
            yield where, "array without maxItems"
        yield from _walk(schema.get("items", {}), components, f"{where}[]", seen)
    for name, sub in schema.get("properties", {}).items():
        yield from _walk(sub, components, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _walk(extra, components, f"{where}.*", seen)


def request_inputs(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                where = f"{label} {parameter['in']} {parameter['name']}"
                yield where, parameter.get("schema", {})
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                yield f"{label} body ({media_type})", content.get("schema", {})


def test_every_request_integer_string_and_array_is_bounded(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    inputs = list(request_inputs(document))
    assert len(inputs) > 150  # the walk reaches bodies and parameters of every operation

    found = [f for where, schema in inputs for f in unbounded(schema, components, where)]

    assert found == []


def test_the_walk_finds_what_it_looks_for() -> None:
    schema = {
        "type": "object",
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
            "ok": {"type": "string", "maxLength": 3},
        },
    }
    components = {"Tag": {"type": "string", "maxLength": 10}}

    assert sorted(unbounded(schema, components, "body")) == [
        ("body.count", "integer without minimum and maximum"),
        ("body.name", "string without maxLength"),
        ("body.tags", "array without maxItems"),
    ]


# ---------------------------------------------------------------------- strict models


def request_models() -> list[type[BaseModel]]:
    package = Path(potok.api.schemas.__file__).parent
    for module in pkgutil.iter_modules([str(package)]):
        importlib.import_module(f"potok.api.schemas.{module.name}")
    models: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [Schema]
    while pending:
        model = pending.pop()
        for sub in model.__subclasses__():
            models.append(sub)
            pending.append(sub)
    return models


def lax_scalars(core: Any, where: str) -> Iterator[str]:
    """Integers, floats, booleans, dates and moments anywhere in a pydantic core schema that
    accept other types (``true`` for 1, ``"2"`` for 2, ``0.5`` for a moment of 1970): neither
    strict nor behind ``json_integer`` or ``iso_text``."""
    if isinstance(core, dict):
        kind = core.get("type")
        if kind == "function-before" and core["function"].get("function") in (
            json_integer,
            iso_text,
        ):
            return  # JSON integers only (2, 2.0; never true, "2" or 2.5); ISO 8601 text only
        if kind in ("int", "float", "bool", "date", "datetime") and not core.get("strict"):
            yield f"{where}: lax {kind}"
        for key, value in core.items():
            if key not in ("metadata", "serialization"):
                yield from lax_scalars(value, f"{where}.{key}" if key == "fields" else where)
    elif isinstance(core, list):
        for item in core:
            yield from lax_scalars(item, where)


def test_every_request_number_and_flag_is_strict() -> None:
    models = request_models()
    assert len(models) > 40

    lax = [
        f for model in models for f in lax_scalars(model.__pydantic_core_schema__, model.__name__)
    ]

    assert lax == []


def test_a_bare_int_is_seen_as_lax() -> None:
    class Loose(BaseModel):  # not a Schema: it must not join the walk above
        count: int = 0
        items: list[bool] = []

    assert list(lax_scalars(Loose.__pydantic_core_schema__, "Loose")) == [
        "Loose.fields: lax int",
        "Loose.fields: lax bool",
    ]
