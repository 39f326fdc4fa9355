"""The policies the backtest replays, each behind ONE adapter function.

An adapter takes the view of the dataset a policy may see (:func:`workbench.backtest.view.build_view`)
and the decision day, and returns the orders to place that day: a frame ``sku, qty, mode, reason``
(one row per SKU × ship mode, ``qty`` > 0). Switching a policy to another implementation (e.g. the
stock-snapshot pipeline) is an edit of its adapter only; the replay does not know what is inside.

The decision day ``day`` is the first day of the replayed week; the view holds data dated before it,
so the policy is called with ``as_of = day − 1`` (the restock convention: data up to and including
``as_of``, forecasts for the days after it).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

ORDER_COLUMNS = ["sku", "qty", "mode", "reason"]
FORECAST_HORIZON_DAYS = 120
URGENT_COVER_DAYS = 20.0  # the playbook's yellow band: cover ≤ 20 d, consider air (domain-rules.md §1)


def _orders(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=ORDER_COLUMNS)
    return out[out["qty"] > 0].reset_index(drop=True)


def refresh_forecast(view, day: pd.Timestamp, fast: bool = False) -> pd.DataFrame:
    """The forecast frame of :func:`forecast_and_errors`."""
    return forecast_and_errors(view, day, fast)[0]


def forecast_and_errors(view, day: pd.Timestamp, fast: bool = False):
    """The forecast the weekly run would make from the view: the engine on the corrected history.
    Returns (forecast frame, its backtest errors by window: :func:`workbench.forecast.errors.lead_time_errors`).

    Analyst overrides are not applied (they are today's judgement, not the past's). ``fast`` runs the
    engine without its global model and with one backtest window (for long sweeps).
    """
    from workbench.forecast.errors import lead_time_errors

    res = forecast_result(view, day, fast)
    return res.forecast, lead_time_errors(res)


def forecast_result(view, day: pd.Timestamp, fast: bool = False, prev=None, global_model=None):
    """The engine's :class:`~workbench.forecast.api.ForecastResult` on the view's corrected history before
    ``day``. ``prev``: a result whose model selection to keep (:func:`workbench.forecast.api.refresh_forecast`:
    the chosen models refit on the new history); without it, or when the selection does not carry over, a
    full run that keeps its selection for later refreshes. ``global_model``: the global model object of a
    full run (e.g. :class:`workbench.forecast.chunks.PeriodicGlobalModel`); default a new fit per call.
    The view's promotions table (planned promotions, known ahead: the view keeps it whole) reaches the
    engine as known future regressors, as in the weekly run (:func:`workbench.forecast.history.promotion_regressors`)."""
    from workbench.forecast.api import forecast_frame, refresh_forecast
    from workbench.forecast.history import demand_history, promotion_regressors

    history = demand_history(view.tables, day - pd.Timedelta(days=1))
    history, future = promotion_regressors(history, view.get("promotions"), FORECAST_HORIZON_DAYS)
    res = refresh_forecast(prev, history, n_jobs=1, future=future) if prev is not None else None
    if res is None:
        kw = dict(use_global_model=False, n_windows=1) if fast else {}
        res = forecast_frame(history, horizon=FORECAST_HORIZON_DAYS, freq="D", levels=[80, 95],
                             events=view.get("events"), overrides={}, n_jobs=1, keep_selection=True,
                             future=future, global_model=global_model, **kw)
    return res


class WeeklyForecaster:
    """The workbench's forecast for each decision day of a replay: (forecast frame, lead-time errors).

    ``forecast_every``: weeks between forecasts (the frame is reused in between). ``select_every``: weeks
    between full runs of the engine (rolling-origin backtest of every candidate, model choice, ensemble
    weights, interval calibration); the forecasts in between keep that selection and refit the chosen
    models on the newest history (:func:`workbench.forecast.api.refresh_forecast`). 1 = a full run at every
    forecast, as the weekly run does. ``global_refit_every``: weeks between fits of the global model at
    those refits (None: a new fit at every forecast; k: a fit at most every k weeks, applied to the newer
    history in between, :class:`workbench.forecast.chunks.PeriodicGlobalModel`). ``fast``: the engine
    without its global model and with one backtest window. ``full_runs``/``refits`` count the two kinds."""

    def __init__(self, forecast_every: int = 1, select_every: int = 1, global_refit_every: int | None = None,
                 fast: bool = False):
        for name, v in (("forecast_every", forecast_every), ("select_every", select_every),
                        ("global_refit_every", global_refit_every or 1)):
            if int(v) < 1:
                raise ValueError(f"{name} must be at least 1 week, got {v}")
        self.forecast_every, self.select_every = int(forecast_every), int(select_every)
        self.global_refit_every, self.fast = global_refit_every, fast
        self.res = self.errors = self.day = self.selected = None
        self.full_runs = self.refits = 0

    def __call__(self, view, day: pd.Timestamp):
        from workbench.forecast.errors import lead_time_errors

        if self.res is not None and (day - self.day).days < 7 * self.forecast_every:
            return self.res.forecast, self.errors
        due = self.selected is None or (day - self.selected).days >= 7 * self.select_every
        kept = self.res.selection if self.res is not None else None
        res = forecast_result(view, day, self.fast, prev=None if due else self.res, global_model=self._global(view))
        if res.selection is None or res.selection is not kept:
            self.selected, self.full_runs = day, self.full_runs + 1
        else:
            self.refits += 1
        self.res, self.day = res, day
        self.errors = lead_time_errors(res)
        return res.forecast, self.errors

    def _global(self, view):
        """One :class:`~workbench.forecast.chunks.PeriodicGlobalModel` for the whole replay (its last fit
        carries over from run to run), or None: each run fits its own."""
        if self.fast or self.global_refit_every is None:
            return None
        if getattr(self, "_gm", None) is None:
            from workbench.forecast.chunks import PeriodicGlobalModel
            from workbench.forecast.gbm import GlobalGBM

            self._gm = PeriodicGlobalModel(GlobalGBM("D", FORECAST_HORIZON_DAYS, events=view.get("events")),
                                           refit_every=7 * int(self.global_refit_every))
        return self._gm


def restock_on_view(view, as_of: pd.Timestamp, forecast: pd.DataFrame, policy, errors=None,
                    lead_times: pd.DataFrame | None = None) -> pd.DataFrame:
    """The pipeline's restock step on what the policy may see: one stock snapshot, then ``policy.recommend``.

    ``errors``: the forecast's backtest errors (lead-time demand spread); ``lead_times``: a supplier × mode
    table to plan with (the what-if passes its scenario's); default: the snapshot's own, from the view's
    shipments."""
    from workbench.stock import build_snapshot

    return policy.recommend(build_snapshot(view, as_of, forecast=forecast, lead_times=lead_times),
                            forecast_errors=errors)


def workbench_orders(view, day: pd.Timestamp, forecast: pd.DataFrame, params: dict | None = None,
                     errors=None, lead_times: pd.DataFrame | None = None) -> pd.DataFrame:
    """The workbench's orders: the pipeline's restock step (stock snapshot, then ``RestockPolicy``), with the
    forecast's backtest errors (``errors``, from :func:`forecast_and_errors`) for the lead-time demand spread.

    ``air_qty`` ships by the urgent mode (the air bridge), the rest by the SKU's usual mode; each
    order carries the policy's own reason.
    """
    from workbench.policies.restock import RestockPolicy

    out = restock_on_view(view, day - pd.Timedelta(days=1), forecast, RestockPolicy(**(params or {})), errors,
                          lead_times)
    return orders_from_restock(out)


def orders_from_restock(out: pd.DataFrame) -> pd.DataFrame:
    """The orders of a restock table: ``air_qty`` by the urgent mode (the air bridge), the rest by the main mode."""
    rows = []
    for r in out[out["recommended_qty"] > 0].itertuples(index=False):
        mode = str(r.ship_mode)
        urgent, _, main = mode.partition("+")
        air = int(r.air_qty)
        if air > 0:
            rows.append(dict(sku=str(r.sku), qty=air, mode=urgent, reason=f"workbench air bridge: {r.reason}"))
        rest = int(r.recommended_qty) - air
        if rest > 0:
            rows.append(dict(sku=str(r.sku), qty=rest, mode=main or urgent, reason=f"workbench: {r.reason}"))
    return _orders(rows)


class CopiesElasticity:
    """An elasticity estimator fitted on the catalog, answering for its path copies ``SKU~k`` (the what-if
    replays paths as copies; fitting the copies again would give the same numbers at (paths + 1)× the cost)."""

    def __init__(self, estimator, sep: str = "~"):
        self.estimator, self.sep = estimator, sep

    def _plain(self, sku: pd.Series) -> pd.Series:
        return sku.astype(str).str.rsplit(self.sep, n=1).str[0]

    def lookup(self, pairs: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
        prod = products.assign(sku=self._plain(products["sku"])).drop_duplicates("sku")
        out = self.estimator.lookup(pairs[["sku", "channel"]].assign(sku=self._plain(pairs["sku"])), prod)
        return out.assign(sku=pairs["sku"].astype(str).to_numpy())


def workbench_week(view, day: pd.Timestamp, forecast: pd.DataFrame, market, channel: np.ndarray, last_budget: np.ndarray,
                   params: dict | None = None, lead_times: pd.DataFrame | None = None, pipeline=None,
                   elasticity=None):
    """The workbench's whole Monday on the view: stock snapshot, restock, stockout phases, pricing, ad budgets
    (the pipeline's steps, :meth:`workbench.pipeline.Pipeline.run`), as a
    :class:`workbench.backtest.levers.WeekDecision` for the replay's :class:`~workbench.backtest.levers.LeverMarket`.

    Per SKU the price is the pricing policy's ``recommended_price`` on ``channel`` (the SKU's replayed
    channel), its current price when the policy has no row; per campaign of ``market`` the ads policy's
    ``recommended_budget``, ``last_budget`` when it has none (a campaign it no longer lists keeps its budget).
    """
    from workbench.backtest.levers import WeekDecision
    from workbench.pipeline import Pipeline
    from workbench.policies.restock import RestockPolicy
    from workbench.stock import build_snapshot

    p = pipeline or Pipeline()
    as_of = day - pd.Timedelta(days=1)
    snap = build_snapshot(view, as_of, forecast=forecast, lead_times=lead_times)
    restock = RestockPolicy(**(params or {})).recommend(snap)
    phases = p.pricing.phase.recommend(snap, restock=restock)  # an air bridge is a replenishment
    pricing = p.pricing.recommend(snap, phases=phases, elasticity=elasticity)
    skus = pd.Index(market.skus)
    key = pd.MultiIndex.from_arrays([skus, pd.Index(channel)])
    pr = pricing.assign(sku=pricing["sku"].astype(str), channel=pricing["channel"].astype(str)).set_index(["sku", "channel"])
    pr = pr[~pr.index.duplicated()]
    price = pr["recommended_price"].reindex(key).to_numpy(float)
    current = pr["current_price"].reindex(key).to_numpy(float)
    price = np.where(np.isfinite(price), price, np.where(np.isfinite(current), current, market.ref_price))
    rule = pr["rule"].reindex(key).fillna("no pricing row: price held").to_numpy(dtype=object)
    camp = market.campaigns["campaign"].astype(str)
    budget, ads_rule = np.asarray(last_budget, float).copy(), np.full(len(camp), "no ads row: budget kept", dtype=object)
    if view.get("ads") is not None and len(camp):
        ads = p.ads.recommend(snap, phases=phases).drop_duplicates("campaign").set_index("campaign")
        rec = ads["recommended_budget"].reindex(camp).to_numpy(float)
        budget = np.where(np.isfinite(rec), rec, budget)
        ads_rule = ads["rule"].reindex(camp).fillna("no ads row: budget kept").to_numpy(dtype=object)
    return WeekDecision(orders_from_restock(restock), price, budget, rule, ads_rule)


def empty_forecast() -> pd.DataFrame:
    """A forecast frame with no rows: the restock call then uses the ADS blend, which is all the rule needs."""
    return pd.DataFrame({"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype="datetime64[ns]"),
                         "model": pd.Series(dtype=str), "yhat": pd.Series(dtype=float)})


def rule_of_thumb_orders(view, day: pd.Timestamp, safety_days: float = 14.0) -> pd.DataFrame:
    """The playbook's rule (domain-rules.md §1), as restock computes it beside the model (``rot_qty``):

        qty = ADS blend × lead time + safety days × ADS blend − available − in transit,

    rounded up to MOQ and case packs; shipped by air when cover = (available + in transit) / ADS ≤ 20 d
    and the SKU's usual mode is sea or rail (the playbook's yellow band), else by the usual mode.
    """
    from workbench.policies.restock import RestockPolicy

    out = restock_on_view(view, day - pd.Timedelta(days=1), empty_forecast(),
                          RestockPolicy(rot_safety_days=safety_days, n_paths=1))
    usual = _usual_modes(view["shipments"], out["sku"].astype(str))
    ads = out["rot_ads"].to_numpy(float)
    cover = np.where(ads > 0, (out["available"].to_numpy(float) + out["inbound"].to_numpy(float)) / np.where(ads > 0, ads, 1), np.inf)
    rows = []
    for i, r in enumerate(out.itertuples(index=False)):
        q = int(r.rot_qty)
        if q <= 0:
            continue
        urgent = cover[i] <= URGENT_COVER_DAYS and usual[i] in ("sea", "rail")
        mode = "air" if urgent else usual[i]
        rows.append(dict(sku=str(r.sku), qty=q, mode=mode, reason=(
            f"rule of thumb: ADS {ads[i]:.1f} × lead time {r.lead_time_days:.0f} d + {safety_days:g} d safety − "
            f"{r.available:.0f} available − {r.inbound:.0f} in transit → {q} (MOQ/case rounded); "
            + (f"by air: cover {cover[i]:.0f} d ≤ {URGENT_COVER_DAYS:.0f} d" if urgent else f"by {mode}, its usual mode"))))
    return _orders(rows)


def _usual_modes(ships: pd.DataFrame, skus: pd.Series) -> list[str]:
    usual = (ships.groupby(["sku", "mode"]).size().rename("n").reset_index()
             .sort_values(["sku", "n"], ascending=[True, False]).drop_duplicates("sku").set_index("sku")["mode"])
    return usual.reindex(skus.to_numpy()).fillna("sea").astype(str).tolist()
