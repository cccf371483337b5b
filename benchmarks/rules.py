"""Automation rules benchmark: 200 active rules evaluated on every order taken.

    python benchmarks/rules.py --db sqlite --orders 300
    python benchmarks/rules.py --db postgresql --orders 300

A fresh database (PostgreSQL: the database ``potok_bench_rules``, or the one
``POTOK_BENCH_RULES_DATABASE`` names; SQLite: a temporary file) gets a channel, two warehouses and 40 products with deep stock. Orders of 1-3 lines
are taken in-process, first with no rules (the intake time per order), then with
``--rules`` active rules waiting for ``order.created`` - conditions over the channel,
total, SKUs, units, delivery, the customer's history, the hour; one matches every order
and tags it, the others now and then -, after which the rules' reaction is run as the
worker runs it (``worker/reactions.py``: the consumer's windows of the outbox, its
cursor moved with each, ``services/automation/running.py`` acting) over every event the
new orders made, and timed. The rules never sit in the intake request:
``intake_slowdown_pct`` is the rules' work per order over the intake's work per order,
i.e. how much later work the rules add to each order taken. The last line:

    rules active=200 orders=300 eval_us_per_order=... intake_slowdown_pct=...

(``eval_us_per_order``: the whole reaction per order - reading the events, the rules, the
orders and what conditions ask about them, evaluating every condition, acting for those
that match, moving the reaction's cursor). Both are wall times, true on a quiet machine;
on a shared one the line before it gives the CPU per order of this process and - on
PostgreSQL - of the database's backends (the scheduler's count in /proc, the server on this
machine) for the intake and for the rules' reaction, with the statements each sent, and
the last line ends with ``cpu_slowdown_pct``: the same ratio from that CPU.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import backend_pids
from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.domain.automation import RuleDraft
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
from potok.services.unit_of_work import atomically, reading
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


CPU: dict[str, float] = {}
"""This process's CPU seconds per phase (the machine is shared: wall time drifts)."""
DATABASE_CPU: dict[str, float] = {}
"""The database backends' CPU seconds per phase (PostgreSQL on this machine; SQLite: 0)."""
STATEMENTS: dict[str, int] = {}
"""Statements sent per phase as SQLAlchemy sees them (intake's own path on PostgreSQL and
the rows a commit carries in its own statement are not seen: shown for the rules only)."""


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


class Phase:
    """Measures a phase: this process's CPU, the database's, and the statements seen."""

    def __init__(self, potok: Potok, name: str) -> None:
        self.potok, self.name, self.sent = potok, name, 0

    def _count(self, *_args: object) -> None:
        self.sent += 1

    def __enter__(self) -> Phase:
        self.database = backend_cpu(self.potok)
        sa.event.listen(self.potok.engine, "before_cursor_execute", self._count)
        self.cpu = time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        CPU[self.name] = time.process_time() - self.cpu
        sa.event.remove(self.potok.engine, "before_cursor_execute", self._count)
        DATABASE_CPU[self.name] = backend_cpu(self.potok) - self.database
        STATEMENTS[self.name] = self.sent


def take(potok: Potok, count: int, rand: random.Random) -> float:
    """Take ``count`` orders; seconds spent."""
    started = time.perf_counter()
    with Phase(potok, "intake"):
        for _ in range(count):
            place_order(potok.uow(), order(rand), ACTOR)
    return time.perf_counter() - started


def catch_up(dispatcher: Dispatcher) -> int:
    """Run the rules' reaction as the worker does until its cursor reaches the last
    event, the events the rules' own changes made included; how many events it ran on."""
    reaction = APPLY_AUTOMATION_RULES
    ran = 0
    while True:
        while atomically(dispatcher.uow(), lambda uow: uow.event_log.sequence(10_000)):
            pass  # the events get their places in commit order, as the worker gives them
        last = reading(dispatcher.uow(), lambda uow: uow.event_log.last_position())
        state = reading(dispatcher.uow(), lambda uow: uow.consumers.state(reaction.consumer))
        if state is not None and state[0] >= last:
            return ran
        report = Round()
        run_reactions(dispatcher, last, report, reactions=(reaction,))
        if report.reactions_failed:
            raise RuntimeError("the rules' reaction failed")
        ran += report.reactions_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rand = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as workdir:
        potok = seed(database(args.db, Path(workdir)))
        try:
            dispatcher = Dispatcher(potok, httpx.Client())
            take(potok, 20, rand)  # warm up: caches, plans, the first pages of the tables
            catch_up(dispatcher)
            plain_s = take(potok, args.orders, rand)
            plain_cpu, plain_db = CPU["intake"], DATABASE_CPU["intake"]
            for draft in the_rules(args.rules, rand):
                rules.add_rule(potok.uow(), draft, ACTOR)
            catch_up(dispatcher)  # past the orders and rules so far
            last = reading(potok.uow(), lambda uow: uow.event_log.last_position())
            with_rules_s = take(potok, args.orders, rand)
            while atomically(potok.uow(), lambda uow: uow.event_log.sequence(10_000)):
                pass
            events = [
                e
                for e in reading(potok.uow(), lambda uow: uow.event_log.after(last, 100_000)).events
                if e.type == "order.created"
            ]
            started = time.perf_counter()
            with Phase(potok, "rules"):
                ran = catch_up(dispatcher)
            rules_s = time.perf_counter() - started

            # the conditions alone, on orders already read (what evaluation itself costs)
            conditions = [compile_condition(d.condition) for d in the_rules(args.rules, rand)]
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
    n = len(events)
    intake_ms = 1000 * plain_s / args.orders
    intake_rules_ms = 1000 * with_rules_s / args.orders
    eval_us = 1_000_000 * rules_s / n
    pure_us = 1_000_000 * pure_s / len(values)
    slowdown = 100 * (rules_s / n) / (plain_s / args.orders)
    print(f"db={args.db} orders={args.orders} rules={args.rules}")
    print(f"intake without rules: {intake_ms:.2f} ms per order")
    print(
        f"intake with {args.rules} rules active: {intake_rules_ms:.2f} ms per order "
        "(the rules run after the commit, not in the request)"
    )
    print(
        f"the rules' reaction: {eval_us / 1000:.2f} ms per order ({ran} events of its types "
        f"run as the worker runs them); {fired} firings over {n} "
        f"orders; conditions alone: {pure_us:.0f} us per order for {args.rules} "
        f"({matched} matches in the sample)"
    )
    intake_cpu = (plain_cpu + plain_db) / args.orders
    rules_cpu = (CPU["rules"] + DATABASE_CPU["rules"]) / n
    print(
        f"CPU per order, this process + the database: intake {1000 * plain_cpu / args.orders:.2f}"
        f" + {1000 * plain_db / args.orders:.2f} ms,"
        f" the rules' reaction {1000 * CPU['rules'] / n:.2f} + {1000 * DATABASE_CPU['rules'] / n:.2f}"
        f" ms ({STATEMENTS['rules'] / n:.2f} statements)"
        f" ({100 * rules_cpu / intake_cpu:.1f} %)"
    )
    print(
        f"rules active={args.rules} orders={n} eval_us_per_order={eval_us:.0f} "
        f"intake_slowdown_pct={slowdown:.1f} cpu_slowdown_pct={100 * rules_cpu / intake_cpu:.1f}"
    )


if __name__ == "__main__":
    main()
