"""``POTOK_TIMING``: an order taken over HTTP leaves one line with the moments it passed,
in the order it passed them (``potok/timing.py``, read by ``benchmarks/intake_tail.py``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from potok import timing
from tests.factories import build_world_api, order_body

ON_THE_WAY_IN = ["queued", "thread", "authorised", "validated", "connected"]
ON_THE_WAY_OUT = ["done", "back", "end"]


def test_a_timed_order_leaves_its_moments_in_order(
    api: httpx.Client, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    monkeypatch.setattr(timing, "PATH", str(tmp_path / "timing"))
    monkeypatch.setattr(timing, "ENABLED", True)

    placed = api.post(
        "/api/v1/orders", json=order_body([("KET", 1)]), headers={"Idempotency-Key": "timed"}
    )
    assert placed.status_code == 201, placed.text
    timing.flush()

    written = (tmp_path / f"timing.{os.getpid()}").read_text().splitlines()
    requests = [json.loads(line) for line in written if '"marks"' in line]
    assert len(requests) == 1
    marks = requests[0]["marks"]
    names = [name for name, _, _ in marks]
    assert names[: len(ON_THE_WAY_IN)] == ON_THE_WAY_IN
    assert names[-len(ON_THE_WAY_OUT) :] == ON_THE_WAY_OUT
    middle = names[len(ON_THE_WAY_IN) : -len(ON_THE_WAY_OUT)]
    if backend == "postgresql":  # the snapshot's statement, timed apart
        assert middle[:2] == ["snapshot_sent", "snapshot"]
    else:
        assert middle == []
    moments = [at for _, at, _ in marks]
    assert moments == sorted(moments)
    client = placed.extensions["network_stream"].get_extra_info("client_addr")
    assert requests[0]["port"] == client[1]  # the connection it came on
