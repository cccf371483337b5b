"""Cut ``cdek-v2-subset.json`` out of СДЭК's published document (mechanically, no semantic
edits): keep the paths Potok calls and every schema they reach, drop duplicate enum values,
``default: null`` on non-nullable fields, and the Java date/time templates written where a
regular expression belongs (``pattern: "yyyy-MM-dd'T'HH:mm:ssZ"``, ``"HH:mm"``).

    python tests/simulators/specs/make_cdek_subset.py \
        ../shared/specs/carriers/cdek/openapi_api_v2_integration.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PATHS = (
    "/v2/oauth/token",
    "/v2/calculator/tarifflist",
    "/v2/calculator/tariff",
    "/v2/orders",
    "/v2/orders/{uuid}",
    "/v2/orders/{uuid}/refusal",
    "/v2/print/barcodes",
    "/v2/print/barcodes/{uuid}",
    "/v2/print/barcodes/{uuid}.pdf",
    "/v2/webhooks",
    "/v2/webhooks/{uuid}",
    "/v2/deliverypoints",
    "/v2/registries",
)
TEMPLATES = {"yyyy-MM-dd'T'HH:mm:ssZ", "<HH:mm>", "HH:mm"}


def clean(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "pattern" and value in TEMPLATES:
                continue
            if key == "default" and value is None and not node.get("nullable"):
                continue
            if key == "enum" and isinstance(value, list):
                unique: list[Any] = []
                for item in value:
                    if item not in unique:
                        unique.append(item)
                value = unique
            out[key] = clean(value)
        return out
    if isinstance(node, list):
        return [clean(item) for item in node]
    return node


def refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for item in node:
            refs(item, found)


def main(source: str) -> None:
    document = json.loads(Path(source).read_text(encoding="utf-8"))
    paths = {p: document["paths"][p] for p in PATHS}
    schemas = document["components"]["schemas"]
    wanted: set[str] = set()
    refs(paths, wanted)
    done: set[str] = set()
    while wanted - done:
        name = sorted(wanted - done)[0]
        done.add(name)
        refs(schemas[name], wanted)
    subset = {
        "openapi": document["openapi"],
        "info": {k: v for k, v in document["info"].items() if k != "description"},
        "servers": document["servers"],
        "paths": paths,
        "components": {
            "schemas": {name: schemas[name] for name in sorted(done)},
            "securitySchemes": document["components"]["securitySchemes"],
        },
    }
    target = Path(__file__).parent / "cdek-v2-subset.json"
    target.write_text(json.dumps(clean(subset), ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
