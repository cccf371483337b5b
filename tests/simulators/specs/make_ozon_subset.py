"""Cut ``ozon-fbs-subset.json`` out of Ozon's full Seller API document the way the shared
``ozon-fbs-subset.sanitized.json`` was cut (mechanically, no semantic edits): keep the paths
Potok calls and every schema they reach, ``info.version`` as a string, drop keys whose value
is null, ``type: "array of strings"`` as an array of strings, one server.

The first twelve paths are the shared subset's; with only those this script writes that
file byte for byte in content (checked by ``--check``). The marking-code methods
(``/v6/fbs/posting/product/exemplar/*``, ``/v5/.../status``) are added after them.

    python tests/simulators/specs/make_ozon_subset.py \
        ../shared/specs/ozon/seller-api-swagger.ru.json
    python tests/simulators/specs/make_ozon_subset.py --check \
        ../shared/specs/ozon/seller-api-swagger.ru.json \
        ../shared/specs/ozon/ozon-fbs-subset.sanitized.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

SHARED = (
    "/v3/posting/fbs/unfulfilled/list",
    "/v3/posting/fbs/list",
    "/v3/posting/fbs/get",
    "/v4/posting/fbs/ship",
    "/v2/posting/fbs/cancel",
    "/v2/posting/fbs/cancel-reason/list",
    "/v2/products/stocks",
    "/v4/product/info/stocks",
    "/v1/product/info/stocks-by-warehouse/fbs",
    "/v1/warehouse/list",
    "/v3/product/list",
    "/v3/product/info/list",
)
MARKS = (
    "/v6/fbs/posting/product/exemplar/create-or-get",
    "/v6/fbs/posting/product/exemplar/set",
    "/v5/fbs/posting/product/exemplar/status",
)
DESCRIPTION = (
    "Subset of the Ozon Seller API spec (FBS postings + stocks), mechanically sanitised for "
    "OpenAPI 3.0 validity. See README."
)
_REF = re.compile(r'"#/components/schemas/([^"]+)"')


def clean(node: Any) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if value is None:
                continue
            if key == "type" and value == "array of strings":
                out["type"], out["items"] = "array", {"type": "string"}
                continue
            out[key] = clean(value)
        return out
    if isinstance(node, list):
        return [clean(value) for value in node]
    return node


def subset(full: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    schemas = full["components"]["schemas"]
    reached: list[str] = []
    todo: list[Any] = [full["paths"][p] for p in paths]
    while todo:
        for name in _REF.findall(json.dumps(todo.pop())):
            if name not in reached:
                reached.append(name)
                todo.append(schemas[name])
    info = clean(full["info"])
    info["version"] = str(info["version"])
    info["description"] = DESCRIPTION
    return {
        "openapi": full["openapi"],
        "info": info,
        "servers": [{"url": "https://api-seller.ozon.ru"}],
        "paths": {p: clean(full["paths"][p]) for p in paths},
        "components": {
            "parameters": clean(full["components"]["parameters"]),
            "schemas": {name: clean(schemas[name]) for name in sorted(reached)},
        },
    }


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--check":
        full = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        shared = json.loads(Path(argv[2]).read_text(encoding="utf-8"))
        same = subset(full, SHARED) == shared
        print("the shared subset is reproduced" if same else "the shared subset differs")
        return 0 if same else 1
    full = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    target = Path(__file__).with_name("ozon-fbs-subset.json")
    text = json.dumps(subset(full, SHARED + MARKS), ensure_ascii=False, indent=2)
    target.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
