"""Shared fixtures: a tiny hand-written valid dataset whose every line is known."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

TINY = {
    "products.csv": """sku,title,brand,category,product_type,brand_registered,unit_cost,price,fee_rate,supplier,moq,case_pack,is_key_item
SKU-1,Bamboo board <Large> & "Chef",Acme,kitchen,private_label,true,6.50,24.99,0.15,SUP-A,200,20,true
SKU-2,Steel bottle 750 ml,Acme,outdoor,standard,false,3.10,18.00,0.15,SUP-B,500,50,false
""",
    "sales.csv": """date,sku,channel,units,revenue,in_stock
2026-01-01,SKU-1,amazon_us,4,99.96,true
2026-01-02,SKU-1,amazon_us,0,0,false
2026-01-01,SKU-2,amazon_us,7,126.00,true
2026-01-02,SKU-2,amazon_us,5,90.00,true
""",
    "inventory.csv": """as_of,sku,location,on_hand,reserved
2026-01-02,SKU-1,FBA-US-EAST,0,0
2026-01-02,SKU-2,FBA-US-EAST,120,4
""",
    "shipments.csv": """shipment_id,sku,supplier,mode,qty,order_date,ship_date,eta,received_date,location
PO-1,SKU-1,SUP-A,sea,400,2025-11-01,2025-11-08,2025-12-10,2025-12-14,FBA-US-EAST
PO-2,SKU-1,SUP-A,air,100,2025-12-28,2025-12-30,2026-01-08,,FBA-US-EAST
""",
    "account_health.csv": """date,channel,odr,cancel_rate,late_shipment_rate,rating
2025-12-29,amazon_us,0.004,0.005,0.01,4.8
""",
}


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below folder: proves that a command left its input untouched."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    d = tmp_path / "tiny"
    d.mkdir()
    for name, text in TINY.items():
        (d / name).write_text(text)
    return d


def edit_line(path: Path, line_no: int, old: str, new: str) -> None:
    """Replace text on one 1-based line of a file (test helper for corrupting data)."""
    lines = path.read_text().splitlines(keepends=True)
    assert old in lines[line_no - 1], (old, lines[line_no - 1])
    lines[line_no - 1] = lines[line_no - 1].replace(old, new, 1)
    path.write_text("".join(lines))


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """The four-SKU pricing / ads / phase dataset (tests/pricing_ads_dataset.py), loaded."""
    from pricing_ads_dataset import write_four_sku_dataset

    from workbench.data import load_dataset

    return load_dataset(write_four_sku_dataset(tmp_path_factory.mktemp("four")))


@pytest.fixture(scope="module")
def four_snapshot(four):
    """The stock snapshot of the four-SKU dataset at its as-of date (no forecast: demand is ads_blend)."""
    from pricing_ads_dataset import AS_OF

    from workbench.stock import build_snapshot

    return build_snapshot(four, AS_OF)
