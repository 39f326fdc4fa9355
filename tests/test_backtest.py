"""`workbench backtest`: replay accounting by hand, common lead-time draws, no look-ahead, errors, CLI."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.backtest import Options, adapters, run_backtest
from workbench.backtest.replay import Progress, replay
from workbench.backtest.metrics import sku_table, weekly_table
from workbench.backtest.run import make_setup, summary_table
from workbench.backtest.view import assert_no_look_ahead, build_view
from workbench.cli import main
from workbench.data import load_dataset
from workbench.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
START = pd.Timestamp("2024-03-04")  # a Monday


def tiny_dataset(path: Path, lead_times=(4, 4, 4, 4, 4, 4), end=START + pd.Timedelta(days=13), wobble=False,
                 first_day="2023-06-01") -> Path:
    """Two SKUs of one supplier: A sells 10/day (cost 2, price 5, fee 20% → margin 2), B 5/day (cost 1,
    price 3 → margin 1.4); stock on 2024-03-03: A 50, B 100; truck shipments with the given lead times,
    freight 10% of the goods' cost. ``wobble``: ±1 unit a day around those rates; ``first_day`` the first
    day of sales (the forecast engine fails with KeyError 'source' when every series is shorter than its
    minimum; the backtest checks that up front)."""
    path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({
        "sku": ["A", "B"], "title": ["a", "b"], "brand": "x", "category": "c", "product_type": "standard",
        "brand_registered": False, "unit_cost": [2.0, 1.0], "price": [5.0, 3.0], "fee_rate": 0.2, "supplier": "S1",
        "moq": 1, "case_pack": 1, "is_key_item": False}).to_csv(path / "products.csv", index=False)
    days = pd.date_range(first_day, end, freq="D")
    pd.DataFrame({"date": np.tile(days, 2), "sku": np.repeat(["A", "B"], len(days)), "channel": "web",
                  "units": np.repeat([10, 5], len(days)) + (np.tile(np.arange(len(days)) % 3 - 1, 2) if wobble else 0),
                  "revenue": np.repeat([50.0, 15.0], len(days)),
                  "in_stock": True}).to_csv(path / "sales.csv", index=False, date_format="%Y-%m-%d")
    snaps = pd.date_range("2024-01-07", START - pd.Timedelta(days=1), freq="7D")
    pd.DataFrame({"as_of": np.tile(snaps, 2), "sku": np.repeat(["A", "B"], len(snaps)), "location": "WH",
                  "on_hand": np.repeat([50, 100], len(snaps)), "reserved": 0}).to_csv(
        path / "inventory.csv", index=False, date_format="%Y-%m-%d")
    orders = pd.date_range("2024-01-02", periods=len(lead_times), freq="6D")
    pd.DataFrame({"shipment_id": [f"PO{i}" for i in range(len(orders))], "sku": "A", "supplier": "S1", "mode": "truck",
                  "qty": 100, "order_date": orders, "ship_date": orders, "eta": orders + pd.Timedelta(days=4),
                  "received_date": orders + pd.to_timedelta(list(lead_times), unit="D"), "location": "WH",
                  "freight_cost": 100 * 2 * 0.10}).to_csv(path / "shipments.csv", index=False, date_format="%Y-%m-%d")
    return path


def order_a(qty=70, mode="truck", weeks=(1,)):
    """A decide function: order ``qty`` of A in the given weeks (1-based), nothing else."""
    def decide(view, day):
        week = (day - START).days // 7 + 1
        rows = [dict(sku="A", qty=qty, mode=mode, reason="test order")] if week in weeks else []
        return pd.DataFrame(rows, columns=adapters.ORDER_COLUMNS)
    return decide


def test_replay_accounting_by_hand(tmp_path):
    ds = load_dataset(tiny_dataset(tmp_path / "d"))
    setup = make_setup(ds, START, 2, Options(seed=1))
    res = replay(setup, "fixed", order_a())
    # A: 50 in stock, 10/day; 70 arrive on day 4 (lead time 4, the only one in the history).
    # Sold 40 (days 0-3) + 10 (day 4) + 70 (days 5-11); days 12 and 13 lost 10 each.
    assert res.sold[0].sum() == pytest.approx(120)
    assert res.lost[0].tolist() == [0] * 12 + [10, 10]
    assert res.sold[1].sum() == pytest.approx(70) and res.lost[1].sum() == 0  # B: 100 in stock, 5/day
    assert res.orders["lead_time_days"].tolist() == [4]
    row = summary_table(setup, [res]).iloc[0]
    assert row["fill_rate"] == pytest.approx((120 + 70) / (140 + 70))
    assert row["stockout_sku_days"] == 2
    assert row["lost_units"] == pytest.approx(20)
    assert row["lost_margin"] == pytest.approx(20 * (5 * 0.8 - 2))
    # End-of-day stock: A 40,30,20,10,70,60,...,10,0,0,0 (sum 380) × cost 2; B 95..30 (sum 875) × cost 1.
    avg_inv = (380 * 2 + 875 * 1) / 14
    assert row["avg_inventory_value"] == pytest.approx(avg_inv)
    assert row["carrying_cost"] == pytest.approx(0.25 * avg_inv * 14 / 365)
    assert row["freight_cost"] == pytest.approx(70 * 2 * 0.10)  # the dataset's own freight share for truck
    assert row["total_cost"] == pytest.approx(row["lost_margin"] + row["freight_cost"] + row["carrying_cost"])
    assert row["orders"] == 1 and row["air_units"] == 0
    assert "fill" in row["reason"]


def test_order_arriving_after_the_end_costs_no_freight(tmp_path):
    ds = load_dataset(tiny_dataset(tmp_path / "d", lead_times=(20,) * 6))
    setup = make_setup(ds, START, 2, Options())
    row = summary_table(setup, [replay(setup, "late", order_a())]).iloc[0]
    assert row["orders"] == 1 and row["freight_cost"] == 0
    assert "70 units ordered still on their way" in row["reason"]


def test_same_lead_time_draw_for_both_policies(tmp_path):
    ds = load_dataset(tiny_dataset(tmp_path / "d", lead_times=(3, 5, 7, 9, 11, 12, 4, 6, 8, 10)))
    setup = make_setup(ds, START, 2, Options(seed=3))
    a = replay(setup, "a", order_a(70, weeks=(1, 2)))
    b = replay(setup, "b", order_a(5, weeks=(1, 2)))
    assert a.orders["lead_time_days"].tolist() == b.orders["lead_time_days"].tolist()
    assert set(a.orders["lead_time_days"]) <= {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
    other = make_setup(ds, START, 2, Options(seed=4))
    draws = [replay(make_setup(ds, START, 2, Options(seed=s)), "a", order_a(70, weeks=(1, 2))).orders["lead_time_days"].tolist()
             for s in range(6)]
    assert len({tuple(d) for d in draws}) > 1  # the seed moves the draws
    assert other.uniforms.shape == (2, 2, 5)


def test_no_look_ahead(tmp_path):
    ds = load_dataset(tiny_dataset(tmp_path / "d"))
    setup = make_setup(ds, START, 2, Options())
    seen = []

    def spy(view, day):
        assert_no_look_ahead(view, day)
        seen.append((day, view["sales"]["date"].max(), view["inventory"]["as_of"].max()))
        return adapters.rule_of_thumb_orders(view, day)

    replay(setup, "spy", spy)
    assert [s[0] for s in seen] == [START, START + pd.Timedelta(days=7)]
    for day, last_sale, last_snap in seen:
        assert last_sale == day - pd.Timedelta(days=1) and last_snap == day - pd.Timedelta(days=1)
    # the checker itself fails on a row dated on the decision day
    from workbench.backtest.view import ReplayRecords
    rec = ReplayRecords(setup.skus, setup.state.location, setup.channel, setup.price)
    view = build_view(setup.base, START, START, rec)
    assert_no_look_ahead(view, START)
    leak = view["sales"].iloc[[-1]].assign(date=START)
    view.tables["sales"] = pd.concat([view["sales"], leak], ignore_index=True)
    with pytest.raises(AssertionError, match="sales"):
        assert_no_look_ahead(view, START)


def test_view_hides_future_receipts(tmp_path):
    ds = load_dataset(tiny_dataset(tmp_path / "d", lead_times=(4, 4, 4, 4, 4, 70)))  # PO5: ordered Jan 31, in Apr
    setup = make_setup(ds, START, 1, Options())
    from workbench.backtest.view import ReplayRecords
    rec = ReplayRecords(setup.skus, setup.state.location, setup.channel, setup.price)
    view = build_view(setup.base, START, START, rec)
    po5 = view["shipments"].set_index("shipment_id").loc["PO5"]
    assert pd.isna(po5["received_date"])  # in transit as seen on the start
    assert setup.state.arrivals[0].sum() == 100  # and it arrives in the replay on its recorded date


def test_too_little_history_is_a_clear_error(tmp_path):
    data = tiny_dataset(tmp_path / "d", first_day="2024-01-01")
    with pytest.raises(InputError, match="only 30 day"):
        run_backtest(data, pd.Timestamp("2024-01-31"), 1, tmp_path / "o")
    with pytest.raises(InputError, match="forecast engine needs 134"):
        run_backtest(data, START, 1, tmp_path / "o")  # 63 days: enough for the rule, not for the engine
    rule_only = Options(policies=("rule_of_thumb",))
    assert run_backtest(data, START, 1, tmp_path / "o", rule_only)["summary"]["policy"].tolist() == ["rule_of_thumb"]
    with pytest.raises(InputError, match="use at most 2 week"):
        run_backtest(data, START, 5, tmp_path / "o", rule_only)
    assert main(["backtest", "--data", str(data), "--start", "2024-01-10", "--weeks", "1",
                 "--output", str(tmp_path / "o")]) == 2


def test_progress_is_quiet_without_a_terminal(capsys):
    bar = Progress(3, "x")
    bar.step()
    assert capsys.readouterr().err == ""
    loud = Progress(1, "x", enabled=True)
    loud.step()
    assert "1/1" in capsys.readouterr().err


def test_cli_on_samples(tmp_path, capsys):
    out = tmp_path / "bt"
    code = main(["backtest", "--data", str(ROOT / "data" / "samples"), "--start", "2026-08-31", "--weeks", "2",
                 "--output", str(out), "--fast-forecast"])
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary.columns.tolist()[:11] == ["policy", "fill_rate", "stockout_sku_days", "lost_units", "lost_margin",
                                              "avg_inventory_value", "freight_cost", "carrying_cost", "total_cost",
                                              "orders", "air_units"]
    assert summary["policy"].tolist() == ["workbench", "rule_of_thumb"]
    assert summary["fill_rate"].between(0, 1).all()
    for name in ("summary", "weekly", "skus", "orders"):
        frame = pd.read_csv(out / f"{name}.csv")
        assert frame["reason"].notna().all() and len(frame)
    assert (out / "chart.html").stat().st_size > 10_000
    # both policies saw the same demand
    skus = pd.read_csv(out / "skus.csv")
    by = skus.pivot(index="sku", columns="policy", values="demand")
    assert np.allclose(by["workbench"], by["rule_of_thumb"])
    assert "workbench: fill" in capsys.readouterr().out


def test_sweep_writes_the_frontier(tmp_path):
    data = tiny_dataset(tmp_path / "d", wobble=True)
    opts = Options(fast_forecast=True, sweep_carrying=(0.25, 2.0), sweep_safety_days=(0, 14),
                   sweep_families={"workbench, no air": {"urgent_mode": "sea"}})
    res = run_backtest(data, START, 1, tmp_path / "o", opts, do_sweep=True)
    frontier = pd.read_csv(tmp_path / "o" / "frontier.csv")
    assert frontier["family"].value_counts().to_dict() == {"workbench": 2, "workbench, no air": 2, "rule_of_thumb": 2}
    assert frontier["reason"].str.contains("frontier:").all()
    assert (tmp_path / "o" / "frontier.html").exists()
    assert isinstance(res["frontier_above"], bool)
    # more safety days never lowers the rule's inventory
    rule = frontier[frontier["family"] == "rule_of_thumb"].sort_values("setting")
    assert rule["avg_inventory_value"].is_monotonic_increasing or rule["avg_inventory_value"].nunique() == 1


def test_dominates_by_hand():
    from workbench.backtest.metrics import dominates
    f = pd.DataFrame({"family": ["workbench"] * 2 + ["rule_of_thumb"] * 2, "avg_inventory_value": [100, 200, 120, 180],
                      "fill_rate": [0.90, 0.98, 0.90, 0.95]})
    ok, sentence = dominates(f)
    assert ok  # workbench at 120: 0.916 ≥ 0.90; at 180: 0.964 ≥ 0.95
    f.loc[3, "fill_rate"] = 0.97
    assert not dominates(f)[0]
    # a curve inside the other's range is compared with that curve's line (rule 100..300: 0.90..0.96)
    g = pd.DataFrame({"family": ["workbench"] * 2 + ["rule_of_thumb"] * 2, "avg_inventory_value": [150, 250, 100, 300],
                      "fill_rate": [0.93, 0.95, 0.90, 0.96]})
    assert dominates(g)[0]  # rule's line at 150: 0.915, at 250: 0.945
    g.loc[0, "fill_rate"] = 0.91
    assert not dominates(g)[0]
    assert "do not overlap" in dominates(g.assign(avg_inventory_value=[1, 2, 100, 300]))[1]


def test_freight_is_charged_on_the_units_sold_first_in_first_out(tmp_path):
    """Landed-cost accounting: an arrival's freight is a cost when its units sell (first in, first out), so stock
    left at the end does not carry its freight into the total, as the stock at the start brought none in."""
    ds = load_dataset(tiny_dataset(tmp_path / "d"))
    setup = make_setup(ds, START, 2, Options(seed=1))
    # A: 50 at the start, 10/day for 14 days; 100 arrive on day 4 → sold 140 = the 50 from the start + 90 of them
    res = replay(setup, "fixed", order_a(qty=100))
    row = summary_table(setup, [res]).iloc[0]
    assert row["freight_paid"] == pytest.approx(100 * 2 * 0.10)
    assert row["freight_cost"] == pytest.approx(90 * 2 * 0.10)
    assert row["total_cost"] == pytest.approx(row["lost_margin"] + row["freight_cost"] + row["carrying_cost"])
    # week 1 sells the 50 from the start and 20 of the arrival, week 2 the next 70 of it
    weeks = weekly_table(setup, [res])
    assert weeks["freight_cost"].tolist() == pytest.approx([20 * 0.2, 70 * 0.2])
    assert weeks["freight_cost"].sum() == pytest.approx(row["freight_cost"])
    skus = sku_table(setup, [res]).set_index("sku")
    assert skus.loc["A", "freight_cost"] == pytest.approx(18) and skus.loc["B", "freight_cost"] == 0


def test_stock_bought_and_left_unsold_pays_no_freight_in_the_window(tmp_path):
    ds = load_dataset(tiny_dataset(tmp_path / "d"))
    setup = make_setup(ds, START, 2, Options(seed=1))

    def order_b(view, day):  # B has 100 and sells 70 in two weeks: the 40 ordered stay on the shelf
        rows = [dict(sku="B", qty=40, mode="truck", reason="test order")] if day == START else []
        return pd.DataFrame(rows, columns=adapters.ORDER_COLUMNS)

    row = summary_table(setup, [replay(setup, "b", order_b)]).iloc[0]
    assert row["freight_paid"] == pytest.approx(40 * 1 * 0.10)
    assert row["freight_cost"] == 0
    assert "freight paid on arrival" in row["reason"]
