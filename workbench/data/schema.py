"""The dataset contract: every table, its columns, types, ranges and keys, in one place.

A dataset is a directory of tables, each ``NAME.csv`` or ``NAME.parquet`` (see
``shared/docs/design.md``). Validation (:mod:`workbench.data.validate`) and loading
(:mod:`workbench.data.load`) read these definitions; nothing else hard-codes column rules.
Extra columns are allowed and kept; optional columns are checked when present.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Kinds a column can have. "date" is ISO YYYY-MM-DD; "timestamp" is ISO date with an optional time.
KINDS = ("str", "int", "float", "date", "timestamp", "bool", "enum")

PRODUCT_TYPES = ("standard", "private_label", "custom", "bundle")
SHIP_MODES = ("sea", "air", "rail", "truck", "express")
AD_TYPES = ("SP", "SB", "SD")
BUYBOX_WINNERS = ("self", "other", "none")
TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = True  # the column must be present in the file
    nullable: bool = False  # empty cells are allowed
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = False
    # (column, column) pairs where the first must not be earlier than the second, e.g. received >= ordered
    not_before: tuple[tuple[str, str], ...] = ()
    # columns whose values must exist in products.sku
    sku_column: str | None = "sku"
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _qty(name: str, **kw) -> Column:
    """A non-negative whole-number quantity."""
    return Column(name, "int", min=0, **kw)


def _money(name: str, **kw) -> Column:
    return Column(name, "float", min=0, **kw)


def _rate(name: str, **kw) -> Column:
    return Column(name, "float", min=0, max=1, **kw)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "products",
            "one row per SKU",
            (
                Column("sku", "str"),
                Column("title", "str"),
                Column("brand", "str"),
                Column("category", "str"),
                Column("product_type", "enum", choices=PRODUCT_TYPES),
                Column("brand_registered", "bool"),
                _money("unit_cost", doc="landed cost per unit, USD"),
                _money("price", doc="list price, USD"),
                _rate("fee_rate", doc="marketplace fees as a share of price"),
                Column("supplier", "str"),
                _qty("moq", doc="supplier minimum order quantity, units"),
                Column("case_pack", "int", min=1, doc="units per carton"),
                Column("is_key_item", "bool"),
                Column("launch_date", "date", required=False, nullable=True, doc="first day on sale"),
                Column("supplier_sku", "str", required=False, nullable=True),
            ),
            key=("sku",),
            required=True,
            sku_column=None,
        ),
        Table(
            "sales",
            "one row per SKU x channel x day",
            (
                Column("date", "date"),
                Column("sku", "str"),
                Column("channel", "str"),
                _qty("units"),
                _money("revenue"),
                Column("in_stock", "bool", required=False, nullable=True,
                       doc="false when the listing could not sell (demand censored)"),
                _money("price", required=False, nullable=True, doc="listed price that day, USD"),
                _qty("sessions", required=False, nullable=True, doc="listing page views"),
            ),
            key=("date", "sku", "channel"),
            required=True,
        ),
        Table(
            "inventory",
            "one row per SKU x location snapshot",
            (
                Column("as_of", "date"),
                Column("sku", "str"),
                Column("location", "str"),
                _qty("on_hand"),
                _qty("reserved"),
            ),
            key=("as_of", "sku", "location"),
            required=True,
        ),
        Table(
            "shipments",
            "one row per purchase order / shipment line",
            (
                Column("shipment_id", "str"),
                Column("sku", "str"),
                Column("supplier", "str"),
                Column("mode", "enum", choices=SHIP_MODES),
                Column("qty", "int", min=1),
                Column("order_date", "date"),
                Column("ship_date", "date", nullable=True),
                Column("eta", "date", nullable=True),
                Column("received_date", "date", nullable=True, doc="empty while in transit"),
                Column("location", "str"),
                _money("freight_cost", required=False, nullable=True, doc="freight cost of the line, USD"),
            ),
            key=("shipment_id", "sku"),
            required=True,
            not_before=(("ship_date", "order_date"), ("received_date", "order_date"), ("eta", "order_date")),
        ),
        Table(
            "ads",
            "one row per campaign x SKU x day",
            (
                Column("date", "date"),
                Column("sku", "str"),
                Column("channel", "str"),
                Column("campaign", "str"),
                Column("ad_type", "enum", choices=AD_TYPES),
                _qty("impressions"),
                _qty("clicks"),
                _money("spend"),
                _qty("ad_orders"),
                _money("ad_sales"),
                _money("daily_budget"),
                Column("targeting", "str", required=False, nullable=True,
                       doc="auto / broad / phrase / exact / product / brand"),
                _money("bid", required=False, nullable=True),
            ),
            key=("date", "sku", "channel", "campaign"),
        ),
        Table(
            "offers",
            "one row per listing snapshot",
            (
                Column("date", "date"),
                Column("sku", "str"),
                Column("channel", "str"),
                Column("seller_count", "int", min=1),
                Column("buybox_winner", "enum", choices=BUYBOX_WINNERS),
                _money("buybox_price", nullable=True),
                _money("lowest_competitor_price", nullable=True),
                _money("market_median_price", nullable=True),
            ),
            key=("date", "sku", "channel"),
        ),
        Table(
            "account_health",
            "one row per channel x day (or week)",
            (
                Column("date", "date"),
                Column("channel", "str"),
                _rate("odr", doc="order defect rate"),
                _rate("cancel_rate"),
                _rate("late_shipment_rate"),
                Column("rating", "float", min=0, max=5),
            ),
            key=("date", "channel"),
            sku_column=None,
        ),
        Table(
            "returns",
            "one row per return",
            (
                Column("date", "date"),
                Column("sku", "str"),
                Column("channel", "str"),
                Column("units", "int", min=1),
                Column("reason", "str"),
            ),
        ),
        Table(
            "events",
            "one row per calendar event day",
            (
                Column("date", "date"),
                Column("event", "str"),
                Column("scope", "str", doc="all, a channel, a category or a SKU"),
                Column("expected_uplift", "float", required=False, nullable=True, min=-1,
                       doc="expected demand change as a fraction, e.g. 0.8 = +80%"),
            ),
            key=("date", "event", "scope"),
            sku_column=None,
        ),
        Table(
            "keyword_ranks",
            "one row per keyword rank reading",
            (
                Column("date", "date"),
                Column("sku", "str"),
                Column("keyword", "str"),
                Column("organic_rank", "int", min=1, nullable=True, doc="empty when not ranked"),
            ),
            key=("date", "sku", "keyword"),
        ),
        Table(
            "supplier_feed",
            "one row per supplier stock reading",
            (
                Column("timestamp", "timestamp"),
                Column("sku", "str"),
                Column("supplier", "str"),
                _qty("supplier_stock"),
                Column("supplier_sku", "str", required=False, nullable=True),
            ),
            key=("timestamp", "sku", "supplier"),
        ),
    ]
}

# Optional input tables the sample generator (workbench/data/generate.py) does not write: part of the
# contract (validated and loaded like the others), kept out of TABLES, which the generator iterates.
PROMOTIONS = Table(
    "promotions",
    "one row per SKU x day on promotion (past and planned)",
    (
        Column("date", "date"),
        Column("sku", "str"),
        Column("channel", "str", required=False, nullable=True,
               doc="empty or absent: every channel"),
        Column("discount_pct", "float", required=False, nullable=True, min=0, max=100,
               doc="percent off the list price; empty: a promotion of unknown depth"),
    ),
    key=("date", "sku", "channel"),
)
INPUT_ONLY_TABLES: dict[str, Table] = {PROMOTIONS.name: PROMOTIONS}
# every table of the contract: what validation and loading check
CONTRACT_TABLES: dict[str, Table] = {**TABLES, **INPUT_ONLY_TABLES}

REQUIRED_TABLES = tuple(name for name, t in TABLES.items() if t.required)
