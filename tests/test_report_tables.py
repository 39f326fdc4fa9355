"""What readers see: escaped cells, readable numbers, the reason beside the key columns."""
from __future__ import annotations

import pandas as pd

from workbench.config import mail_settings
from workbench.report.nb import display_values, table_html
from workbench.report.summary import weekly_email

TITLE = 'Bamboo board <Large> & "Chef" <script>alert(1)</script>'


def test_table_cells_are_escaped_and_the_reason_follows_the_key_columns():
    df = pd.DataFrame({"sku": ["SKU-1"], "title": [TITLE], "days_of_cover": [4.0], "status": ["order_now"],
                       "reason": ["cover 4.0 d < 7 d: <b>restock now</b>"]})
    out = table_html(df)
    assert "<script>alert(1)</script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;b&gt;restock now&lt;/b&gt;" in out
    header = out[out.index("<thead>"):out.index("</thead>")]
    assert header.index(">reason<") < header.index(">days_of_cover<")


def test_percent_columns_are_in_percent_units_and_floats_are_rounded():
    shown = display_values(pd.DataFrame({"change_pct": [8.8, -35.0], "current_price": [1234.5, 9.0]}))
    assert shown["change_pct"].tolist() == ["+8.8%", "-35.0%"]
    assert shown["current_price"].tolist() == ["1,234.50", "9.00"]


def test_the_email_body_escapes_titles_and_reasons(tmp_path):
    pd.DataFrame({"sku": ["SKU-1"], "title": [TITLE], "status": ["order_now"], "days_of_cover": [4.0],
                  "recommended_qty": [120], "ship_mode": ["air"], "order_by": ["2026-11-23"],
                  "reason": ["cover 4.0 d < 7 d <now>"]}).to_csv(tmp_path / "restock.csv", index=False)
    msg = weekly_email(mail_settings({}), "2026-11-23", tmp_path)
    body = msg.get_body(("html",)).get_content()
    assert "<script>alert" not in body and '&lt;Large&gt; &amp; "Chef"' in body
    assert "1 of 1 SKUs to order (1 urgent, 1 by air)" in body
