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
from datetime import date, timedelta

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
    transfers: bool = True,
) -> OnTimeBound:
    """The bound for ``orders`` on ``stock``; ``serve``: among plans that serve at least
    that many orders (the plan compared with), not fewer and easier ones. ``transfers``:
    a unit may come in time through a transfer to a hub (False: straight lanes only)."""
    return _bound(orders, stock, candidates, tariffs, rules, today, serve, transfers)[0]


def _bound(
    orders: Sequence[SourcingOrder],
    stock: Mapping[tuple[WarehouseId, ProductId], int],
    candidates: Sequence[Candidate],
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    serve: int,
    transfers: bool,
) -> tuple[OnTimeBound, np.ndarray]:
    """The bound and each order's share on time in the LP's solution."""
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
                if _in_time(site[w], o, allowed, hubs if transfers else (), hub_days, days, rules):
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
    share = np.asarray(h.getSolution().col_value)[:n]
    return OnTimeBound(n, servable, float(np.sum(share)), never, serve), share


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


@dataclass(frozen=True, slots=True)
class OnTimePlan:
    """A plan in whole units that keeps as many promises as the straight-lane bound lets it:
    the orders the bound's LP brings on time in full get their units from sites whose own
    lane is in time (a transportation problem on those lines: its vertices are whole), then
    other orders are served late from what is left, in the stream's order, until ``serve``
    orders are served. A lower bound on what a plan can keep; ``split``: orders it sends
    from more than one site (the rules' ``when_cheaper`` split policy allows that when the
    split scores better, as one late day at 1,000 ₽ nearly always does), ``over``: on-time
    orders that would need more shipments than the rules allow (counted as not on time)."""

    orders: int
    served: int
    on_time: int
    cost: float  # shipping, by the tariffs, of every shipment of the plan
    split: int
    over: int
    bound: OnTimeBound  # the straight-lane LP the plan was rounded from

    @property
    def pct(self) -> float:
        return 100 * self.on_time / max(1, self.served)


def on_time_plan(
    orders: Sequence[SourcingOrder],
    stock: Mapping[tuple[WarehouseId, ProductId], int],
    candidates: Sequence[Candidate],
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    *,
    serve: int = 0,
) -> OnTimePlan:
    """A whole plan keeping about as many promises as any plan can (see ``OnTimePlan``)."""
    import highspy

    from potok.domain.sourcing.optimiser import _new_highs

    # the LP without the ``serve`` row: faster, and the plan serves ``serve`` orders anyway
    bound, share = _bound(orders, stock, candidates, tariffs, rules, today, 0, False)
    site = {c.warehouse_id: c for c in candidates}
    holders: dict[ProductId, list[WarehouseId]] = {}
    for (w, p), q in stock.items():
        if q > 0:
            holders.setdefault(p, []).append(w)

    def lane(w: WarehouseId, o: SourcingOrder) -> tuple[float, float, int] | None:
        """Fixed fee, price per kg and days from ``w`` to the order, if it may ship it."""
        c = site[w]
        if not rules.allows_kind(o.order_type, c.kind):
            return None
        assert o.destination is not None
        km = distance_km(o.destination, (c.latitude, c.longitude))
        t = tariffs.find(c.code, km=km, region=o.region)
        if t is None:
            return None
        fixed = t.cost_estimate(0.0, km)
        return fixed, t.cost_estimate(1.0, km) - fixed, t.days

    # the orders on time in full: their lines from in-time sites, in whole units
    chosen = [j for j in range(len(orders)) if share[j] > 1 - 1e-6]
    cols: list[tuple[int, int, WarehouseId]] = []  # (order, line, site)
    cost: list[float] = []
    rows_i: list[int] = []
    n_lines = 0
    position_row: dict[tuple[WarehouseId, ProductId], int] = {}
    line_q: list[float] = []
    for j in chosen:
        o = orders[j]
        units = sum(nd.quantity for nd in o.needs)
        allowed = None if o.promised_on is None else (o.promised_on - today).days
        for li, nd in enumerate(o.needs):
            line_q.append(float(nd.quantity))
            for w in holders.get(nd.product_id, ()):
                found = lane(w, o)
                if found is None or (allowed is not None and found[2] > allowed):
                    continue
                position_row.setdefault((w, nd.product_id), -1)
                cols.append((j, li, w))
                kg = o.unit_weight_kg.get(nd.product_id, rules.default_unit_weight_kg)
                cost.append(found[0] / units + found[1] * kg)
                rows_i.append(n_lines)
            n_lines += 1
    for k, key in enumerate(position_row):
        position_row[key] = n_lines + k
    pos_i = [position_row[(w, orders[j].needs[li].product_id)] for j, li, w in cols]
    n_cols, n_rows = len(cols), n_lines + len(position_row)
    i_arr = np.ravel(np.column_stack([rows_i, pos_i])) if cols else np.zeros(0, dtype=int)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.full(n_cols, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate([line_q, np.full(len(position_row), -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([line_q, [float(stock[k]) for k in position_row]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = (2 * np.arange(n_cols + 1)).astype(np.int32)
    lp.a_matrix_.index_ = i_arr.astype(np.int32)
    lp.a_matrix_.value_ = np.ones(2 * n_cols)
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("solver", "simplex")  # a vertex: whole units (the matrix is bipartite)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"the on-time plan's transportation problem: {h.getModelStatus()}")
    x = np.asarray(h.getSolution().col_value)
    if n_cols and np.max(np.abs(x - np.round(x))) > 1e-6:
        raise RuntimeError("the transportation problem's solution is not in whole units")
    left = dict(stock)
    plans: dict[int, dict[WarehouseId, dict[ProductId, int]]] = {}
    for (j, li, w), q in zip(cols, np.round(x).astype(int), strict=True):
        if q:
            p = orders[j].needs[li].product_id
            here = plans.setdefault(j, {}).setdefault(w, {})
            here[p] = here.get(p, 0) + int(q)
            left[(w, p)] -= int(q)
            assert left[(w, p)] >= 0, "oversold"
    for j in chosen:  # one in-time site that can take the whole order from what is left
        by_site = plans.get(j, {})
        if len(by_site) < 2:
            continue
        o = orders[j]
        allowed = None if o.promised_on is None else (o.promised_on - today).days
        for w, units in by_site.items():
            for p, q in units.items():
                left[(w, p)] += q
        weight = sum(nd.quantity * o.unit_weight_kg.get(nd.product_id, 1.0) for nd in o.needs)
        best: tuple[float, WarehouseId] | None = None
        for w in {w for nd in o.needs for w in holders.get(nd.product_id, ())}:
            found = lane(w, o)
            if found is None or (allowed is not None and found[2] > allowed):
                continue
            if all(left.get((w, nd.product_id), 0) >= nd.quantity for nd in o.needs):
                price = found[0] + found[1] * weight
                if best is None or price < best[0]:
                    best = (price, w)
        if best is not None:
            by_site = {best[1]: {nd.product_id: nd.quantity for nd in o.needs}}
            plans[j] = by_site
        for w, units in by_site.items():
            for p, q in units.items():
                left[(w, p)] -= q
                assert left[(w, p)] >= 0, "oversold"
    over = sum(len(plans[j]) > rules.max_shipments for j in chosen)
    chosen_set = set(chosen)
    on_time = len(chosen) - over
    # the others served late from what is left, in the stream's order: one site holding the
    # whole order at the least shipping, else line by line from the cheapest sites
    for j, o in enumerate(orders):
        if len(plans) >= max(serve, len(chosen)):
            break
        if j in plans:
            continue
        lanes = {}
        for c in candidates:
            if (found := lane(c.warehouse_id, o)) is not None:
                lanes[c.warehouse_id] = found
        kg = {nd.product_id: o.unit_weight_kg.get(nd.product_id, 1.0) for nd in o.needs}
        whole = [w for w in lanes if all(left.get((w, nd.product_id), 0) >= nd.quantity
                                         for nd in o.needs)]  # fmt: skip
        if whole:
            w = min(whole, key=lambda w: lanes[w][0] + lanes[w][1] * sum(
                kg[nd.product_id] * nd.quantity for nd in o.needs))  # fmt: skip
            taken = {w: {nd.product_id: nd.quantity for nd in o.needs}}
        else:
            taken = {}
            for nd in o.needs:
                need = nd.quantity
                for w in sorted(lanes, key=lambda w: lanes[w][0] + lanes[w][1]):
                    q = min(need, left.get((w, nd.product_id), 0))
                    if q > 0:
                        taken.setdefault(w, {})[nd.product_id] = q
                        need -= q
                    if not need:
                        break
                if need:
                    taken = {}
                    break
            if not taken or len(taken) > rules.max_shipments:
                continue
        for w, units in taken.items():
            for p, q in units.items():
                left[(w, p)] -= q
        plans[j] = taken
    total = 0.0
    for j, by_site in plans.items():
        o = orders[j]
        slowest = 0
        for w, units in by_site.items():
            found = lane(w, o)
            assert found is not None
            kg_total = sum(q * o.unit_weight_kg.get(p, 1.0) for p, q in units.items())
            total += found[0] + found[1] * kg_total
            slowest = max(slowest, found[2])
        if j not in chosen_set:  # served late on purpose, yet some arrive in time all the same
            on_time += o.promised_on is None or today + timedelta(days=slowest) <= o.promised_on
    split = sum(len(by_site) > 1 for by_site in plans.values())
    return OnTimePlan(len(orders), len(plans), on_time, total, split, over, bound)


def main() -> None:
    """The bounds and the whole plan on one of the benchmark's networks, without the rest of
    the benchmark: ``python benchmarks/sourcing_bounds.py --network zones --orders 50000``."""
    import argparse
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import sourcing as bench
    from potok.domain.sourcing import plan

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--network", choices=("distance", "zones"), default="zones")
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--skus", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument(
        "--no-bound",
        action="store_true",
        help="skip the upper bound among plans serving as many orders as nearest (the slower "
        "LP); the whole plan is still found",
    )
    parser.add_argument(
        "--window",
        type=int,
        default=0,
        help="only the stream's first orders, on 1.2 times their own demand (as the "
        "benchmark's window); 0: the whole stream on the network's stock",
    )
    args = parser.parse_args()
    build = bench.build_zone_network if args.network == "zones" else bench.build_network
    net = build(args.orders, args.skus, args.seed)
    if args.window:
        window = net.orders[: args.window]
        net.stock, net.orders = bench.window_stock(net, window), window
    rules = RoutingRules(version="bench-default")
    pricer = bench.Pricer(net)
    nearest, _ = bench.run_decider(
        "nearest", net, rules, pricer,
        lambda o, c, p: plan(o.needs, bench.allowed(o, c, rules), p, o.destination),
    )  # fmt: skip
    serve = len(nearest.served())
    near = bench.figures(nearest, net.orders, nearest.served())
    print(f"network {args.network}, {len(net.orders):,} orders{' (the window)' if args.window else ''}; nearest-warehouse serves {serve:,}, "
          f"{near.on_time:.1f} % on time, {near.cost:,.0f} ₽")  # fmt: skip
    b = None
    if not args.no_bound:
        c0 = time.process_time()
        b = on_time_bound(net.orders, net.stock, net.candidates, net.tariffs, rules,
                          bench.TODAY, serve=serve)  # fmt: skip
        print(f"bound (through hubs too): at most {b.on_time:,.1f} of {serve:,} served on time "
              f"({b.pct:.2f} %); {b.never:,} orders have a line no stock could bring in time; "
              f"{time.process_time() - c0:.0f} s CPU")  # fmt: skip
    c0 = time.process_time()
    p = on_time_plan(net.orders, net.stock, net.candidates, net.tariffs, rules, bench.TODAY,
                     serve=serve)  # fmt: skip
    print(f"straight lanes, any number served: at most {p.bound.on_time:,.1f} of the "
          f"{p.bound.servable:,} orders with every line in stock on time")  # fmt: skip
    print(f"whole plan: {p.on_time:,} of {p.served:,} served on time ({p.pct:.2f} %), "
          f"{p.cost:,.0f} ₽ ({p.cost / max(1, p.served):.1f} ₽/order), {p.split:,} split, "
          f"{p.over} over the shipment limit; {time.process_time() - c0:.0f} s CPU")  # fmt: skip
    print(
        f"sourcing_bounds orders={len(net.orders)} network={args.network} serve={serve} "
        f"bound_pct={'-' if b is None else f'{b.pct:.2f}'} plan_on_time_pct={p.pct:.2f} plan_served={p.served} "
        f"plan_rub_per_order={p.cost / max(1, p.served):.1f}"
    )


if __name__ == "__main__":
    main()
