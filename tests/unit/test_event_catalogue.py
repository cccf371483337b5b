"""The event catalogue in docs/integrators.md names exactly the types the code can raise."""

from __future__ import annotations

import re
from pathlib import Path

from potok.domain.webhooks import INTERNAL_AGGREGATES, wants
from potok.domain.webhooks.catalogue import event_kinds, event_types

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrators.md"


def _documented() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Events") : text.index("### The envelope")]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    first_cells = [row.split("|")[1] for row in rows]
    return {t for cell in first_cells for t in re.findall(r"`([a-z_]+\.[a-z_]+)`", cell)}


def test_the_documented_catalogue_is_the_one_in_the_code() -> None:
    documented = _documented()
    internal = {t for t in documented if t.split(".", 1)[0] in INTERNAL_AGGREGATES}
    assert documented - internal == event_types()


def test_the_catalogue_knows_each_type_with_its_fields() -> None:
    kinds = {k.type: k for k in event_kinds()}
    assert kinds["order.status_changed"].fields == (
        "occurred_at",
        "order_id",
        "from_status",
        "to_status",
        "reason",
    )
    assert kinds["stock.changed"].aggregate == "stock"
    assert "shipment.tracked" not in kinds  # a base of the tracking events, never raised
    assert not any(t.startswith(("user.", "api_key.", "webhook.")) for t in kinds)


def test_patterns_take_exact_types_aggregates_and_everything_but_administration() -> None:
    assert wants(["order.*"], "order.created")
    assert not wants(["order.*"], "stock.changed")
    assert wants(["stock.changed"], "stock.changed")
    assert not wants(["stock.changed"], "stock.changed_more")
    assert wants(["*"], "wave.done")
    assert not wants(["*"], "user.signed_in")
    assert not wants(["*"], "webhook.subscribed")
