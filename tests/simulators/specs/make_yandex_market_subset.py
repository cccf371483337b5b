"""Cut ``yandex-market-partner-subset.json`` out of Yandex Market's Partner API document
(the single-file bundle in ``../shared/specs/yandex-market/derived/``, itself Market's
``yandex-market-partner-api`` @ ``1318e9b8`` with every ``$ref`` resolved): keep the paths
Potok calls and every component they reach, unchanged; the two deprecated order methods
are left out on purpose (the simulator answers them 410 and counts the call as invalid).

    python tests/simulators/specs/make_yandex_market_subset.py \\
        ../shared/specs/yandex-market/derived/partner-api.openapi.bundled.yaml
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

PATHS = (
    "/v1/businesses/{businessId}/orders",
    "/v2/campaigns/{campaignId}/orders/{orderId}/status",
    "/v2/campaigns/{campaignId}/orders/status-update",
    "/v2/campaigns/{campaignId}/orders/{orderId}/boxes",
    "/v2/campaigns/{campaignId}/orders/{orderId}/cancellation/accept",
    "/v2/campaigns/{campaignId}/orders/{orderId}/delivery/labels",
    "/v2/campaigns/{campaignId}/offers/stocks",
    "/v2/campaigns/{campaignId}/first-mile/shipments",
    "/v2/campaigns/{campaignId}/first-mile/shipments/{shipmentId}/confirm",
    "/v2/campaigns/{campaignId}/first-mile/shipments/{shipmentId}",
    "/v2/campaigns/{campaignId}/first-mile/shipments/{shipmentId}/act",
    "/v2/campaigns/{campaignId}/first-mile/shipments/{shipmentId}/transportation-waybill",
    "/v2/campaigns/{campaignId}/first-mile/shipments/{shipmentId}/orders/transfer",
    "/v2/campaigns/{campaignId}/returns",
    "/v2/campaigns/{campaignId}/orders/{orderId}/returns/{returnId}",
)
_REF = re.compile(r'"#/components/([a-zA-Z]+)/([^"]+)"')


def subset(full: dict[str, Any]) -> dict[str, Any]:
    components = full["components"]
    reached: dict[str, set[str]] = {}
    todo: list[Any] = [full["paths"][p] for p in PATHS]
    while todo:
        for kind, name in _REF.findall(json.dumps(todo.pop())):
            if name not in reached.setdefault(kind, set()):
                reached[kind].add(name)
                todo.append(components[kind][name])
    kept: dict[str, Any] = {
        kind: {name: components[kind][name] for name in sorted(names)}
        for kind, names in sorted(reached.items())
    }
    kept["securitySchemes"] = components["securitySchemes"]
    return {
        "openapi": full["openapi"],
        "info": full["info"],
        "servers": full["servers"],
        "security": full["security"],
        "paths": {p: full["paths"][p] for p in PATHS},
        "components": kept,
    }


def main(argv: list[str]) -> int:
    full = yaml.safe_load(Path(argv[0]).read_text(encoding="utf-8"))
    target = Path(__file__).with_name("yandex-market-partner-subset.json")
    text = json.dumps(subset(full), ensure_ascii=False, indent=1, default=str)
    target.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
