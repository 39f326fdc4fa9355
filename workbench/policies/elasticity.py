"""Own-price elasticity per SKU × channel, pooled per category with shrinkage.

Model (constant elasticity, Poisson log-linear demand with fixed effects), on weekly data::

    units_{i,t} ~ Poisson( days_{i,t} · exp(α_i + γ_{c(i),t} + β_i · x_{i,t}) )

units and days count in-stock days only (out-of-stock days are censored demand); x is the log of
the week's mean price (``sales.price`` where given, else revenue / units), centred per SKU. α_i is
the SKU level, γ_{c,t} a category × week effect (season, events, market moves), so β is identified
from each SKU's own price moves relative to its category. A Poisson model keeps zero-sale weeks and
avoids the bias of log(units) for slow movers (Santos Silva & Tenreyro 2006, "The log of gravity").

Two stages, pooled per category with shrinkage (a random-slope model fitted empirically):

1. category: :class:`sklearn.linear_model.PoissonRegressor` with SKU and week dummies and one
   common slope (on at most ``max_skus_per_category`` SKUs, sampled with ``seed``); it gives the
   week effects and the Pearson dispersion φ (quasi-Poisson);
2. SKU: each SKU's own slope b_i (Poisson likelihood, week effects fixed from stage 1) with
   variance v_i = max(φ, φ_i) / Σ μ x² (φ_i the SKU's own Pearson dispersion); the between-SKU variance τ² by the method of moments and the
   category slope β_c as the precision-weighted mean of the b_i (random-effects pooling,
   DerSimonian & Laird 1986); then the empirical-Bayes posterior mean
   ``β_i = β_c + τ² / (τ² + v_i) · (b_i − β_c)`` (Efron & Morris 1975; Gelman & Hill,
   *Data Analysis Using Regression and Multilevel/Hierarchical Models*, ch. 12).

A SKU whose price never moved (or with fewer than ``min_weeks`` weeks) gets β_c; a category
without price moves gets ``prior_elasticity``; ``prior_sd`` is τ when a category has fewer than 3
SKUs with their own price moves. Results are clipped to ``bounds``.

Predicted effects of a price change c (fraction): units × (1 + c)^β;
profit per unit = p(1 − fee_rate) − unit_cost.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.linear_model import PoissonRegressor

from workbench.policies.base import check_in_range
from workbench.errors import ParameterError
from workbench.policies.phase import as_timestamp
from workbench.stock import columns_until, in_stock_flags


def weekly_price_panel(sales: pd.DataFrame, products: pd.DataFrame, as_of=None,
                       min_days: int = 4, inventory: pd.DataFrame | None = None,
                       settle_days: int = 28) -> pd.DataFrame:
    """Weekly sku × channel panel of in-stock days: week, category, units, days, price, x (centred log price).

    Weeks with fewer than ``min_days`` usable days are left out; zero-sale weeks are kept when the
    price is known (``sales.price``). Days within ``settle_days`` after an out-of-stock day and the
    last day before one are not used (sales there are held down by lost rank or by the stock).
    """
    # the columns used, as a frame over the table's own arrays: the sales table has ~8 M rows at 10,000
    # SKUs, and its rows are copied once, those kept, in (sku, channel, date) order (issue 12, item 8)
    cols = [c for c in ("sku", "channel", "date", "units", "revenue", "price", "in_stock") if c in sales.columns]
    s = columns_until(sales, cols, None if as_of is None else as_timestamp(as_of))
    ok = in_stock_flags(s, inventory).to_numpy(dtype=bool)
    key = s.groupby(["sku", "channel"], sort=True, observed=True).ngroup().to_numpy()  # hashed once
    order = np.lexsort((s["date"].to_numpy(dtype="datetime64[ns]").view("int64"), key))
    key, ok = key[order], ok[order]
    if settle_days > 0:
        # days right after a stockout sell below demand (lost rank) and the day before one is cut
        # short by the stock: both would bias the slope towards zero, so they are left out
        date = pd.Series(s["date"].to_numpy()[order])
        last_oos = date.where(~ok).groupby(key).ffill()
        recent = ((date - last_oos).dt.days <= settle_days).to_numpy()
        del date, last_oos
        next_oos = pd.Series(~ok).groupby(key).shift(-1, fill_value=False).to_numpy(dtype=bool)
        ok &= ~recent & ~next_oos
        del recent, next_oos
    s = s.take(order[ok])  # a new frame: the rows used, in (sku, channel, date) order
    del key, order, ok
    unit_price = s["revenue"] / s["units"].where(s["units"] > 0)
    s["_price"] = s["price"].fillna(unit_price) if "price" in s.columns else unit_price
    codes, days = pd.factorize(s["date"])  # ~700 distinct days for millions of rows: each converted once
    s["week"] = pd.DatetimeIndex(days).to_period("W-SUN").start_time.to_numpy()[codes]
    g = s.groupby(["sku", "channel", "week"], observed=True).agg(
        units=("units", "sum"), days=("date", "nunique"), price=("_price", "mean"))
    g = g.loc[(g["days"] >= min_days) & (g["price"] > 0)].reset_index()
    g = g.merge(products[["sku", "category"]], on="sku", how="left")
    g["category"] = g["category"].astype(object).fillna("(none)")
    g["log_p"] = np.log(g["price"])
    g["x"] = g["log_p"] - g.groupby(["sku", "channel"], observed=True)["log_p"].transform("mean")
    return g


def _sku_slopes(units, days, offset, x, entity, n_entities, beta_c, penalty, iters: int = 25):
    """Per-entity (α_i, δ_i) maximising Σ[u·η − d·e^η] − penalty·δ²/2, η = α + offset + (β_c + δ)·x.

    Newton–Raphson on two parameters per entity, vectorised with bincount.
    """
    alpha = np.log(np.maximum(np.bincount(entity, units, n_entities), 0.5)
                   / np.maximum(np.bincount(entity, days * np.exp(offset + beta_c * x), n_entities), 1e-12))
    delta = np.zeros(n_entities)
    for _ in range(iters):
        eta = alpha[entity] + offset + (beta_c + delta[entity]) * x
        mu = days * np.exp(np.clip(eta, -30, 30))
        r = units - mu
        ga = np.bincount(entity, r, n_entities)
        gd = np.bincount(entity, r * x, n_entities) - penalty * delta
        haa = np.bincount(entity, mu, n_entities) + 1e-9
        had = np.bincount(entity, mu * x, n_entities)
        hdd = np.bincount(entity, mu * x * x, n_entities) + penalty
        det = haa * hdd - had ** 2
        det = np.where(det > 1e-12, det, 1e-12)
        step_a = (hdd * ga - had * gd) / det
        step_d = (haa * gd - had * ga) / det
        alpha += np.clip(step_a, -2, 2)
        delta += np.clip(step_d, -2, 2)
        if max(np.abs(step_a).max(initial=0), np.abs(step_d).max(initial=0)) < 1e-8:
            break
    mu = days * np.exp(np.clip(alpha[entity] + offset + (beta_c + delta[entity]) * x, -30, 30))
    info = np.bincount(entity, mu * x * x, n_entities)
    n = np.bincount(entity, minlength=n_entities)
    pearson = np.bincount(entity, (units - mu) ** 2 / np.maximum(mu, 1e-9), n_entities) / np.maximum(n - 2, 1)
    return delta, info, np.maximum(pearson, 1.0)


@dataclass(repr=False)
class ElasticityEstimator(BaseEstimator):
    """Estimate own-price elasticity per SKU × channel (see module docstring for the model).

    An estimator, not a policy: it recommends nothing, it measures the slope the pricing policy and
    the what-if engine use. It keeps the estimator contract (scikit-learn parameters, ``clone``, one
    :class:`workbench.errors.ParameterError` naming a bad parameter, deterministic for a ``seed``):
    :meth:`fit` on the sales history, then :meth:`predict` (one slope per row) or :meth:`lookup`
    (the slope with its source and weeks).

    Parameters
    ----------
    prior_elasticity : slope where a whole category has no price moves (−1.5, a typical e-commerce value).
    prior_sd : spread of SKU slopes around their category when it cannot be estimated (0.5).
    min_weeks : fewer usable weeks than this and the SKU takes its category's slope (8).
    time_effects : include category × week effects (True).
    max_skus_per_category : SKUs × channels sampled for the category stage (100).
    bounds : clip estimates to this range ((−6, −0.2)): demand slopes down.
    settle_days : days after a stockout left out of the fit (28): sales are still held down by lost rank.
    seed : for the category-stage sample.
    """

    prior_elasticity: float = -1.5
    prior_sd: float = 0.5
    min_weeks: int = 8
    time_effects: bool = True
    max_skus_per_category: int = 100
    bounds: tuple[float, float] = (-6.0, -0.2)
    settle_days: int = 28
    seed: int = 0

    def _validate(self) -> None:
        check_in_range("prior_elasticity", self.prior_elasticity, -10, 0)
        check_in_range("prior_sd", self.prior_sd, 0, 10)
        check_in_range("min_weeks", self.min_weeks, 2, 520, closed="both")
        check_in_range("max_skus_per_category", self.max_skus_per_category, 2, 1e6, closed="both")
        check_in_range("settle_days", self.settle_days, 0, 365, closed="both")
        try:
            lo, hi = (float(b) for b in self.bounds)
        except (TypeError, ValueError):
            lo, hi = np.nan, np.nan
        if not (lo < hi <= 0):
            raise ParameterError(f"`bounds` must be (low, high) with low < high <= 0, got {self.bounds!r}")
        if not isinstance(self.time_effects, (bool, np.bool_)):
            raise ParameterError(f"`time_effects` must be True or False, got {self.time_effects!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise ParameterError(f"`seed` must be a whole number, got {self.seed!r}")

    def fit(self, sales: pd.DataFrame, products: pd.DataFrame, as_of=None,
            inventory: pd.DataFrame | None = None) -> "ElasticityEstimator":
        """Fit on sales history up to as_of; sets ``table_`` (one row per sku × channel) and ``categories_``."""
        self._validate()
        panel = weekly_price_panel(sales, products, as_of, inventory=inventory, settle_days=self.settle_days)
        self.panel_ = panel
        rows, cats = [], []
        for cat, g in panel.groupby("category", sort=True):
            c = self._fit_category(g)
            rows.append(self._fit_skus(g, c))  # also sets the pooled category slope
            cats.append(dict(category=cat, **{k: v for k, v in c.items() if k != "week_effects"}))
        self.categories_ = pd.DataFrame(cats, columns=["category", "elasticity", "between_sku_sd", "dispersion",
                                                      "n_weeks", "source"])
        cols = ["sku", "channel", "category", "elasticity", "own_elasticity", "category_elasticity", "n_weeks",
                "price_variation", "elasticity_source"]
        self.table_ = pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
        return self

    def _fit_category(self, g: pd.DataFrame) -> dict:
        weeks = np.sort(g["week"].unique())
        no_moves = dict(elasticity=self.prior_elasticity, dispersion=1.0, n_weeks=len(g),
                        source="prior (no price moves in category)", week_effects=pd.Series(0.0, index=weeks))
        if float(g["x"].abs().max()) < 1e-6 or g["units"].sum() <= 0:
            return no_moves
        ent = (g["sku"].astype(str) + "\x00" + g["channel"].astype(str))
        names = np.sort(ent.unique())
        if len(names) > self.max_skus_per_category:
            rng = np.random.default_rng(self.seed)
            names = np.sort(rng.choice(names, self.max_skus_per_category, replace=False))
        sub = g.loc[ent.isin(names).to_numpy()]
        e_codes = pd.Categorical(ent[ent.isin(names)], categories=names).codes
        w_codes = pd.Categorical(sub["week"], categories=weeks).codes
        n = len(sub)
        X = np.zeros((n, len(names) + (len(weeks) if self.time_effects else 0) + 1))
        X[np.arange(n), e_codes] = 1.0
        if self.time_effects:
            X[np.arange(n), len(names) + w_codes] = 1.0
        X[:, -1] = sub["x"].to_numpy()
        y = (sub["units"] / sub["days"]).to_numpy(float)
        w = sub["days"].to_numpy(float)
        model = PoissonRegressor(alpha=1e-6, solver="newton-cholesky", max_iter=100).fit(X, y, sample_weight=w)
        beta = float(np.clip(model.coef_[-1], *self.bounds))
        mu = model.predict(X) * w
        dispersion = max(float(((sub["units"].to_numpy() - mu) ** 2 / np.maximum(mu, 1e-9)).sum()
                               / max(n - X.shape[1], 1)), 1.0)
        effects = pd.Series(model.coef_[len(names):len(names) + len(weeks)] if self.time_effects
                            else np.zeros(len(weeks)), index=weeks)
        return dict(elasticity=beta, dispersion=dispersion, n_weeks=len(g), source="category pooled",
                    week_effects=effects)

    def _fit_skus(self, g: pd.DataFrame, c: dict) -> pd.DataFrame:
        ent = g["sku"].astype(str) + "\x00" + g["channel"].astype(str)
        codes, names = pd.factorize(ent, sort=True)
        k = len(names)
        offset = g["week"].map(c["week_effects"]).fillna(0.0).to_numpy(float)
        x = g["x"].to_numpy(float)
        # unpenalised slope and its variance per SKU (quasi-Poisson: variance × dispersion)
        delta, info, dispersion = _sku_slopes(g["units"].to_numpy(float), g["days"].to_numpy(float), offset, x,
                                              codes, k, c["elasticity"], 1e-6)
        n_weeks = np.bincount(codes, minlength=k)
        var_x = np.bincount(codes, x * x, k) / np.maximum(n_weeks, 1)
        own = (n_weeks >= self.min_weeks) & (var_x > 1e-8) & (c["source"] == "category pooled") & (info > 1e-9)
        b = np.clip(c["elasticity"] + delta, -15, 5)
        # each SKU's own Pearson dispersion: a SKU the model fits badly (stockouts, hijackers,
        # promotions) earns less trust than its sales volume alone would suggest
        v = np.maximum(dispersion, c["dispersion"]) / np.maximum(info, 1e-9)
        centre, tau2 = c["elasticity"], self.prior_sd ** 2
        if own.sum() >= 3:
            # random-effects pooling (DerSimonian & Laird 1986): between-SKU variance τ² by moments,
            # the category slope as the precision-weighted mean of the SKU slopes
            bo, vo = b[own], v[own]
            w0 = 1 / vo
            mean0 = (w0 * bo).sum() / w0.sum()
            q = (w0 * (bo - mean0) ** 2).sum()
            tau2 = max((q - (len(bo) - 1)) / (w0.sum() - (w0 ** 2).sum() / w0.sum()), 0.01)
            w = 1 / (vo + tau2)
            centre = float(np.clip((w * bo).sum() / w.sum(), *self.bounds))
        weight = tau2 / (tau2 + v)
        beta = np.where(own, np.clip(centre + weight * (b - centre), *self.bounds), centre)
        c["elasticity"] = centre
        c["between_sku_sd"] = float(np.sqrt(tau2))
        src = "category" if c["source"] == "category pooled" else "prior"
        source = np.where(own, [f"own history shrunk to category (weight {w_:.0%})" for w_ in weight],
                          f"{src} (too few own price moves)")
        first = g.groupby(codes).first()
        return pd.DataFrame({"sku": first["sku"].astype(str).to_numpy(), "channel": first["channel"].astype(str).to_numpy(),
                             "category": first["category"].to_numpy(), "elasticity": beta,
                             "own_elasticity": np.where(own, b, np.nan),
                             "category_elasticity": centre, "n_weeks": n_weeks,
                             "price_variation": np.sqrt(var_x), "elasticity_source": source})

    def predict(self, pairs: pd.DataFrame, products: pd.DataFrame) -> np.ndarray:
        """The fitted elasticity for every sku × channel row of ``pairs`` (:meth:`lookup`'s ``elasticity``)."""
        return self.lookup(pairs, products)["elasticity"].to_numpy(float)

    def lookup(self, pairs: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
        """Elasticity for every sku × channel in ``pairs``; unseen SKUs get their category's slope or the prior."""
        out = pairs[["sku", "channel"]].merge(self.table_.drop(columns="category"), on=["sku", "channel"], how="left")
        out = out.merge(products[["sku", "category"]], on="sku", how="left")
        cat = self.categories_.set_index("category")["elasticity"] if len(self.categories_) else pd.Series(dtype=float)
        missing = out["elasticity"].isna()
        fill = out.loc[missing, "category"].map(cat)
        out.loc[missing, "elasticity_source"] = np.where(fill.notna(), "category (no usable own weeks)",
                                                         "prior (no usable weeks)")
        out.loc[missing, "elasticity"] = fill.fillna(self.prior_elasticity)
        cat_slope = pd.to_numeric(out["category"].map(cat), errors="coerce")
        out["category_elasticity"] = pd.to_numeric(out["category_elasticity"], errors="coerce").fillna(
            cat_slope).fillna(self.prior_elasticity)
        out["n_weeks"] = pd.to_numeric(out["n_weeks"], errors="coerce").fillna(0).astype(int)
        return out


def units_change(change, elasticity):
    """Relative change in units for a relative price change: (1 + c)^β − 1."""
    return np.power(1.0 + np.asarray(change, dtype=float), np.asarray(elasticity, dtype=float)) - 1.0


def profit_change(price, new_price, unit_cost, fee_rate, elasticity):
    """Relative change in gross profit (before ads) for a price move, constant elasticity.

    profit = q · (p(1 − fee_rate) − unit_cost);  q' = q · (p'/p)^β.
    Returns NaN where the current unit margin is not positive.
    """
    price, new_price = np.asarray(price, float), np.asarray(new_price, float)
    m0 = price * (1 - np.asarray(fee_rate, float)) - np.asarray(unit_cost, float)
    m1 = new_price * (1 - np.asarray(fee_rate, float)) - np.asarray(unit_cost, float)
    q = np.power(new_price / price, np.asarray(elasticity, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m0 > 0, q * m1 / np.where(m0 > 0, m0, 1) - 1.0, np.nan)


def price_change_for_units(units_ratio, elasticity):
    """Price change c that moves units by the given ratio: c = ratio^(1/β) − 1."""
    return np.power(np.asarray(units_ratio, float), 1.0 / np.asarray(elasticity, float)) - 1.0
