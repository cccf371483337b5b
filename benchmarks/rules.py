"""Automation rules benchmark: 200 active rules evaluated on every order taken.

    python benchmarks/rules.py --db sqlite --orders 300
    python benchmarks/rules.py --db postgresql --orders 300 --rounds 4

A fresh database (PostgreSQL: the database ``potok_bench_rules``, or the one
``POTOK_BENCH_RULES_DATABASE`` names; SQLite: a temporary file) gets a channel, two
warehouses and 40 products with deep stock, and ``--rules`` rules waiting for
``order.created`` - conditions over the channel, total, SKUs, units, delivery, the
customer's history, the hour; one matches every order and tags it, the others now and
then. Then ``--rounds`` pairs of phases, A B then B A, and so on: each phase takes
``--orders`` orders in-process (one transaction each, as the API does) and then runs the
rules' reaction as the worker runs it (``worker/reactions.py``: the consumer's windows of
the outbox, its cursor moved with each, ``services/automation/running.py`` acting) until
its cursor has passed every event the phase made. In an A phase the rules are switched
off (the reaction reads nothing and moves its cursor: what the worker does with no
rules), in a B phase they are on. The events get their places in the history before the
reaction is timed (the worker's sequencer does that for every event, rules or none); what
the rules' own changes make is sequenced in the timed part.

What is compared: the rules never sit in the intake request; what they add is the work
the reaction does after it, per order taken - so ``intake_slowdown_pct`` is the rules'
reaction per order (B's minus A's, the median phase of each) over intake's own per order
(the median phase of A and B alike: intake does the same work either way, and the line
before the last shows both). Read as: taking N orders and reacting to them with the rules
on takes that much longer than without, one after the other on the same cores. Medians
of interleaved phases keep a drifting machine (and a growing database) out of the ratio;
each phase's own ratio is printed too, to show the spread. The last line:

    rules active=200 orders=1200 eval_us_per_order=... intake_slowdown_pct=... cpu_slowdown_pct=...

(``orders``: the orders the rules ran on, over the B phases; ``eval_us_per_order``: the
whole reaction per order in the median B phase - reading the events, the rules, the
orders and what conditions ask about them, evaluating every condition, acting for those
that match, moving the reaction's cursor). Wall times are true on a quiet machine; on a
shared one the CPU is the steadier figure: ``cpu_slowdown_pct`` is the same ratio from
the CPU of this process and - on PostgreSQL - of the database's backends (the scheduler's
count in /proc, the server on this machine), printed per phase with the statements
SQLAlchemy saw.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import backend_pids
from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.domain.automation import RuleDraft
from potok.domain.automation.events import RuleSaved
from potok.domain.automation.expressions import compile_condition
from potok.domain.automation.fields import read_fields
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.kernel import Actor, utc_now
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.orders import Address, DeliveryMethod
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.services import catalogue, inventory
from potok.services.automation import rules
from potok.services.automation.acting import facts_of
from potok.services.intake import place_order
from potok.services.reactions import APPLY_AUTOMATION_RULES
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from potok.settings import DatabaseSettings, Settings
from potok.worker.dispatcher import Dispatcher
from potok.worker.reactions import run_reactions
from potok.worker.windows import Round

ACTOR = Actor.system("bench")
SKUS = [f"SKU{n:03d}" for n in range(40)]
CITIES = ["Тверь", "Москва", "Казань", "Самара", "Пермь"]


def database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'rules.db'}"
    base = os.environ.get("POTOK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
    name = os.environ.get("POTOK_BENCH_RULES_DATABASE", "potok_bench_rules")
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


def seed(url: str) -> Potok:
    potok = bootstrap(Settings(db=DatabaseSettings(url=url)))
    migrate.upgrade(potok.engine)
    catalogue.create_channel(potok.uow(), ChannelDraft("web", "Site", ChannelType.WEB))
    for code, city, lat, lon in [("MSK", "Москва", 55.66, 37.86), ("SPB", "СПб", 59.8, 30.38)]:
        catalogue.create_warehouse(
            potok.uow(),
            WarehouseDraft(code, code, WarehouseType.WAREHOUSE, city, lat, lon, channels=("web",)),
        )
    for index, sku in enumerate(SKUS):
        price = Decimal(200 + 150 * index)
        catalogue.create_product(
            potok.uow(), ProductDraft(sku, sku, price, Decimal("22"), None, 500)
        )
        for warehouse in ("MSK", "SPB"):
            inventory.receive_stock(potok.uow(), ReceiveStock(warehouse, sku, 1_000_000), ACTOR)
    return potok


def the_rules(count: int, rand: random.Random) -> list[RuleDraft]:
    """``count`` rules of assorted shapes; the first matches every order."""
    shapes = [
        lambda k: f'channel == "web" and total > {90_000 + k * 1000} and customer.new',
        lambda k: f'"{SKUS[k % 40]}" in skus and items >= {5 + k % 7}',
        lambda k: f'delivery.city == "{CITIES[k % 5]}" and total > {60_000 + k * 10}',
        lambda k: f"customer.returns > {3 + k % 5} or priority >= {900 + k % 90}",
        lambda k: f'payment.status == "failed" and hour in [{k % 24}, {(k + 1) % 24}]',
        lambda k: f'lines > {4 + k % 3} and not ("vip" in tags)',
        lambda k: f'channel in ["mp", "app"] and total < {k + 1}',
    ]
    drafts = []
    for k in range(count):
        condition = "total > 0 and items >= 1" if k == 0 else rand.choice(shapes)(k)
        drafts.append(
            RuleDraft(
                f"rule {k}",
                "order.created",
                condition,
                [{"do": "add_tag", "tag": f"r{k}"}],
            )
        )
    return drafts


def order(rand: random.Random) -> PlaceOrder:
    lines = [LineRequest(sku, rand.randint(1, 3)) for sku in rand.sample(SKUS, rand.randint(1, 3))]
    address = Address(rand.choice(CITIES), "ул. Ленина, 1", latitude=56.86, longitude=35.92)
    return PlaceOrder(
        channel="web",
        lines=lines,
        delivery=DeliveryRequest(DeliveryMethod.COURIER, address=address),
        customer_name="Покупатель",
        customer_phone=f"+7999{rand.randint(0, 9_999_999):07d}",
    )


@dataclass(slots=True)
class Spent:
    """What a part of a phase cost: wall seconds, this process's CPU seconds, the database
    backends' CPU seconds (PostgreSQL on this machine; SQLite: 0, it is in-process) and the
    statements SQLAlchemy saw (intake's own hot path and the rows a commit carries in its
    own statement are not seen: shown for the rules)."""

    wall: float = 0.0
    cpu: float = 0.0
    database: float = 0.0
    statements: int = 0

    @property
    def both(self) -> float:
        return self.cpu + self.database


def backend_cpu(potok: Potok) -> float:
    """CPU seconds used so far by the PostgreSQL backends of the benchmark's database
    (Linux /proc/PID/schedstat: nanoseconds), found on a connection of its own so that
    none of Potok's pooled ones is left out; 0 on SQLite (in-process)."""
    if potok.engine.dialect.name != "postgresql":
        return 0.0
    total = 0.0
    for pid in backend_pids(potok.engine.url.render_as_string(hide_password=False)):
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue
    return total


class Measure:
    """Measures a part of a phase into ``spent`` (the database's CPU read first and last,
    outside the wall and process times)."""

    def __init__(self, potok: Potok, spent: Spent) -> None:
        self.potok, self.spent = potok, spent

    def _count(self, *_args: object) -> None:
        self.spent.statements += 1

    def __enter__(self) -> Measure:
        self.database = backend_cpu(self.potok)
        sa.event.listen(self.potok.engine, "before_cursor_execute", self._count)
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.spent.wall += time.perf_counter() - self.wall
        self.spent.cpu += time.process_time() - self.cpu
        sa.event.remove(self.potok.engine, "before_cursor_execute", self._count)
        self.spent.database += backend_cpu(self.potok) - self.database


def take(potok: Potok, count: int, rand: random.Random) -> None:
    for _ in range(count):
        place_order(potok.uow(), order(rand), ACTOR)


def sequence(potok: Potok) -> None:
    """Give every event so far its place in the history, as the worker's sequencer does
    for every event whatever reacts to it."""
    while atomically(potok.uow(), lambda uow: uow.event_log.sequence(10_000)):
        pass


def catch_up(dispatcher: Dispatcher) -> int:
    """Run the rules' reaction as the worker does until its cursor reaches the last
    event, the events the rules' own changes made included; how many events it ran on."""
    reaction = APPLY_AUTOMATION_RULES
    ran = 0
    while True:
        sequence(dispatcher.potok)
        last = reading(dispatcher.uow(), lambda uow: uow.event_log.last_position())
        state = reading(dispatcher.uow(), lambda uow: uow.consumers.state(reaction.consumer))
        if state is not None and state[0] >= last:
            return ran
        report = Round()
        run_reactions(dispatcher, last, report, reactions=(reaction,))
        if report.reactions_failed:
            raise RuntimeError("the rules' reaction failed")
        ran += report.reactions_run


def switch(potok: Potok, kept: list[int], on: bool) -> None:
    """Switch every rule on or off: a new version of each, as ``rules.change_rule`` writes
    it, all in one transaction (two hundred of them one by one took seconds)."""

    def work(uow: UnitOfWork) -> None:
        at = utc_now()
        for rule_id in kept:
            rule = uow.automation.get(rule_id, lock=True)
            assert rule is not None
            rule.active, rule.version = on, rule.version + 1
            uow.automation.save(rule, at, str(ACTOR))
            uow.record(
                RuleSaved(
                    occurred_at=at,
                    rule_id=rule.id,
                    version=rule.version,
                    name=rule.name,
                    trigger=rule.trigger,
                    active=on,
                )
            )

    atomically(potok.uow(), work)


@dataclass(slots=True)
class Phase:
    rules_on: bool
    intake: Spent
    reaction: Spent
    reacted: int  # events the reaction ran on
    orders: int

    def per_order(self, part: str, what: str) -> float:
        spent: Spent = getattr(self, part)
        return float(getattr(spent, what)) / self.orders


def run_phase(
    potok: Potok, dispatcher: Dispatcher, count: int, rand: random.Random, *, rules_on: bool
) -> tuple[Phase, int]:
    """Take ``count`` orders, then react to them; the phase and the last position before."""
    sequence(potok)
    last = reading(potok.uow(), lambda uow: uow.event_log.last_position())
    intake, reaction = Spent(), Spent()
    with Measure(potok, intake):
        take(potok, count, rand)
    sequence(potok)
    with Measure(potok, reaction):
        ran = catch_up(dispatcher)
    return Phase(rules_on, intake, reaction, ran, count), last


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orders", type=int, default=300, help="orders per phase")
    parser.add_argument("--rounds", type=int, default=4, help="pairs of phases (A B, B A, ...)")
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rand = random.Random(args.seed)
    load_before = os.getloadavg()[0]
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory() as workdir:
        potok = seed(database(args.db, Path(workdir)))
        try:
            dispatcher = Dispatcher(potok, httpx.Client())
            drafts = the_rules(args.rules, rand)
            kept = [rules.add_rule(potok.uow(), d, ACTOR).id for d in drafts]
            # warm up, rules on and off: caches, plans, the first pages of the tables
            for on in (True, False):
                switch(potok, kept, on)
                run_phase(potok, dispatcher, 20, rand, rules_on=on)
            rules_on = False
            last_b = 0
            for pair in range(args.rounds):
                for on in (False, True) if pair % 2 == 0 else (True, False):
                    if on != rules_on:
                        switch(potok, kept, on)
                        catch_up(dispatcher)  # past the rules' own events, untimed
                        rules_on = on
                    phase, last = run_phase(potok, dispatcher, args.orders, rand, rules_on=on)
                    phases.append(phase)
                    if on:
                        last_b = last
            switch(potok, kept, True)

            # the conditions alone, on orders already read (what evaluation itself costs),
            # and the firings of the last B phase's orders
            events = [
                e
                for e in reading(
                    potok.uow(), lambda uow: uow.event_log.after(last_b, 100_000)
                ).events
                if e.type == "order.created"
            ][: args.orders]
            conditions = [compile_condition(d.condition) for d in drafts]
            sample = [int(e.aggregate_id) for e in events[:50]]
            facts = reading(
                potok.uow(),
                lambda uow: [
                    facts_of(uow, found, utc_now())
                    for found in (uow.orders.get(i) for i in sample)
                    if found is not None
                ],
            )
            values = [read_fields(f) for f in facts]
            started = time.perf_counter()
            matched = sum(c.holds(v) for v in values for c in conditions)
            pure_s = time.perf_counter() - started
            fired = reading(
                potok.uow(),
                lambda uow: sum(
                    len(uow.automation.firings_for_order(int(e.aggregate_id))) for e in events
                ),
            )
        finally:
            potok.close()
    report(args, phases, load_before, pure_s / len(values), matched, fired, len(events))


def report(
    args: argparse.Namespace,
    phases: list[Phase],
    load_before: float,
    pure_s: float,
    matched: int,
    fired: int,
    sampled: int,
) -> None:
    on = [p for p in phases if p.rules_on]
    off = [p for p in phases if not p.rules_on]
    ms = 1000.0
    print(
        f"db={args.db} orders={args.orders} per phase, rounds={args.rounds} "
        f"(phases {' '.join('B' if p.rules_on else 'A' for p in phases)}), rules={args.rules}, "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print(
        "phase | intake ms/order: wall, CPU process + database | reaction ms/order: the same "
        "| statements/order | reaction/intake wall, CPU"
    )
    for p in phases:
        intake_wall, intake_cpu = p.per_order("intake", "wall"), p.per_order("intake", "both")
        wall, cpu = p.per_order("reaction", "wall"), p.per_order("reaction", "both")
        print(
            f"{'B' if p.rules_on else 'A'} | {ms * intake_wall:.2f}, "
            f"{ms * p.per_order('intake', 'cpu'):.2f} + {ms * p.per_order('intake', 'database'):.2f}"
            f" | {ms * wall:.2f}, {ms * p.per_order('reaction', 'cpu'):.2f} + "
            f"{ms * p.per_order('reaction', 'database'):.2f} | "
            f"{p.per_order('reaction', 'statements'):.2f} | "
            f"{100 * wall / intake_wall:.1f} %, {100 * cpu / intake_cpu:.1f} %"
        )

    def mid(group: list[Phase], part: str, what: str) -> float:
        return median([p.per_order(part, what) for p in group])

    intake_wall, intake_cpu = mid(phases, "intake", "wall"), mid(phases, "intake", "both")
    added_wall = mid(on, "reaction", "wall") - mid(off, "reaction", "wall")
    added_cpu = mid(on, "reaction", "both") - mid(off, "reaction", "both")
    print(
        f"intake per order, median phase: wall {ms * intake_wall:.2f} ms (rules off "
        f"{ms * mid(off, 'intake', 'wall'):.2f}, on {ms * mid(on, 'intake', 'wall'):.2f}); "
        f"CPU {ms * mid(phases, 'intake', 'cpu'):.2f} + {ms * mid(phases, 'intake', 'database'):.2f}"
        f" ms (off {ms * mid(off, 'intake', 'both'):.2f}, on {ms * mid(on, 'intake', 'both'):.2f})"
    )
    print(
        f"the rules' reaction per order, median B phase: wall {ms * mid(on, 'reaction', 'wall'):.2f}"
        f" ms, CPU {ms * mid(on, 'reaction', 'cpu'):.2f} + {ms * mid(on, 'reaction', 'database'):.2f}"
        f" ms, {mid(on, 'reaction', 'statements'):.2f} statements; with the rules off (A): "
        f"wall {ms * mid(off, 'reaction', 'wall'):.2f} ms, CPU {ms * mid(off, 'reaction', 'both'):.2f}"
        f" ms; {fired} firings over the last B phase's {sampled} orders; conditions alone "
        f"{1_000_000 * pure_s:.0f} us per order for {args.rules} ({matched} matches in a sample)"
    )
    print(
        f"rules active={args.rules} orders={sum(p.orders for p in on)} "
        f"eval_us_per_order={1_000_000 * mid(on, 'reaction', 'wall'):.0f} "
        f"intake_slowdown_pct={100 * added_wall / intake_wall:.1f} "
        f"cpu_slowdown_pct={100 * added_cpu / intake_cpu:.1f}"
    )


if __name__ == "__main__":
    main()
