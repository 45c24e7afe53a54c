"""python manage.py bench_customer_scores [--customers 100000] [--days 730] [--events 2] [--no-classifier] [--keep]

Writes N synthetic customers with two years of orders (and activity events) into Postgres for a throwaway
merchant, scores them in process like the nightly run, and prints a report: rows generated, seconds to read,
to run the engine and to write the scores, customers per second, peak memory. A report, not a test.

Customers follow the BG/NBD story the models assume, with realistic spread: each is acquired on a uniform day,
buys at a Gamma-distributed rate and drops out after each purchase with a Beta-distributed probability; order
values are Gamma around a per-customer mean, about 4% of orders come back a week later as return documents.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
import uuid
import zoneinfo
from decimal import Decimal

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from tqdm import tqdm

from customers.models import ActivityEvent, Customer, Order, OrderLine
from ecomforecast.models import Merchant
from forecasting import customer_services
from forecasting.models import CustomerForecastRun, CustomerScore
from inventory.models import Product

PURCHASE_RATE_SHAPE, PURCHASE_RATE_SCALE_DAYS = 0.8, 45.0
DROPOUT_A, DROPOUT_B = 1.0, 5.0
RETURN_SHARE = 0.04
EVENT_KINDS = ("view", "cart", "search", "session")


def simulate_purchases(*, customers: int, days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, day offset as a float in [0, days)) of every purchase, in customer order."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(PURCHASE_RATE_SHAPE, 1.0 / PURCHASE_RATE_SCALE_DAYS, customers)
    dropout = rng.beta(DROPOUT_A, DROPOUT_B, customers)
    clock = rng.uniform(0, days, customers)
    owners, times = [np.arange(customers)], [clock.copy()]
    active = rng.random(customers) >= dropout
    while active.any():
        index = np.flatnonzero(active)
        clock[index] += rng.exponential(1.0 / rates[index])
        bought = index[clock[index] < days]
        owners.append(bought)
        times.append(clock[bought])
        active[index] = False
        active[bought[rng.random(bought.size) >= dropout[bought]]] = True
    owner = np.concatenate(owners)
    when = np.concatenate(times)
    order = np.lexsort((when, owner))
    return owner[order], when[order]


def _copy(model, columns: tuple[str, ...], rows) -> None:
    quote = connection.ops.quote_name
    statement = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _ids_in_insert_order(model, merchant: Merchant, count: int) -> np.ndarray:
    """Ids of the rows one COPY just added: a sequence hands them out in row order."""
    ids = np.fromiter(
        model.objects.filter(merchant=merchant).order_by("-pk").values_list("pk", flat=True)[:count],
        dtype=np.int64,
        count=count,
    )
    return ids[::-1]


def drop_merchant(merchant: Merchant) -> None:
    """The synthetic rows go table by table with plain DELETEs: the ORM's cascade would load every row first, and
    order lines protect the product."""
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (CustomerScore, CustomerForecastRun, ActivityEvent, OrderLine, Order, Customer, Product):
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} WHERE merchant_id = %s", [merchant.pk]
            )
        Merchant.objects.filter(pk=merchant.pk).delete()


class Command(BaseCommand):
    help = "Benchmarks customer scoring on N synthetic customers written to Postgres (read, engine, write seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=730, help="days of history")
        parser.add_argument("--events", type=int, default=2, help="activity events per customer (average)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--no-classifier", action="store_true")
        parser.add_argument("--keep", action="store_true", help="keep the synthetic merchant and its rows")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("the benchmark writes with COPY: set DATABASE_URL to a Postgres database")
        if options["customers"] < 1 or options["days"] < 30:
            raise CommandError("need at least one customer and 30 days")
        merchant = Merchant.objects.create(slug=f"bench-customers-{uuid.uuid4().hex[:8]}", name="Customer benchmark")
        try:
            generated = self._generate(merchant, options)
            bar = tqdm(total=100, unit="%", desc="scoring customers")

            def progress(stage: str, fraction: float) -> None:
                bar.n = round(fraction * 100)
                bar.set_postfix_str(stage, refresh=False)
                bar.refresh()

            started = time.perf_counter()
            run = customer_services.customer_scores_run_in_process(
                merchant=merchant,
                config=customer_services.CustomerScoreConfig(classifier=not options["no_classifier"]),
                progress=progress,
            )
            wall = time.perf_counter() - started
            bar.close()
            self._report(run, generated, wall)
        finally:
            if not options["keep"]:
                self.stderr.write(f"deleting the synthetic merchant {merchant.slug} ...")
                drop_merchant(merchant)
            else:
                self.stderr.write(f"kept the synthetic merchant {merchant.slug}")

    def _generate(self, merchant: Merchant, options) -> dict[str, float]:
        started = time.perf_counter()
        customers, days, seed = options["customers"], options["days"], options["seed"]
        rng = np.random.default_rng(seed + 1)
        owner, offsets = simulate_purchases(customers=customers, days=days, seed=seed)
        mean_value = rng.gamma(2.0, 25.0, customers) + 5.0
        values = np.round(rng.gamma(5.0, mean_value[owner] / 5.0), 2)
        returned = rng.random(owner.size) < RETURN_SHARE
        tz = zoneinfo.ZoneInfo(merchant.timezone)
        start = dt.datetime.combine(timezone.localdate() - dt.timedelta(days=days), dt.time.min, tzinfo=tz)
        now = timezone.now()
        product = Product.objects.create(merchant=merchant, sku="BENCH", name="Bench item", price=Decimal("10.00"))

        with transaction.atomic():
            _copy(
                Customer,
                ("merchant_id", "external_id", "email", "name", "country", "created_at"),
                ((merchant.pk, f"B{index:07d}", "", "", "", now) for index in range(customers)),
            )
            customer_ids = _ids_in_insert_order(Customer, merchant, customers)
            # Orders: the purchases, then a return document a week after each returned purchase.
            order_owner = np.concatenate([owner, owner[returned]])
            order_offset = np.concatenate([offsets, offsets[returned] + 7.0])
            order_value = np.concatenate([values, np.round(values[returned] * 0.5, 2)])
            order_kind = np.concatenate([np.zeros(owner.size, bool), np.ones(int(returned.sum()), bool)])
            placed = [start + dt.timedelta(days=float(offset)) for offset in order_offset]
            _copy(
                Order,
                (
                    "merchant_id",
                    "external_id",
                    "customer_id",
                    "placed_at",
                    "kind",
                    "status",
                    "channel",
                    "country",
                    "currency",
                ),
                (
                    (
                        merchant.pk,
                        f"BO{index:08d}",
                        int(customer_ids[order_owner[index]]),
                        placed[index],
                        Order.Kind.RETURN if order_kind[index] else Order.Kind.SALE,
                        Order.Status.REFUNDED if order_kind[index] else Order.Status.PAID,
                        "",
                        "",
                        "",
                    )
                    for index in range(order_owner.size)
                ),
            )
            order_ids = _ids_in_insert_order(Order, merchant, order_owner.size)
            _copy(
                OrderLine,
                (
                    "merchant_id",
                    "order_id",
                    "line_number",
                    "product_id",
                    "kind",
                    "quantity",
                    "unit_price",
                    "discount",
                    "placed_at",
                ),
                (
                    (
                        merchant.pk,
                        int(order_ids[index]),
                        1,
                        product.pk,
                        OrderLine.Kind.RETURN if order_kind[index] else OrderLine.Kind.SALE,
                        1,
                        f"{order_value[index]:.2f}",
                        "0",
                        placed[index],
                    )
                    for index in range(order_owner.size)
                ),
            )
            event_count = int(customers * options["events"])
            event_owner = owner[rng.integers(0, owner.size, event_count)] if event_count else np.empty(0, int)
            event_offset = np.minimum(offsets[rng.integers(0, owner.size, event_count)] + rng.exponential(20.0), days)
            event_kind = rng.integers(0, len(EVENT_KINDS), event_count)
            _copy(
                ActivityEvent,
                ("merchant_id", "event_key", "customer_id", "kind", "occurred_at", "session_id", "query"),
                (
                    (
                        merchant.pk,
                        f"be-{index}",
                        int(customer_ids[event_owner[index]]),
                        EVENT_KINDS[event_kind[index]],
                        start + dt.timedelta(days=float(event_offset[index])),
                        "",
                        "",
                    )
                    for index in range(event_count)
                ),
            )
        with connection.cursor() as cursor:
            for model in (Customer, Order, OrderLine, ActivityEvent):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        return {
            "customers": customers,
            "orders": int(owner.size),
            "returns": int(returned.sum()),
            "events": event_count,
            "seconds": time.perf_counter() - started,
        }

    def _report(self, run: CustomerForecastRun, generated: dict[str, float], wall: float) -> None:
        timings = run.timings
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        segments = dict(
            CustomerScore.objects.filter(run=run)
            .values("segment")
            .annotate(customers=Count("pk"))
            .order_by("-customers")
            .values_list("segment", "customers")
        )
        lines = [
            "customer-score benchmark",
            f"  generated: {generated['customers']:,} customers, {generated['orders']:,} orders, "
            f"{generated['returns']:,} returns, {generated['events']:,} events in {generated['seconds']:.1f}s",
            f"  run {run.pk}: {run.status}{' — ' + run.error if run.error else ''}",
            f"  customers scored: {run.customers_total:,}",
            f"  read   {timings.get('read', float('nan')):8.1f}s",
            f"  engine {timings.get('engine', float('nan')):8.1f}s",
            f"  write  {timings.get('write', float('nan')):8.1f}s",
            f"  total  {timings.get('total', float('nan')):8.1f}s  (wall {wall:.1f}s, "
            f"{run.customers_total / max(wall, 1e-9):,.0f} customers/s)",
            "  models: "
            + ", ".join(f"{score}={model}" for score, model in run.score_models.items() if isinstance(model, str)),
            f"  peak memory of this process: {peak_mib:,.0f} MiB",
        ]
        lines += [f"  note: {note}" for note in run.score_models.get("notes", [])]
        lines += [f"  segment {segment}: {count:,}" for segment, count in segments.items()]
        self.stdout.write("\n".join(lines))
