"""What readers see: escaped cells, key columns first and the reason last, whole units, rates in percent."""
from __future__ import annotations

import json
import re

import pandas as pd

from workbench.config import mail_settings
from workbench.report import tables
from workbench.report.fmt import display_frame
from workbench.report.summary import weekly_email

TITLE = 'Bamboo board <Large> & "Chef" <script>alert(1)</script>'


def _embedded(out: str) -> tuple[list[str], list[list]]:
    args = re.search(r'"data_json": ("(?:[^"\\]|\\.)*")', out).group(1)
    head = re.search(r'"table_html": ("(?:[^"\\]|\\.)*")', out).group(1)
    return re.findall(r"<th>([^<]*)</th>", json.loads(head)), json.loads(json.loads(args))


def test_every_row_is_embedded_escaped_with_key_columns_first_and_the_reason_last():
    df = pd.DataFrame({"sku": [f"SKU-{i:04d}" for i in range(60)], "title": TITLE, "days_of_cover": 4.0,
                       "status": "order_now", "ads": 12.5, "recommended_qty": 1070, "ship_mode": "air",
                       "order_by": pd.Timestamp("2026-11-23"), "reason": "cover 4.0 d < 7 d: <b>restock now</b>"})
    out = tables.table_html(df, 25)
    assert "<script>alert(1)</script>" not in out
    columns, rows = _embedded(out)
    assert len(rows) == 60, "every row is embedded, not only the first page"
    assert columns[:4] == ["sku", "title", "recommended_qty", "ship_mode"] and columns[-1] == "reason"
    assert "avg_daily_sales" in columns and "ads" not in columns
    row = dict(zip(columns, rows[0]))
    assert row["recommended_qty"] == 1070 and isinstance(row["recommended_qty"], int)  # sorts as a number
    assert row["order_by"] == "2026-11-23"  # ISO text sorts as a date
    assert "&lt;script&gt;" in row["title"] and "&lt;b&gt;restock now&lt;/b&gt;" in row["reason"]


def test_display_values_whole_units_percent_rates_and_health_metrics():
    shown = display_frame(pd.DataFrame({"change_pct": [8.8, -35.0], "current_price": [1234.5, 9.0],
                                        "recommended_qty": [1070.0, 5.0], "stockout_probability": [0.98, 0.0],
                                        "ads": [3.25, 1.0]}))
    assert shown["change_pct"].tolist() == ["+8.8%", "-35.0%"]
    assert shown["current_price"].tolist() == ["1,234.50", "9.00"]
    assert shown["recommended_qty"].tolist() == ["1,070", "5"]
    assert shown["stockout_probability"].tolist() == ["98.00%", "0.00%"]
    assert "avg_daily_sales" in shown.columns
    health = display_frame(pd.DataFrame({"metric": ["odr", "cancel_rate", "rating"], "latest": [0.008, 0.0041, 4.61]}))
    assert health["latest_value"].tolist() == ["0.80%", "0.41%", "4.61"]


def test_the_email_body_escapes_titles_and_reasons(tmp_path):
    pd.DataFrame({"sku": ["SKU-1"], "title": [TITLE], "status": ["order_now"], "days_of_cover": [4.0],
                  "recommended_qty": [120], "ship_mode": ["air"], "order_by": ["2026-11-23"],
                  "reason": ["cover 4.0 d < 7 d <now>"]}).to_csv(tmp_path / "restock.csv", index=False)
    pd.DataFrame({"supplier": ["S <1>"], "mode": ["air"], "sku": ["SKU-1"], "title": [TITLE], "qty": [120],
                  "unit_cost": [2.0], "amount": [240.0], "freight": [10.0], "order_by": ["2026-11-23"],
                  "stockout_probability": [0.5], "reason": ["<i>why</i>"]}).to_csv(tmp_path / "purchase_orders.csv",
                                                                                  index=False)
    msg = weekly_email(mail_settings({}), "2026-11-23", tmp_path)
    body = msg.get_body(("html",)).get_content()
    assert "<script>alert" not in body and "&lt;Large&gt; &amp; " in body and "&lt;i&gt;why" in body
    assert "1 of 1 SKUs to order (1 urgent, 1 by air)" in body
    assert "0 urgent · 1 to order · 0 health breaches" in msg["Subject"]
