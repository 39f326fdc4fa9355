"""Offers-history alerts (domain-rules.md §3): a new seller on the listing, Buy Box lost, abnormal price.

Each offers snapshot is compared with the previous snapshot of the same SKU x channel:

* ``new_seller``: seller_count rose (sellers before -> after);
* ``buybox_lost``: buybox_winner went from ``self`` to ``other`` or ``none``;
* ``price_below_cost``: lowest_competitor_price (or the Buy Box price when another seller holds it)
  is below our unit_cost: nobody sells genuine stock below our landed cost for long, a classic
  hijacker / counterfeit sign;
* ``price_far_from_median``: a rival price (the lowest competitor price, or the Buy Box price when
  another seller holds it) is more than ``far_from_median`` (default 30%) away from the market median.
  Our own price is a pricing question, not a hijack alert, so it is not checked here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from workbench.policies.base import Policy, check_whole_number
from workbench.risk._common import ParameterError, num, pct, require_columns

ALERT_COLUMNS = ["date", "sku", "channel", "alert", "severity", "value", "previous", "reason"]


class OffersAlerts(Policy):
    """Alerts from offers snapshots dated within ``lookback_days`` before ``as_of`` (inclusive).

    Parameters: lookback_days (7: one weekly report), far_from_median (0.30 = 30% away from the
    market median).
    """

    def __init__(self, lookback_days=7, far_from_median=0.30):
        self.lookback_days = lookback_days
        self.far_from_median = far_from_median

    def _validate(self) -> None:
        check_whole_number("lookback_days", self.lookback_days)
        if not 0 < self.far_from_median:
            raise ParameterError(f"`far_from_median` must be > 0, got {self.far_from_median!r}")

    def recommend(self, snapshot) -> pd.DataFrame:
        """The run's alerts from the snapshot's offers table; one row saying so when the table is absent."""
        offers = snapshot.get("offers")
        if offers is None:
            self._validate_all()
            return pd.DataFrame([{c: "" for c in ALERT_COLUMNS} | {
                "alert": "table_absent", "reason": "offers table absent from the dataset: no offers alerts"}])
        return self._from_tables(offers, snapshot["products"], snapshot.as_of)

    def _from_tables(self, offers: pd.DataFrame, products: pd.DataFrame, as_of) -> pd.DataFrame:
        """The rule on raw tables (what :meth:`recommend` runs): one row per alert, newest first."""
        self._validate_all()
        require_columns(offers, "offers", ["date", "sku", "channel", "seller_count", "buybox_winner"])
        as_of = pd.Timestamp(as_of)
        start = as_of - pd.Timedelta(days=self.lookback_days - 1)
        o = offers[offers["date"] <= as_of].sort_values(["sku", "channel", "date"], kind="mergesort").copy()
        g = o.groupby(["sku", "channel"], sort=False)
        o["prev_sellers"] = g["seller_count"].shift()
        o["prev_winner"] = g["buybox_winner"].shift()
        o["prev_date"] = g["date"].shift()
        o = o[o["date"] >= start].copy()
        cost = products.set_index("sku")["unit_cost"].astype(float)
        o["unit_cost"] = o["sku"].map(cost)
        rows = []

        def add(mask, alert, severity, value, previous, reasons):
            sub = o[mask]
            if sub.empty:
                return
            rows.append(pd.DataFrame({"date": sub["date"].to_numpy(), "sku": sub["sku"].to_numpy(),
                                      "channel": sub["channel"].to_numpy(), "alert": alert, "severity": severity,
                                      "value": np.asarray(value[mask], dtype=object),
                                      "previous": np.asarray(previous[mask], dtype=object),
                                      "reason": np.asarray(reasons[mask], dtype=object)}))

        sellers = o["seller_count"].astype(float)
        prev = o["prev_sellers"].astype(float)
        m = (sellers > prev).to_numpy()
        text = pd.Series([f"new seller on the listing: {num(p)} -> {num(s)} sellers since {d:%Y-%m-%d}" if ok else ""
                          for s, p, d, ok in zip(sellers, prev, o["prev_date"], m)], index=o.index)
        add(m, "new_seller", "medium", sellers.to_numpy(), prev.to_numpy(), text)

        lost = ((o["prev_winner"] == "self") & (o["buybox_winner"] != "self")).to_numpy()
        text = pd.Series([f"Buy Box lost: winner self -> {w} (Buy Box price {num(bp)})" if ok else ""
                          for w, bp, ok in zip(o["buybox_winner"], o.get("buybox_price", pd.Series(np.nan, index=o.index)), lost)],
                         index=o.index)
        add(lost, "buybox_lost", "high", o["buybox_winner"].to_numpy(), o["prev_winner"].to_numpy(), text)

        nan = pd.Series(np.nan, index=o.index)
        low = o["lowest_competitor_price"].astype(float) if "lowest_competitor_price" in o else nan
        bb = o["buybox_price"].astype(float) if "buybox_price" in o else nan
        other_bb = bb.where(o["buybox_winner"] == "other")
        rival = pd.concat([low, other_bb], axis=1).min(axis=1)
        below = (rival < o["unit_cost"]).fillna(False).to_numpy(bool)
        text = pd.Series([f"competitor price {num(r)} below our unit cost {num(c)}: likely hijacker or counterfeit"
                          if ok else "" for r, c, ok in zip(rival, o["unit_cost"], below)], index=o.index)
        add(below, "price_below_cost", "high", rival.round(2).to_numpy(), o["unit_cost"].to_numpy(), text)

        med = o["market_median_price"].astype(float) if "market_median_price" in o else nan
        with np.errstate(divide="ignore", invalid="ignore"):
            dev_low = (low - med) / med.where(med > 0)
            dev_bb = (other_bb - med) / med.where(med > 0)
        use_bb = dev_bb.abs().fillna(-1) > dev_low.abs().fillna(-1)
        dev = dev_low.where(~use_bb, dev_bb)
        rival_far = low.where(~use_bb, other_bb)
        what = np.where(use_bb, "other seller's Buy Box price", "lowest competitor price")
        far = (dev.abs() > self.far_from_median).fillna(False).to_numpy(bool)
        text = pd.Series([f"{w} {num(b)} is {pct(abs(d))} {'above' if d > 0 else 'below'} the market "
                          f"median {num(md)} (> {pct(self.far_from_median)})" if ok else ""
                          for w, b, md, d, ok in zip(what, rival_far, med, dev, far)], index=o.index)
        add(far, "price_far_from_median", "medium", rival_far.round(2).to_numpy(), med.to_numpy(), text)

        if not rows:
            return pd.DataFrame(columns=ALERT_COLUMNS)
        out = pd.concat(rows, ignore_index=True)
        return out.sort_values(["date", "sku", "channel", "alert"], ascending=[False, True, True, True],
                               kind="mergesort").reset_index(drop=True)[ALERT_COLUMNS]
