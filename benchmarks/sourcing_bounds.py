"""How many orders any plan at all could bring by their promised date: an upper bound.

The benchmark's on-time figures are measured against promises the shop made at checkout,
against the stock of the whole day. Whether a plan could keep, say, 95 % of them is a
question about the stock and the lanes, not about the engine; this module answers it
with a linear program that is more generous than any real plan:

    maximise  sum_j y_j                      (y_j: the share of order j on time, 0..1)
    s.t.      sum_s x[j,l,s] >= q_l * y_j    for every line l of order j
              sum_(j,l) x[j,l,s] <= stock[s, p]   for every position holding product p
              0 <= x[j,l,s] <= q_l, only where site s can bring line l in time

A site can bring a line in time when its lane to the order's destination takes no more
days than the promise allows, or when a transfer to any warehouse the order may ship from
(the handling days included) and that warehouse's lane do. Lines split freely, units are
fractions, no shipment limit, no cost: a real plan can only keep fewer promises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing import Candidate, RoutingRules, SourcingOrder, TariffTable
from potok.domain.sourcing.geo import distance_km

LaneDays = Callable[[Candidate, tuple[float, float], str | None], int | None]
"""Days in transit from a site to a point in a region (None: no lane)."""


@dataclass(frozen=True, slots=True)
class OnTimeBound:
    """At most ``on_time`` of the ``servable`` orders (every line in stock somewhere) can
    arrive by their promised date; ``never`` of them have a line that no stock anywhere
    could bring in time even if the order had the whole stock to itself."""

    orders: int
    servable: int
    on_time: float
    never: int
    serve: int = 0

    @property
    def pct(self) -> float:
        """On time at most, in per cent of the orders served (``serve``, else servable)."""
        return 100 * self.on_time / max(1, self.serve or self.servable)


def on_time_bound(
    orders: Sequence[SourcingOrder],
    stock: Mapping[tuple[WarehouseId, ProductId], int],
    candidates: Sequence[Candidate],
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    *,
    serve: int = 0,
) -> OnTimeBound:
    """The bound for ``orders`` on ``stock``; ``serve``: among plans that serve at least
    that many orders (the plan compared with), not fewer and easier ones."""
    import highspy

    from potok.domain.sourcing.optimiser import _new_highs

    holders: dict[ProductId, list[WarehouseId]] = {}
    total: dict[ProductId, int] = {}
    for (w, p), q in stock.items():
        if q > 0:
            holders.setdefault(p, []).append(w)
            total[p] = total.get(p, 0) + q
    site = {c.warehouse_id: c for c in candidates}
    warehouses = [c for c in candidates if c.kind == "warehouse"]
    lane_days: dict[tuple[WarehouseId, str | None, tuple[float, float] | None], int | None] = {}

    def days(c: Candidate, point: tuple[float, float], region: str | None) -> int | None:
        key = (c.warehouse_id, region, None if region else point)
        if key not in lane_days:
            km = distance_km(point, (c.latitude, c.longitude))
            t = tariffs.find(c.code, km=km, region=region)
            lane_days[key] = None if t is None else t.days
        return lane_days[key]

    n = len(orders)
    rows_i: list[int] = []
    rows_j: list[int] = []
    rows_v: list[float] = []
    row_hi: list[float] = []
    upper = [1.0] * (2 * n)  # y_j on time, z_j served at all
    position_row: dict[tuple[WarehouseId, ProductId], int] = {}
    never = servable = 0

    def entry(r: int, col: int, v: float) -> None:
        rows_i.append(r)
        rows_j.append(col)
        rows_v.append(v)

    def new_row(hi: float) -> int:
        row_hi.append(hi)
        return len(row_hi) - 1

    for j, o in enumerate(orders):
        assert o.destination is not None
        allowed = None if o.promised_on is None else (o.promised_on - today).days
        hubs = [h for h in warehouses if rules.allows_kind(o.order_type, h.kind)]
        hub_days = {h.warehouse_id: days(h, o.destination, o.region) for h in hubs}
        whole = all(total.get(nd.product_id, 0) >= nd.quantity for nd in o.needs)
        servable += whole
        late_line = False
        entry(r := new_row(0.0), j, 1.0)  # on time only if served: y_j - z_j <= 0
        entry(r, n + j, -1.0)
        for nd in o.needs:
            q = float(nd.quantity)
            fast, served = new_row(0.0), new_row(0.0)  # q y_j <= units in time, q z_j <= units
            entry(fast, j, q)
            entry(served, n + j, q)
            reachable = False
            for w in holders.get(nd.product_id, ()):
                key = (w, nd.product_id)
                if key not in position_row:
                    position_row[key] = new_row(float(stock[key]))
                col = len(upper)
                upper.append(q)
                entry(served, col, -1.0)
                entry(position_row[key], col, 1.0)
                if _in_time(site[w], o, allowed, hubs, hub_days, days, rules):
                    reachable = True
                    entry(fast, col, -1.0)
            late_line |= not reachable
        never += whole and late_line
    n_rows, n_cols = len(row_hi), len(upper)
    row_lo = np.full(n_rows, -highspy.kHighsInf)
    if serve:  # serve at least as many orders as the plan compared: sum z_j >= serve
        r = len(row_hi)
        for j in range(n):
            entry(r, n + j, 1.0)
        row_hi.append(highspy.kHighsInf)
        row_lo = np.append(row_lo, float(serve))
        n_rows += 1
    i_arr, j_arr, v_arr = np.array(rows_i), np.array(rows_j), np.array(rows_v)
    by_column = np.lexsort((i_arr, j_arr))
    i_arr, j_arr, v_arr = i_arr[by_column], j_arr[by_column], v_arr[by_column]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.concatenate([-np.ones(n), np.zeros(n_cols - n)])
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.asarray(upper, dtype=float)
    lp.row_lower_ = row_lo
    lp.row_upper_ = np.asarray(row_hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(j_arr, np.arange(n_cols + 1)).astype(np.int32)
    lp.a_matrix_.index_ = i_arr.astype(np.int32)
    lp.a_matrix_.value_ = v_arr.astype(float)
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"the on-time bound's LP did not solve: {h.getModelStatus()}")
    on_time = float(np.sum(np.asarray(h.getSolution().col_value)[:n]))
    return OnTimeBound(n, servable, on_time, never, serve)


def _in_time(
    c: Candidate,
    o: SourcingOrder,
    allowed: int | None,
    hubs: Sequence[Candidate],
    hub_days: Mapping[WarehouseId, int | None],
    lane: LaneDays,
    rules: RoutingRules,
) -> bool:
    """Whether units at ``c`` can reach the order by its promise: straight, or through a
    transfer to a warehouse that ships the order."""
    if allowed is None:
        return True
    assert o.destination is not None
    if rules.allows_kind(o.order_type, c.kind):
        d = lane(c, o.destination, o.region)
        if d is not None and d <= allowed:
            return True
    for h in hubs:
        hd = hub_days[h.warehouse_id]
        if hd is None or h.warehouse_id == c.warehouse_id:
            continue
        td = lane(c, (h.latitude, h.longitude), h.region)
        if td is not None and td + rules.transfer_handling_days + hd <= allowed:
            return True
    return False
