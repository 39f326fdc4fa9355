"""Supplier feed checks (domain-rules.md §7): staleness, oversell risk, SKU code changes.

Reference time is the end of the ``as_of`` day (as_of + 24 h); readings stamped after it are not seen.

* staleness: hours since the supplier's last reading (any SKU) and since the SKU's last reading;
  stale when above ``max_staleness_hours`` (6 h: "real time or at least every few hours");
* oversell risk: listed stock (our available units: on_hand - reserved in the latest inventory
  snapshot) above the supplier's last reported stock. Listed stock counts the SKU's locations whose
  name matches ``listed_location_pattern`` (default "dropship", case-insensitive, e.g.
  SUPPLIER-DROPSHIP); a SKU with no such location falls back to all its locations;
* SKU code change: the supplier_sku in the feed changed within the lookback, or differs from
  products.supplier_sku.

Every flagged row has ``review = True`` (manual review, per the playbook).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from workbench.policies.base import Policy, check_whole_number
from workbench.risk._common import ParameterError, num, require_columns

FEED_COLUMNS = ["sku", "supplier", "last_reading", "hours_since_reading", "supplier_hours_since_reading", "stale",
                "supplier_stock", "listed_stock", "oversell_units", "oversell_risk", "supplier_sku",
                "sku_code_changed", "review", "reason"]


class SupplierFeedPolicy(Policy):
    """Per SKU x supplier feed check. Parameters: max_staleness_hours (6), lookback_days for SKU code
    changes (30), listed_location_pattern (regex, "dropship"; None = every location counts as listed)."""

    def __init__(self, max_staleness_hours=6.0, lookback_days=30, listed_location_pattern="dropship"):
        self.max_staleness_hours = max_staleness_hours
        self.lookback_days = lookback_days
        self.listed_location_pattern = listed_location_pattern

    def _validate(self) -> None:
        if not self.max_staleness_hours > 0:
            raise ParameterError(f"`max_staleness_hours` must be > 0, got {self.max_staleness_hours}")
        check_whole_number("lookback_days", self.lookback_days)

    def recommend(self, snapshot) -> pd.DataFrame:
        """Feed checks from the snapshot's supplier_feed; listed stock is the snapshot's per-location
        ``available`` (one row saying so when the feed table is absent)."""
        feed = snapshot.get("supplier_feed")
        if feed is None:
            self._validate_all()
            return absent_feed()
        return self._from_tables(feed, snapshot["products"], snapshot.locations, snapshot.as_of)

    def _listed(self, locations: pd.DataFrame | None) -> pd.Series:
        """Listed stock per SKU: available units at the locations matching ``listed_location_pattern``
        (all of a SKU's locations when none matches)."""
        if locations is None or locations.empty:
            return pd.Series(dtype=float)
        snap = locations
        if self.listed_location_pattern:
            match = snap["location"].astype(str).str.contains(self.listed_location_pattern, case=False, regex=True)
            has_match = snap["sku"].map(match.groupby(snap["sku"]).any())
            snap = snap[match | ~has_match]
        return snap["available"].groupby(snap["sku"]).sum().astype(float)

    def _from_tables(self, supplier_feed: pd.DataFrame, products: pd.DataFrame, locations: pd.DataFrame | None,
                     as_of) -> pd.DataFrame:
        """The rule on raw tables (what :meth:`recommend` runs); ``locations``: per-location stock
        (``sku, location, available``, the snapshot's :attr:`~workbench.stock.StockSnapshot.locations`)."""
        self._validate_all()
        require_columns(supplier_feed, "supplier_feed", ["timestamp", "sku", "supplier", "supplier_stock"])
        now = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        f = supplier_feed[supplier_feed["timestamp"] < now].sort_values("timestamp", kind="mergesort")
        if f.empty:
            return pd.DataFrame(columns=FEED_COLUMNS)
        last = f.groupby(["sku", "supplier"]).tail(1).set_index(["sku", "supplier"])
        sup_last = f.groupby("supplier")["timestamp"].max()
        listed = self._listed(locations)

        recent = f[f["timestamp"] >= now - pd.Timedelta(days=self.lookback_days)]
        has_code = "supplier_sku" in f.columns
        prod_code = (products.set_index("sku")["supplier_sku"] if "supplier_sku" in products.columns
                     else pd.Series(dtype=object))
        codes = (recent.dropna(subset=["supplier_sku"]).groupby(["sku", "supplier"])["supplier_sku"]
                 .agg(lambda s: list(dict.fromkeys(s))) if has_code else pd.Series(dtype=object))

        rows = []
        for (sku, sup), r in last.iterrows():
            hours = (now - r["timestamp"]) / pd.Timedelta(hours=1)
            sup_hours = (now - sup_last[sup]) / pd.Timedelta(hours=1)
            stale = hours > self.max_staleness_hours
            stock = float(r["supplier_stock"])
            lst = float(listed.get(sku, np.nan))
            over = max(lst - stock, 0.0) if not np.isnan(lst) else np.nan
            over_risk = bool(not np.isnan(lst) and lst > stock)
            code = r["supplier_sku"] if has_code and pd.notna(r.get("supplier_sku")) else None
            seen = codes.get((sku, sup), []) if has_code else []
            catalog = prod_code.get(sku) if len(prod_code) else None
            changes = []
            if len(seen) > 1:
                changes.append(f"supplier SKU code changed {' -> '.join(map(str, seen))} in {self.lookback_days} d")
            if code is not None and catalog is not None and pd.notna(catalog) and str(catalog) != str(code):
                changes.append(f"feed code {code} differs from catalog supplier_sku {catalog}")
            parts = [f"last reading {num(hours)} h ago" + (f" > {num(self.max_staleness_hours)} h: STALE" if stale
                                                           else f" (<= {num(self.max_staleness_hours)} h)")]
            if over_risk:
                parts.append(f"listed {num(lst)} > supplier stock {num(stock)}: oversell risk {num(over)} units")
            elif not np.isnan(lst):
                parts.append(f"listed {num(lst)} <= supplier stock {num(stock)}")
            else:
                parts.append(f"supplier stock {num(stock)}, no listed stock in inventory")
            parts += changes
            review = bool(stale or over_risk or changes)
            rows.append({"sku": sku, "supplier": sup, "last_reading": r["timestamp"].strftime("%Y-%m-%d %H:%M"),
                         "hours_since_reading": round(hours, 1), "supplier_hours_since_reading": round(sup_hours, 1),
                         "stale": bool(stale), "supplier_stock": stock, "listed_stock": lst, "oversell_units": over,
                         "oversell_risk": over_risk, "supplier_sku": code, "sku_code_changed": bool(changes),
                         "review": review,
                         "reason": f"supplier feed {sup} / {sku}: " + "; ".join(parts)
                                   + ("; flagged for manual review" if review else "")})
        out = pd.DataFrame(rows, columns=FEED_COLUMNS)
        return out.sort_values(["review", "hours_since_reading"], ascending=[False, False],
                               kind="mergesort").reset_index(drop=True)


def absent_feed(why: str = "supplier_feed table absent from the dataset") -> pd.DataFrame:
    row = {c: np.nan for c in FEED_COLUMNS}
    row.update({"sku": "", "supplier": "", "stale": False, "oversell_risk": False, "sku_code_changed": False,
                "review": False, "reason": f"{why}: no supplier-feed check was possible"})
    return pd.DataFrame([row], columns=FEED_COLUMNS)
