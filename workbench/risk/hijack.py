"""Listing-hijack risk: a 0-100 score from five weighted dimensions (domain-rules.md §3).

Source: the seller playbook in ``shared/docs/domain-rules.md`` §3 (anti-hijack practice collected
from practitioner write-ups). Every dimension is scored as a *share* in [0, 1] of its weight, then

    hijack_score = sum_d weight_d * share_d  (+ low_cover_points when cover_days < low_cover_days)

clipped to [0, 100]. Dimension shares with the playbook defaults:

* product type (30): standard 1.0, bundle 0.5, private_label 0.2, custom 0.0
* margin (25): margin = (price - unit_cost - price * fee_rate) / price, a fraction of price;
  bands  < 25% -> 0.0,  25-35% -> 0.4,  35-50% -> 0.7,  >= 50% -> 1.0
* competition (20): seller_count on the listing, linear from 5 sellers (0.0) to 20 sellers (1.0)
* brand protection (15): brand_registered False -> 1.0, True -> 0.0
* price position (10): premium = (price - market_median_price) / market_median_price;
  linear from +2% ("near the median", 0.0) to +10% ("clearly above", 1.0); below the median 0.0

An unknown input (no offers snapshot, no market median, price 0) scores ``unknown_share`` (0.5) of
its weight and the reason says so. Levels: low < 30 <= medium <= 60 < high, scanned every
60 / 30 / 15 minutes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from workbench.policies.base import Policy
from workbench.risk._common import ParameterError, latest_at_or_before, num, pct, require_columns, to_date

DIMENSIONS = ("product_type", "margin", "competition", "brand", "price")
DEFAULT_WEIGHTS = {"product_type": 30.0, "margin": 25.0, "competition": 20.0, "brand": 15.0, "price": 10.0}
DEFAULT_TYPE_RISK = {"standard": 1.0, "bundle": 0.5, "private_label": 0.2, "custom": 0.0}
LEVELS = ("low", "medium", "high")

FEATURE_COLUMNS = ["sku", "product_type", "brand_registered", "margin", "seller_count", "price_premium"]

ACTIONS = {
    "low": "scan offers hourly",
    "medium": "scan offers every 30 min; prepare complaint templates; consider differentiation (bundle, packaging)",
    "high": "scan offers every 15 min with SMS alerts; {brand}",
}


def margin_fraction(price, unit_cost, fee_rate):
    """Unit margin as a fraction of price: (price - unit_cost - price * fee_rate) / price; NaN when price <= 0."""
    price = np.asarray(price, dtype=float)
    unit_cost = np.asarray(unit_cost, dtype=float)
    fee_rate = np.asarray(fee_rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = (price - unit_cost - price * fee_rate) / price
    return np.where(price > 0, m, np.nan)


def hijack_features(products: pd.DataFrame, offers: pd.DataFrame | None, as_of=None, history: bool = False
                    ) -> pd.DataFrame:
    """Feature rows for the hijack score: one per SKU x channel (latest offers snapshot at or before ``as_of``).

    With ``history=True`` every offers row up to ``as_of`` becomes a feature row (for the learned model).
    SKUs without any offers snapshot get one row with channel, seller_count and price_premium missing.
    Own price is ``products.price`` (the list price); ``price_premium`` compares it with the snapshot's
    ``market_median_price``.
    """
    require_columns(products, "products", ["sku", "product_type", "brand_registered", "unit_cost", "price", "fee_rate"])
    prod = products[["sku", "product_type", "brand_registered", "unit_cost", "price", "fee_rate"]].copy()
    prod["margin"] = margin_fraction(prod["price"], prod["unit_cost"], prod["fee_rate"])
    prod["brand_registered"] = prod["brand_registered"].astype("boolean")

    if offers is None or offers.empty:
        snap = pd.DataFrame(columns=["sku", "channel", "date", "seller_count", "buybox_winner", "market_median_price",
                                     "buybox_price", "lowest_competitor_price"])
    else:
        require_columns(offers, "offers", ["date", "sku", "channel", "seller_count", "market_median_price"])
        if history:
            snap = offers[offers["date"] <= as_of] if as_of is not None else offers
            snap = snap.copy()
        else:
            snap = latest_at_or_before(offers, ["sku", "channel"], "date", as_of)
    keep = [c for c in ["sku", "channel", "date", "seller_count", "buybox_winner", "buybox_price",
                        "lowest_competitor_price", "market_median_price"] if c in snap.columns]
    snap = snap[keep].rename(columns={"date": "offers_date"})
    how = "inner" if history else "left"
    out = prod.merge(snap, on="sku", how=how)
    med = pd.to_numeric(out["market_median_price"], errors="coerce").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["price_premium"] = np.where(med > 0, (out["price"].astype(float) - med) / med, np.nan)
    out["seller_count"] = pd.to_numeric(out["seller_count"], errors="coerce").astype(float)
    return out.reset_index(drop=True)


class HijackScorer(Policy):
    """Rule-based hijack score (0-100), its five dimension scores, level, scan interval and actions.

    Parameters (defaults are the playbook's, domain-rules.md §3):
    weights: points per dimension, must sum to 100.
    type_risk: share of the product-type weight per product_type.
    margin_bands: margin fractions separating the bands (25% / 35% / 50%).
    margin_band_risk: share of the margin weight per band, lowest band first (one more than margin_bands).
    sellers_low, sellers_high: seller counts scoring 0 and the full competition weight (linear between).
    price_near, price_clear: price premium over the market median (fractions) scoring 0 and full weight.
    level_thresholds: (low_below, high_above) = (30, 60): score < 30 is low, > 60 is high.
    monitor_minutes: scan interval for low / medium / high.
    low_cover_days, low_cover_points: cover below this many days adds these points (out of stock invites hijackers).
    extra_protection_margin: margins above this (40%) are flagged for extra protection.
    unknown_share: share of a dimension's weight when its input is unknown.
    """

    def __init__(self, weights=None, type_risk=None, margin_bands=(0.25, 0.35, 0.50),
                 margin_band_risk=(0.0, 0.4, 0.7, 1.0), sellers_low=5, sellers_high=20, price_near=0.02,
                 price_clear=0.10, level_thresholds=(30.0, 60.0), monitor_minutes=(60, 30, 15),
                 low_cover_days=7.0, low_cover_points=10.0, extra_protection_margin=0.40, unknown_share=0.5):
        self.weights = weights
        self.type_risk = type_risk
        self.margin_bands = margin_bands
        self.margin_band_risk = margin_band_risk
        self.sellers_low = sellers_low
        self.sellers_high = sellers_high
        self.price_near = price_near
        self.price_clear = price_clear
        self.level_thresholds = level_thresholds
        self.monitor_minutes = monitor_minutes
        self.low_cover_days = low_cover_days
        self.low_cover_points = low_cover_points
        self.extra_protection_margin = extra_protection_margin
        self.unknown_share = unknown_share

    # -- parameters -------------------------------------------------------------------------------
    def _validate(self) -> None:
        self._resolved()

    def _resolved(self):
        w = dict(DEFAULT_WEIGHTS if self.weights is None else self.weights)
        if set(w) != set(DIMENSIONS):
            raise ParameterError(f"`weights` must have exactly the keys {', '.join(DIMENSIONS)}, got {', '.join(map(str, w))}")
        if any(not np.isfinite(float(v)) or float(v) < 0 for v in w.values()):
            raise ParameterError(f"`weights` must be numbers >= 0, got {w}")
        total = sum(float(v) for v in w.values())
        if abs(total - 100.0) > 1e-6:
            raise ParameterError(f"`weights` must sum to 100, got {num(total)}")
        tr = dict(DEFAULT_TYPE_RISK if self.type_risk is None else self.type_risk)
        for k, v in tr.items():
            if not 0.0 <= float(v) <= 1.0:
                raise ParameterError(f"`type_risk[{k!r}]` must be in [0, 1], got {v}")
        bands = tuple(float(b) for b in self.margin_bands)
        if list(bands) != sorted(bands) or len(set(bands)) != len(bands):
            raise ParameterError(f"`margin_bands` must be strictly increasing, got {self.margin_bands}")
        band_risk = tuple(float(b) for b in self.margin_band_risk)
        if len(band_risk) != len(bands) + 1:
            raise ParameterError(f"`margin_band_risk` must have {len(bands) + 1} values (one per band), got {len(band_risk)}")
        if any(not 0.0 <= b <= 1.0 for b in band_risk):
            raise ParameterError(f"`margin_band_risk` values must be in [0, 1], got {self.margin_band_risk}")
        if not 0 <= self.sellers_low < self.sellers_high:
            raise ParameterError(f"`sellers_low` must be >= 0 and < `sellers_high`, got {self.sellers_low} and {self.sellers_high}")
        if not self.price_near < self.price_clear:
            raise ParameterError(f"`price_near` must be < `price_clear`, got {self.price_near} and {self.price_clear}")
        lo, hi = (float(x) for x in self.level_thresholds)
        if not 0 <= lo <= hi <= 100:
            raise ParameterError(f"`level_thresholds` must be (low, high) with 0 <= low <= high <= 100, got {self.level_thresholds}")
        mins = tuple(self.monitor_minutes)
        if len(mins) != 3 or any(m <= 0 for m in mins):
            raise ParameterError(f"`monitor_minutes` must be three positive intervals (low, medium, high), got {self.monitor_minutes}")
        if not 0.0 <= self.unknown_share <= 1.0:
            raise ParameterError(f"`unknown_share` must be in [0, 1], got {self.unknown_share}")
        if self.low_cover_points < 0 or self.low_cover_days < 0:
            raise ParameterError(f"`low_cover_days` and `low_cover_points` must be >= 0, got {self.low_cover_days} and {self.low_cover_points}")
        return w, tr, bands, band_risk, (lo, hi), mins

    # -- scoring ----------------------------------------------------------------------------------
    def _dimension_shares(self, features: pd.DataFrame) -> pd.DataFrame:
        """Share in [0, 1] of each dimension's weight, NaN where the input is unknown."""
        _, tr, bands, band_risk, _, _ = self._resolved()
        f = features
        type_share = f["product_type"].map(tr).astype(float)  # unknown types: NaN
        margin = f["margin"].astype(float).to_numpy()
        idx = np.searchsorted(np.asarray(bands), margin, side="right")
        margin_share = np.where(np.isnan(margin), np.nan, np.asarray(band_risk)[np.clip(idx, 0, len(bands))])
        sellers = f["seller_count"].astype(float).to_numpy()
        comp = np.clip((sellers - self.sellers_low) / (self.sellers_high - self.sellers_low), 0.0, 1.0)
        reg = f["brand_registered"].astype("boolean")
        brand = np.where(reg.isna().to_numpy(), np.nan, np.where(reg.fillna(False).to_numpy(bool), 0.0, 1.0))
        prem = f["price_premium"].astype(float).to_numpy()
        price = np.clip((prem - self.price_near) / (self.price_clear - self.price_near), 0.0, 1.0)
        return pd.DataFrame({"product_type": type_share.to_numpy(), "margin": margin_share, "competition": comp,
                             "brand": brand, "price": price}, index=f.index)

    def score_features(self, features: pd.DataFrame) -> pd.DataFrame:
        """Dimension points, total score, level, interval for a frame of features (one row each).

        Not a second policy verb: it scores feature rows that have no snapshot, the offers history the
        learned model's holdout (:func:`workbench.risk.learned.holdout_compare`) compares the rule on.

        ``features`` columns: product_type, margin, seller_count, brand_registered, price_premium and
        optionally cover_days.
        """
        w, _, _, _, (lo, hi), mins = self._resolved()
        shares = self._dimension_shares(features)
        out = pd.DataFrame(index=features.index)
        total = np.zeros(len(features))
        for d in DIMENSIONS:
            known = shares[d].notna().to_numpy()
            pts = np.where(known, shares[d].to_numpy() * w[d], self.unknown_share * w[d])
            out[f"score_{d}"] = np.round(pts, 1)
            out[f"{d}_known"] = known
            total += pts
        cover = features["cover_days"].astype(float) if "cover_days" in features else pd.Series(np.nan, index=features.index)
        low_cover = (cover < self.low_cover_days).fillna(False).to_numpy(bool)
        out["low_cover_points"] = np.where(low_cover, float(self.low_cover_points), 0.0)
        total = np.clip(total + out["low_cover_points"].to_numpy(), 0, 100)
        out["hijack_score"] = np.round(total, 1)
        level = np.where(out["hijack_score"] > hi, "high", np.where(out["hijack_score"] < lo, "low", "medium"))
        out["hijack_level"] = level
        out["monitor_every_minutes"] = pd.Series(level, index=features.index).map(dict(zip(LEVELS, mins))).astype(int)
        return out

    def recommend(self, snapshot) -> pd.DataFrame:
        """One row per SKU of the snapshot: the rule (:meth:`_from_tables`) on the snapshot's products and
        offers, with its ``sellable_cover_days`` as the low-cover input (inbound stock does not protect the
        listing today), both snapshot covers and a ``reason`` (the hijack reason)."""
        covers = snapshot.covers()
        sellable = covers[["sku", "sellable_cover_days"]].rename(columns={"sellable_cover_days": "cover_days"})
        out = self._from_tables(snapshot["products"], snapshot.get("offers"), snapshot.as_of, cover_days=sellable)
        out = out.drop(columns=["cover_days"]).merge(covers, on="sku", how="left")
        out["reason"] = out["hijack_reason"]
        return out

    def _from_tables(self, products: pd.DataFrame, offers: pd.DataFrame | None, as_of,
                     cover_days: pd.DataFrame | None = None) -> pd.DataFrame:
        """The rule on raw tables (what :meth:`recommend` runs): one row per SKU: the channel with the highest score on the latest offers snapshot at or before ``as_of``.

        ``cover_days``: optional frame ``sku, cover_days`` (low cover raises exposure).
        Returns sku, channel, offers_date, hijack_score, hijack_level, monitor_every_minutes, the five
        ``score_*`` columns, the raw inputs, recommended_action, extra_protection and hijack_reason.
        """
        self._validate_all()
        weights = self._resolved()[0]
        as_of = to_date(as_of)
        feats = hijack_features(products, offers, as_of)
        if cover_days is not None and not cover_days.empty:
            feats = feats.merge(cover_days[["sku", "cover_days"]], on="sku", how="left")
        else:
            feats["cover_days"] = np.nan
        lost = feats[feats.get("buybox_winner", pd.Series(dtype=object)).astype(str) == "other"] \
            if "buybox_winner" in feats.columns else feats.iloc[:0]
        lost = (lost.groupby("sku").agg(buybox_lost_channel=("channel", "first"), buybox_lost_price=("buybox_price", "first"))
                .reset_index())
        scored = pd.concat([feats, self.score_features(feats)], axis=1)
        scored = (scored.sort_values(["sku", "hijack_score"], ascending=[True, False], kind="mergesort")
                  .groupby("sku", sort=True).head(1).reset_index(drop=True))
        scored = scored.merge(lost, on="sku", how="left")
        scored["buybox_lost"] = scored["buybox_lost_channel"].notna()
        scored["extra_protection"] = (scored["margin"] > self.extra_protection_margin).fillna(False)
        scored["margin_pct"] = (scored["margin"] * 100).round(1)
        scored["price_vs_median_pct"] = (scored["price_premium"] * 100).round(1)
        scored["recommended_action"] = [self._action(r) for r in scored.itertuples()]
        scored["hijack_reason"] = [self._reason(r, weights) for r in scored.itertuples()]
        return scored

    # -- text -------------------------------------------------------------------------------------
    def _action(self, r) -> str:
        text = ACTIONS[r.hijack_level]
        if r.hijack_level == "high":
            brand = ("brand registry in place: file complaints fast, consider a safer category"
                     if r.brand_registered is True or r.brand_registered == True  # noqa: E712 (pandas boolean)
                     else "brand registration strongly advised (or move to a safer category)")
            text = text.format(brand=brand)
        if r.buybox_lost:
            registered = r.brand_registered is True or r.brand_registered == True  # noqa: E712
            text = (f"buybox_lost on {r.buybox_lost_channel} (another seller wins at {float(r.buybox_lost_price):.2f}): within "
                    f"1 h test buy, then " + ("brand-registry complaint" if registered else
                                            "complaint to the marketplace (register the brand)")
                    + "; price response only down to the margin floor (pricing); " + text)
        if r.extra_protection and r.hijack_level != "high":
            text += f"; margin {pct(r.margin)} > {pct(self.extra_protection_margin)}: extra protection (brand registry or a unique selling point)"
        return text

    def _reason(self, r, w: dict) -> str:
        parts = []
        ptype = str(r.product_type).replace("_", " ")
        parts.append(f"{ptype} type {num(r.score_product_type)}/{num(w['product_type'])}")
        if r.margin_known:
            parts.append(f"margin {pct(r.margin)} {num(r.score_margin)}/{num(w['margin'])}")
        else:
            parts.append(f"margin unknown (price 0) {num(r.score_margin)}/{num(w['margin'])}")
        if r.competition_known:
            parts.append(f"{int(r.seller_count)} sellers {num(r.score_competition)}/{num(w['competition'])}")
        else:
            parts.append(f"sellers unknown (no offers snapshot) {num(r.score_competition)}/{num(w['competition'])}")
        parts.append(("brand registered" if r.brand_known and r.score_brand == 0 else
                      "no brand registry" if r.brand_known else "brand registry unknown")
                     + f" {num(r.score_brand)}/{num(w['brand'])}")
        if r.price_known:
            prem = r.price_premium
            where = (f"{pct(abs(prem))} above median" if prem > 0.005 else
                     f"{pct(abs(prem))} below median" if prem < -0.005 else "at median")
            parts.append(f"price {where} {num(r.score_price)}/{num(w['price'])}")
        else:
            parts.append(f"price vs median unknown {num(r.score_price)}/{num(w['price'])}")
        if r.low_cover_points > 0:
            parts.append(f"sellable cover {num(r.cover_days)} d < {num(self.low_cover_days)} d +{num(r.low_cover_points)}")
        chan = f" on {r.channel}" if isinstance(r.channel, str) else ""
        return (f"hijack {num(r.hijack_score)}/100 ({r.hijack_level}{chan}): " + ", ".join(parts)
                + f"; scan every {int(r.monitor_every_minutes)} min")
