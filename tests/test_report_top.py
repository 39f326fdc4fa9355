"""The report does not grow with the catalog: each table shows the rows that need action first, at most
``top.MAX_ROWS`` of them, and says which file holds every row; figures draw the top SKUs, not all."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from workbench.report import figures, nb, tables, top, views


def _restock(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    status = rng.choice(["ok", "overstock", "order_now", "alert_under_7d", "consider_air", "order_by_sea_soon"], n)
    return pd.DataFrame({"sku": [f"SKU-{i:05d}" for i in range(n)], "status": status,
                         "stockout_probability": rng.uniform(0, 1, n).round(3),
                         "sellable_cover_days": rng.uniform(0, 200, n).round(1), "recommended_qty": rng.integers(0, 500, n),
                         "reason": "cover below the reorder point"})


def _rows(out: str) -> list:
    return json.loads(json.loads(re.search(r'"data_json": ("(?:[^"\\]|\\.)*")', out).group(1)))


def test_restock_is_ranked_by_status_then_stockout_probability_then_cover():
    r = top.restock(_restock(500))
    from workbench.policies.restock import STATUSES

    pos = r["status"].map(STATUSES.index)
    assert pos.is_monotonic_increasing
    first = r[r["status"] == r["status"].iloc[0]]
    assert first["stockout_probability"].is_monotonic_decreasing
    assert r["status"].iloc[0] == "alert_under_7d" and r["status"].iloc[-1] == "overstock"


def test_changes_keep_only_what_changes_biggest_first():
    p = pd.DataFrame({"sku": list("abcd"), "change_pct": [0.0, -30.0, 5.0, 10.0]})
    assert top.pricing_changes(p)["sku"].tolist() == ["b", "d", "c"]
    a = pd.DataFrame({"sku": list("abc"), "current_budget": [10.0, 10.0, 50.0], "recommended_budget": [10.0, 12.0, 20.0]})
    assert top.ads_changes(a)["sku"].tolist() == ["c", "b"]
    h = pd.DataFrame({"metric": ["odr", "late", "rating"], "breach": [False, True, True], "weeks_in_breach": [0, 1, 3]})
    assert top.account_health(h)["metric"].tolist() == ["rating", "late", "odr"]
    risk = pd.DataFrame({"sku": list("abc"), "hijack_level": ["low", "high", "high"], "hijack_score": [10, 70, 90],
                         "stockout_risk": [0.9, 0.1, 0.2]})
    assert top.risk(risk)["sku"].tolist() == ["c", "b", "a"]


def test_a_big_table_embeds_max_rows_and_names_the_file_with_every_row():
    big = top.restock(_restock(10_000))
    out = tables.capped_html(big, 25, "restock.csv", "most urgent first")
    assert len(_rows(out)) == top.MAX_ROWS
    assert (f"Showing {top.MAX_ROWS} of 10,000 rows (most urgent first); the full table is in "
            "<a href='restock.csv'>restock.csv</a> in the report folder.") in out
    assert _rows(out)[0][0] == big["sku"].iloc[0]  # the most urgent row is the first one shown
    # the page does not grow with the catalog: 10,000 rows embed the same as 1,000
    assert len(tables.capped_html(top.restock(_restock(1_000)), 25, "restock.csv")) < 1.05 * len(out)


def test_a_small_table_shows_every_row_and_still_names_its_file():
    out = tables.capped_html(_restock(40), 25, "restock.csv", "most urgent first")
    assert len(_rows(out)) == 40
    assert "All 40 rows (most urgent first); the same table is in <a href='restock.csv'>restock.csv</a>." in out
    assert top.shown_sentence(1, 150) == "All 1 row."


def test_result_table_ranks_views_and_links_the_results_file(monkeypatch):
    shown = []
    monkeypatch.setattr(nb, "_display_html", shown.append)

    class Results:
        def extra(self, name):
            return top.restock(_restock(300)).sample(frac=1, random_state=1) if name == "restock" else None

    nb.setup(max_rows=50)
    try:
        nb.result_table(Results(), "restock", 25, "Stock by SKU")
    finally:
        nb.setup()
    out = next(s for s in shown if "data_json" in s)
    assert "Showing 50 of 300 rows (most urgent first)" in out and "href='restock.csv'" in out
    rows = _rows(out)
    assert len(rows) == 50 and rows[0][0] == top.restock(_restock(300))["sku"].iloc[0]


def test_figures_draw_the_top_skus_not_the_whole_catalog():
    n = 5_000
    rng = np.random.default_rng(0)
    risk = pd.DataFrame({"sku": [f"S{i}" for i in range(n)], "hijack_score": rng.uniform(0, 100, n),
                         "hijack_level": "low", "stockout_risk": rng.uniform(0, 1, n), "reason": "r"})
    fig = figures.hijack_map(risk, top_n=100)
    points = sum(len(t.x) for t in fig.data)
    assert 100 <= points <= 200 and "of 5,000 SKUs" in fig.layout.title.text
    assert risk.nlargest(1, "hijack_score")["hijack_score"].iloc[0] in {x for t in fig.data for x in t.x}
    pricing = pd.DataFrame({"sku": [f"S{i}" for i in range(n)], "channel": "amazon", "phase": "normal",
                            "change_pct": rng.uniform(-30, 30, n), "current_price": 10.0, "recommended_price": 11.0,
                            "rule": "x", "reason": "r"})
    fig = figures.pricing_changes(pricing, top_n=40)
    assert len(fig.data[0].x) + sum(len(t.x) for t in fig.data[1:]) == 40 and "of 5,000" in fig.layout.title.text


def test_losers_named_in_a_sentence_are_capped():
    assert views.named([]) == "none"
    assert views.named(["A", "B"]) == "A, B"
    text = views.named([f"S{i}" for i in range(25)], most=10)
    assert text.startswith("S0, S1") and "S10" not in text and "and 15 more" in text


def test_locations_with_something_to_do_and_returns_with_the_highest_rate_come_first():
    loc = pd.DataFrame({"sku": list("abc"), "action": ["ok", "transfer 5 from X", "ok"], "days_of_cover": [1.0, 50.0, 0.5]})
    assert top.locations(loc)["sku"].tolist() == ["b", "c", "a"]
    ret = pd.DataFrame({"sku": ["a", "a", "b"], "rank": [1, 2, 1], "return_rate": [0.01, 0.01, 0.2]})
    assert list(zip(top.returns(ret)["sku"], top.returns(ret)["rank"])) == [("b", 1), ("a", 1), ("a", 2)]


def test_the_executed_notebook_keeps_figures_as_plotly_json_only(tmp_path):
    import nbformat

    from workbench.report.notebooks import PLOTLY_MIME, drop_figure_html

    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", {PLOTLY_MIME: {"data": []}, "text/html": "<script>plotly.js"
                                                            + "x" * 10_000 + "</script>", "text/plain": "fig"}),
                    nbformat.v4.new_output("display_data", {"text/html": "<table>rows</table>"})]
    path = tmp_path / "r.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    before = path.stat().st_size
    drop_figure_html(path)
    out = nbformat.read(str(path), as_version=4).cells[0].outputs
    assert set(out[0]["data"]) == {PLOTLY_MIME, "text/plain"} and out[1]["data"]["text/html"] == "<table>rows</table>"
    assert path.stat().st_size < before - 9_000


def test_machine_tables_are_rounded_to_a_thousandth_and_compressed(tmp_path):
    from workbench.report.weekly import write_machine_table

    rng = np.random.default_rng(1)
    fc = pd.DataFrame({"unique_id": np.repeat([f"SKU-{i:04d}" for i in range(200)], 120),
                       "ds": np.tile(pd.date_range("2026-11-23", periods=120), 200),
                       "yhat": rng.gamma(2, 10, 24_000), "yhat_lo_80": rng.gamma(2, 5, 24_000)})
    write_machine_table(fc, tmp_path / "f.parquet")
    fc.to_parquet(tmp_path / "plain.parquet", index=False)
    back = pd.read_parquet(tmp_path / "f.parquet")
    assert (back["yhat"] - fc["yhat"]).abs().max() <= 0.0005 + 1e-12 and back["ds"].equals(fc["ds"])
    assert (tmp_path / "f.parquet").stat().st_size < 0.7 * (tmp_path / "plain.parquet").stat().st_size
