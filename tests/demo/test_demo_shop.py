"""The synthetic demo shop: deterministic per seed, and every planted feature measurable from its frames."""

from __future__ import annotations

import ast
import datetime as dt
import pathlib
import sys

import numpy as np
import pandas as pd
import pytest

from ecomforecast.demo import shop as shop_module
from ecomforecast.demo.shop import DemoShop, generate_demo_shop

START = dt.date(2023, 1, 2)


@pytest.fixture(scope="module")
def shop() -> DemoShop:
    return generate_demo_shop(11, 60, 540, start=START)


@pytest.fixture(scope="module")
def sales(shop) -> pd.DataFrame:
    """Sold lines (no cancellations, no returns) with their calendar date."""
    lines = shop.orders[(shop.orders["quantity"] > 0) & (shop.orders["status"] != "cancelled")].copy()
    lines["date"] = lines["placed_at"].dt.date
    return lines


@pytest.fixture(scope="module")
def daily(shop, sales) -> pd.DataFrame:
    """The truth's SKU x day table with the units actually sold according to the orders frame."""
    table = shop.truth.daily.set_index(["sku", "date"])
    sold = sales.groupby(["sku", "date"])["quantity"].sum()
    table["sold"] = sold.reindex(table.index).fillna(0).astype(int)
    return table


def _frames(shop: DemoShop) -> dict[str, pd.DataFrame]:
    return {
        "suppliers": shop.suppliers,
        "products": shop.products,
        "stock": shop.stock,
        "purchase_orders": shop.purchase_orders,
        "campaigns": shop.campaigns,
        "orders": shop.orders,
        "activity": shop.activity,
        "truth.daily": shop.truth.daily,
        "truth.customers": shop.truth.customers,
        "truth.campaigns": shop.truth.campaigns,
    }


def test_it_imports_nothing_but_numpy_and_pandas():
    tree = ast.parse(pathlib.Path(shop_module.__file__).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported - set(sys.stdlib_module_names) == {"numpy", "pandas"}


def test_it_gives_identical_frames_for_the_same_seed():
    first = _frames(generate_demo_shop(3, 12, 120, start=START))
    second = _frames(generate_demo_shop(3, 12, 120, start=START))
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, second[name], obj=name)


def test_it_gives_different_frames_for_another_seed():
    first = generate_demo_shop(3, 12, 120, start=START)
    other = generate_demo_shop(4, 12, 120, start=START)
    assert not first.orders.equals(other.orders)
    assert not first.products["price"].equals(other.products["price"])


def test_it_emits_the_importers_generic_layouts(shop):
    assert list(shop.suppliers.columns) == [
        "code", "name", "lead_time_mean_days", "lead_time_std_days", "order_cost", "currency",
    ]  # fmt: skip
    assert list(shop.products.columns) == [
        "sku", "name", "category", "price", "unit_cost", "active", "supplier_code", "supplier_sku",
        "min_order_qty", "pack_size", "supplier_unit_cost", "supplier_lead_time_days",
    ]  # fmt: skip
    assert list(shop.stock.columns) == ["sku", "date", "on_hand"]
    assert list(shop.purchase_orders.columns) == [
        "po_number", "supplier_code", "sku", "quantity", "unit_cost", "ordered_at", "expected_at", "received_at",
        "received_quantity", "status",
    ]  # fmt: skip
    assert list(shop.orders.columns) == [
        "order_id", "placed_at", "customer_id", "sku", "quantity", "unit_price", "discount", "channel", "status",
        "customer_email", "country", "currency",
    ]  # fmt: skip
    assert list(shop.activity.columns) == [
        "event_id",
        "customer_id",
        "sku",
        "kind",
        "occurred_at",
        "session_id",
        "query",
    ]
    assert list(shop.campaigns.columns) == [
        "campaign_id", "name", "starts_on", "ends_on", "discount_pct", "channel", "skus", "categories",
        "target_segment", "cost",
    ]  # fmt: skip
    assert shop.products["sku"].is_unique
    assert set(shop.orders["sku"]) <= set(shop.products["sku"])
    assert set(shop.purchase_orders["sku"]) <= set(shop.products["sku"])
    assert set(shop.products["supplier_code"]) <= set(shop.suppliers["code"])
    assert set(shop.activity["kind"]) == {"session", "search", "view", "cart", "purchase"}
    assert not shop.purchase_orders.duplicated(["po_number", "sku"]).any()
    assert shop.activity["event_id"].is_unique


def test_it_ends_the_history_yesterday_by_default():
    shop = generate_demo_shop(1, 8, 60)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    assert shop.end == yesterday
    assert shop.start == yesterday - dt.timedelta(days=59)
    assert shop.stock["date"].max() == yesterday


def test_it_plants_the_weekly_profile(shop, sales):
    units = sales.groupby(sales["placed_at"].dt.weekday)["quantity"].sum()
    profile = shop.truth.weekly_profile
    assert units[4] / units[6] == pytest.approx(profile[4] / profile[6], rel=0.1)
    assert units[4] > units[0] > units[6]


def test_it_plants_yearly_seasonality(shop, sales):
    """Garden peaks in early June, Gifts just before Christmas: their busiest months follow."""
    category = shop.products.set_index("sku")["category"]
    monthly = sales.assign(category=sales["sku"].map(category), month=sales["placed_at"].dt.month)
    units = monthly.groupby(["category", "month"])["quantity"].sum()
    calendar = pd.Series(pd.date_range(shop.start, shop.end, freq="D"))
    days_in_month = calendar.groupby(calendar.dt.month).size()
    per_day = units / days_in_month.reindex(units.index.get_level_values("month")).to_numpy()
    assert per_day["Garden"][[5, 6, 7]].mean() > 1.5 * per_day["Garden"][[11, 12, 1]].mean()
    assert per_day["Gifts"][[11, 12]].mean() > 1.5 * per_day["Gifts"][[5, 6]].mean()


def test_it_plants_each_campaigns_lift(shop, daily):
    demand_class = shop.truth.skus.set_index("sku")["demand_class"]
    measured, planted = [], []
    for campaign in shop.truth.campaigns.itertuples():
        steady = [sku for sku in campaign.skus if demand_class[sku] in {"smooth", "new", "dead"}]
        dates = daily.index.get_level_values("date")
        window = daily[
            daily.index.get_level_values("sku").isin(steady)
            & (dates >= campaign.starts_on)
            & (dates <= campaign.ends_on)
            & ~daily["censored"]
            & ~daily["stockout"]
        ]
        if window["base_units"].sum() < 60:
            continue
        measured.append(window["sold"].sum() / window["base_units"].sum())
        planted.append(campaign.lift)
    measured, planted = np.array(measured), np.array(planted)
    assert len(planted) >= 8
    assert (planted > 1.3).sum() >= 5
    assert np.all(np.abs(measured / planted - 1) < 0.3)
    assert np.median(np.abs(measured / planted - 1)) < 0.1
    assert np.corrcoef(measured, planted)[0, 1] > 0.8


def test_it_follows_a_campaign_with_a_dip(shop, daily):
    dates = daily.index.get_level_values("date")
    dip_sold = dip_base = 0.0
    for campaign in shop.truth.campaigns[shop.truth.campaigns["lift"] > 1.5].itertuples():
        after = campaign.ends_on + dt.timedelta(days=1)
        until = campaign.ends_on + dt.timedelta(days=int(campaign.dip_days))
        window = daily[daily.index.get_level_values("sku").isin(campaign.skus) & (dates >= after) & (dates <= until)]
        window = window[~window["censored"] & ~window["stockout"]]
        dip_sold += window["sold"].sum()
        dip_base += window["base_units"].sum()
    assert dip_base > 100
    assert dip_sold / dip_base < 0.95


def test_it_discounts_campaign_lines(shop, sales):
    campaign = shop.truth.campaigns[shop.truth.campaigns["discount_pct"] > 0].iloc[0]
    during = sales[
        sales["sku"].isin(campaign["skus"])
        & (sales["date"] >= campaign["starts_on"])
        & (sales["date"] <= campaign["ends_on"])
    ]
    expected = (during["unit_price"] * during["quantity"] * campaign["discount_pct"] / 100).round(2)
    assert len(during) > 0
    np.testing.assert_allclose(during["discount"], expected)
    assert (sales.loc[~sales.index.isin(during.index) & (sales["discount"] > 0)].shape[0]) < len(sales)


def test_it_censors_sales_while_out_of_stock(shop, daily):
    stockouts = shop.truth.stockout_days
    assert len(stockouts) > 20
    out = daily.loc[pd.MultiIndex.from_frame(stockouts)]
    assert (out["sold"] == 0).all()
    assert (out["demand_units"] > 0).any(), "some demand was lost while out of stock"
    stock = shop.stock.set_index(["sku", "date"])["on_hand"]
    assert (stock.loc[pd.MultiIndex.from_frame(stockouts)] == 0).all()
    # Each stock-out ends when a purchase order arrives (or with the history).
    received = shop.purchase_orders.dropna(subset=["received_at"])
    first_out = stockouts.groupby("sku")["date"].min()
    for sku, day in first_out.items():
        later = received[(received["sku"] == sku) & (received["received_at"] > day)]
        if len(later):
            back = later["received_at"].min()
            assert stock[(sku, back)] + daily.loc[(sku, back), "sold"] > 0


def test_it_makes_intermittent_and_lumpy_items_intermittent(shop, daily):
    demand_class = shop.truth.skus.set_index("sku")["demand_class"]
    selling_days = daily.groupby(level="sku")["sold"].apply(lambda s: (s > 0).sum())
    adi = len(daily.index.get_level_values("date").unique()) / selling_days.clip(lower=1)
    assert (adi[demand_class[demand_class == "intermittent"].index] > 1.32).all()
    assert (adi[demand_class[demand_class == "lumpy"].index] > 1.32).all()
    assert adi[demand_class[demand_class == "smooth"].index].median() < 1.32
    quantities = daily[daily["sold"] > 0].groupby(level="sku")["sold"]
    cv2 = (quantities.std() / quantities.mean()) ** 2
    assert cv2[demand_class[demand_class == "lumpy"].index].median() > 0.49


def test_it_launches_new_items_and_retires_dead_ones(shop, sales):
    skus = shop.truth.skus.set_index("sku")
    first_sale = sales.groupby("sku")["date"].min()
    last_sale = sales.groupby("sku")["date"].max()
    new = skus[skus["demand_class"] == "new"]
    dead = skus[skus["demand_class"] == "dead"]
    assert len(new)
    assert len(dead)
    assert (first_sale[new.index] >= new["launch_date"]).all()
    assert (new["launch_date"] > START + dt.timedelta(days=200)).all()
    assert (last_sale[dead.index] < dead["end_date"]).all()
    assert (dead["end_date"] < shop.end - dt.timedelta(days=100)).all()


def test_it_records_returns_against_their_sale(shop):
    orders = shop.orders
    returns = orders[orders["quantity"] < 0]
    assert 0.01 < len(returns) / len(orders) < 0.15
    assert (returns["status"] == "refunded").all()
    original_id = returns["order_id"].str.replace(r"-R\d+$", "", regex=True)
    sold = orders[orders["quantity"] > 0].groupby(["order_id", "sku"])["quantity"].sum()
    returned = returns.assign(order_id=original_id).groupby(["order_id", "sku"])["quantity"].sum()
    assert (-returned <= sold.reindex(returned.index)).all()
    placed = orders.drop_duplicates("order_id").set_index("order_id")["placed_at"]
    assert (returns["placed_at"].to_numpy() > placed[original_id].to_numpy()).all()


def test_it_prices_items_and_changes_prices(shop, sales):
    prices_per_sku = sales.groupby("sku")["unit_price"].nunique()
    assert (prices_per_sku > 1).sum() >= 10
    assert (shop.products["unit_cost"] < shop.products["price"]).all()


def test_it_gives_customers_heterogeneous_rates_and_churns_them(shop, sales):
    customers = shop.truth.customers.set_index("customer_id")
    ordering = shop.orders[shop.orders["quantity"] > 0]
    assert set(customers.index) == set(ordering.loc[ordering["customer_id"] != "", "customer_id"])
    churned = customers[customers["churned_on"].notna()]
    assert 0.05 < len(churned) / len(customers) < 0.6
    last_order = ordering.assign(date=ordering["placed_at"].dt.date).groupby("customer_id")["date"].max()
    assert (last_order[churned.index] == churned["churned_on"]).all()
    counts = sales.drop_duplicates("order_id").groupby("customer_id").size()
    assert counts.var() > 2 * counts.mean()
    heavy = customers["purchase_rate"] > customers["purchase_rate"].quantile(0.9)
    light = customers["purchase_rate"] < customers["purchase_rate"].quantile(0.5)
    per_customer = counts.reindex(customers.index).fillna(0)
    assert per_customer[heavy].mean() > 2 * per_customer[light].mean()


def test_it_precedes_purchases_with_activity(shop, sales):
    events = shop.activity
    window_start = events["occurred_at"].min()
    assert window_start.date() >= shop.end - dt.timedelta(days=90)
    known = sales[(sales["customer_id"] != "") & (sales["placed_at"] >= window_start + pd.Timedelta(hours=1))]
    assert len(known) > 100
    before = events.merge(known[["customer_id", "sku", "placed_at"]], on=["customer_id", "sku"])
    before = before[
        (before["occurred_at"] < before["placed_at"])
        & (before["placed_at"] - before["occurred_at"] < pd.Timedelta(hours=1))
    ]
    viewed = before[before["kind"] == "view"].groupby(["customer_id", "sku", "placed_at"]).size()
    carted = before[before["kind"] == "cart"].groupby(["customer_id", "sku", "placed_at"]).size()
    line_keys = pd.MultiIndex.from_frame(known[["customer_id", "sku", "placed_at"]])
    assert viewed.reindex(line_keys).notna().all()
    assert carted.reindex(line_keys).notna().all()
    purchases = events[events["kind"] == "purchase"]
    assert len(purchases) == len(known) + len(
        sales[
            (sales["customer_id"] != "")
            & (sales["placed_at"] >= window_start)
            & (sales["placed_at"] < window_start + pd.Timedelta(hours=1))
        ]
    )
    browsing = events.groupby("session_id")["kind"].apply(lambda kinds: "purchase" not in set(kinds))
    assert browsing.sum() > 100, "sessions that end without a purchase exist too"


def test_it_draws_lead_times_from_each_suppliers_law(shop):
    received = shop.purchase_orders.dropna(subset=["received_at"]).drop_duplicates("po_number")
    lead = (pd.to_datetime(received["received_at"]) - pd.to_datetime(received["ordered_at"])).dt.days
    by_supplier = lead.groupby(received["supplier_code"]).agg(["mean", "std", "count"])
    law = shop.suppliers.set_index("code")
    for code, row in by_supplier.iterrows():
        standard_error = max(law.loc[code, "lead_time_std_days"], 0.5) / np.sqrt(row["count"])
        assert row["count"] >= 20
        assert abs(row["mean"] - law.loc[code, "lead_time_mean_days"]) < 4 * standard_error + 0.5
    assert by_supplier["std"].max() > 1.0
    expected = (pd.to_datetime(received["expected_at"]) - pd.to_datetime(received["ordered_at"])).dt.days
    assert (expected == received["supplier_code"].map(law["lead_time_mean_days"]).round()).all()
    open_orders = shop.purchase_orders[shop.purchase_orders["received_at"].isna()]
    assert (open_orders["status"] == "ordered").all()
    assert (open_orders["received_quantity"] == 0).all()
