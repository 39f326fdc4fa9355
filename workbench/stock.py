"""One stock picture per run: every stock quantity the policies, the risk scorer and the what-if engine read.

:func:`build_snapshot` computes, once, from the loaded dataset, the as-of date and (optionally) the
demand forecast:

- per SKU × location (``StockSnapshot.locations``): the latest inventory snapshot on or before as-of,
  ``on_hand``, ``reserved``, ``available = max(on_hand − reserved, 0)`` and ``supplier_held`` (a
  location matching ``supplier_pattern``, e.g. SUPPLIER-DROPSHIP: stock the supplier holds and ships,
  which the seller's own listing cannot sell from its warehouses, domain-rules.md §7);
- per SKU (``StockSnapshot.skus``, one row per product, :data:`SKU_COLUMNS`): ``on_hand`` and
  ``reserved`` at the seller's own (sellable) locations, ``available`` (sellable), ``supplier_held``,
  ``inbound`` (open shipments), the next arrival (earliest expected arrival of
  :func:`workbench.leadtime.in_transit_arrivals`), the named daily-demand variants and the two covers;
- per open shipment (``StockSnapshot.inbound``): :func:`workbench.leadtime.in_transit_arrivals`;
- per SKU and day (``StockSnapshot.in_stock``): the in-stock flags of the demand history; per sales
  row, i.e. per SKU × channel × day (:meth:`StockSnapshot.sales_in_stock`), the same rule per channel.

In-stock days are defined once, by :func:`in_stock_flags`: the data's ``sales.in_stock`` where given;
else a day with units sold is in stock; else the latest inventory snapshot's sellable available > 0.
The demand history (per SKU: in stock when any channel was), phase, pricing, ads and the elasticity
fit all use it.

Daily demand. ``ads_blend`` is the playbook's 7/14/30-day + last-year blend (:func:`blended_ads`);
``ads_forecast`` the forecast's mean over the next ``cover_window_days`` days; ``daily_demand`` is
``ads_forecast`` where the SKU has a forecast (censored days imputed, events in), else ``ads_blend``
(``demand_source`` says which). The two covers are defined here and nowhere else (:func:`cover`):

    cover_days          = (available + inbound) / daily_demand     (the playbook's definition)
    sellable_cover_days = available / daily_demand                 (what protects the listing today)

Both are 0 with no stock and :data:`MAX_COVER_DAYS` when nothing is expected to sell.

The one stockout probability is :meth:`StockSnapshot.stockout_probability` (Monte Carlo,
:func:`simulate_stockout_probability`) over the snapshot's sellable stock, in-transit arrivals and
demand.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from workbench.leadtime import in_transit_arrivals, lead_time_distributions, transit_slots

MAX_COVER_DAYS = 999.0  # cover when nothing is expected to sell
SUPPLIER_PATTERN = r"dropship|^supplier"  # locations whose stock the supplier holds (case-insensitive)
COVER_WINDOW_DAYS = 30
SKU_COLUMNS = [
    "sku", "n_locations", "on_hand", "reserved", "available", "supplier_held", "inbound", "inbound_overdue",
    "next_arrival", "next_shipment_id", "next_mode", "arrival_note", "days_to_arrival", "ads_7", "ads_14",
    "ads_30", "ads_ly", "yoy_growth", "ads_blend", "ads_forecast", "daily_demand", "demand_source",
    "cover_days", "sellable_cover_days", "avg_on_hand_30d",
]
COVER_COLUMNS = ["sku", "cover_days", "sellable_cover_days"]


def cover(stock_units, daily_demand) -> np.ndarray:
    """Days of cover: ``stock / daily demand``; 0 with no stock, :data:`MAX_COVER_DAYS` with no demand (capped)."""
    s = np.asarray(stock_units, dtype=float)
    d = np.asarray(daily_demand, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(d > 0, s / np.where(d > 0, d, 1.0), MAX_COVER_DAYS)
    return np.round(np.where(s <= 0, 0.0, np.minimum(c, MAX_COVER_DAYS)), 2)


def lognormal_params(mean, std):
    """(μ, σ) of a lognormal with the given mean and std: σ² = ln(1 + s²/m²), μ = ln m − σ²/2."""
    m = np.maximum(np.asarray(mean, dtype=float), 1e-6)
    s = np.maximum(np.asarray(std, dtype=float), 1e-6)
    sig2 = np.log1p((s / m) ** 2)
    return np.log(m) - sig2 / 2, np.sqrt(sig2)


def simulate_stockout_probability(
    demand_mean: np.ndarray,
    demand_std: np.ndarray,
    available: np.ndarray,
    lead_time_mean: np.ndarray,
    lead_time_std: np.ndarray,
    arrival_day: np.ndarray | None = None,
    arrival_std: np.ndarray | None = None,
    arrival_qty: np.ndarray | None = None,
    *,
    n_paths: int = 1000,
    seed: int = 0,
    chunk_size: int = 128,
    demand_correlation: float = 0.0,
) -> np.ndarray:
    """P(stock runs out before an order placed today arrives), per SKU and per lead time, by Monte Carlo.

    Shapes: ``demand_mean``/``demand_std`` (n, H) for days 1..H after as-of; ``available`` (n,);
    ``lead_time_mean``/``lead_time_std`` (n, M), one column per candidate ship mode; in-transit
    shipments ``arrival_day``/``arrival_std``/``arrival_qty`` (n, K), qty 0 for padding. Returns (n, M).

    Per path: daily demand D_t ~ max(N(μ_t, σ_t), 0), days equicorrelated with ``demand_correlation``
    ρ (D_t = μ_t + σ_t(√(1−ρ)·ε_t + √ρ·η), η shared by the path; ρ = 0: independent days); in-transit shipment k arrives
    on day round(N(a_k, s_k)) ≥ 1; lead time L ~ lognormal(mean, std). A stockout is a day t < L with
    ``available + Σ_k q_k·1[arrived by t] − Σ_{u≤t} D_u < 0`` (some demand unmet). The probability is
    the share of paths with one. Vectorized over SKUs × paths × days in chunks of SKUs; float32;
    deterministic for a seed. Days past H are not simulated (a lead time beyond H counts as H).
    """
    mu = np.asarray(demand_mean, dtype=np.float32)
    sd = np.asarray(demand_std, dtype=np.float32)
    n, H = mu.shape
    avail = np.asarray(available, dtype=np.float32).reshape(n)
    ltm = np.asarray(lead_time_mean, dtype=float).reshape(n, -1)
    lts = np.asarray(lead_time_std, dtype=float).reshape(n, -1)
    M = ltm.shape[1]
    if arrival_qty is None or np.size(arrival_qty) == 0:
        arrival_day = np.zeros((n, 0)); arrival_std = np.zeros((n, 0)); arrival_qty = np.zeros((n, 0))
    a_day = np.asarray(arrival_day, dtype=float).reshape(n, -1)
    a_sd = np.asarray(arrival_std, dtype=float).reshape(n, -1)
    a_q = np.asarray(arrival_qty, dtype=np.float32).reshape(n, -1)
    K = a_q.shape[1]
    rng = np.random.default_rng(seed)
    mu_l, sig_l = lognormal_params(ltm, lts)
    out = np.zeros((n, M))
    for start in range(0, n, chunk_size):
        sl = slice(start, min(start + chunk_size, n))
        c = sl.stop - sl.start
        # Lead-time samples decide how many days need simulating in this chunk.
        L = np.exp(mu_l[sl][:, None, :] + sig_l[sl][:, None, :] * rng.standard_normal((c, n_paths, M)))
        h = int(min(H, max(1, np.ceil(L.max()))))
        z = rng.standard_normal((c, n_paths, h), dtype=np.float32)
        if demand_correlation > 0:  # a shared level error per path (equicorrelated days)
            common = rng.standard_normal((c, n_paths, 1), dtype=np.float32)
            z *= np.float32(np.sqrt(1 - demand_correlation))
            z += np.float32(np.sqrt(demand_correlation)) * common
        z *= sd[sl, None, :h]
        z += mu[sl, None, :h]
        np.maximum(z, 0.0, out=z)
        np.cumsum(z, axis=2, out=z)  # z is now cumulative demand
        z -= avail[sl, None, None]
        for k in range(K):
            q = a_q[sl, k]
            if not np.any(q > 0):
                continue
            day = np.rint(a_day[sl, k][:, None] + a_sd[sl, k][:, None] * rng.standard_normal((c, n_paths)))
            day = np.clip(day, 1, h + 1).astype(np.int32)  # day h+1 = after the simulated window
            arrived = np.arange(1, h + 1, dtype=np.int32)[None, None, :] >= day[:, :, None]
            z -= arrived * q[:, None, None]
        short = z > 1e-4
        any_short = short.any(axis=2)
        first = np.where(any_short, short.argmax(axis=2) + 1, np.inf)  # first day with unmet demand
        out[sl] = (first[:, :, None] < L).mean(axis=1)
    return out


def daily_sigma_from_intervals(forecast: pd.DataFrame) -> np.ndarray:
    """Daily demand std from the forecast's prediction intervals (normal approximation).

        σ = mean over levels L of (hi_L − lo_L) / (2 · z_{(1 + L/100)/2})

    e.g. an 80% interval [6, 14] → 8 / (2·1.2816) = 3.12; a 95% interval [2, 18] → 16/3.92 = 4.08.
    Where the lower bound is clipped at 0 the upper half-width is used: σ = (hi_L − yhat) / z.
    Falls back to sqrt(max(yhat, 0)) (Poisson) when the frame has no interval columns.
    """
    sig = []
    for col in forecast.columns:
        m = re.fullmatch(r"yhat_lo_(\d+(?:\.\d+)?)", col)
        if m and f"yhat_hi_{m.group(1)}" in forecast.columns:
            level = float(m.group(1)) / 100.0
            z = stats.norm.ppf(0.5 + level / 2)
            hi = forecast[f"yhat_hi_{m.group(1)}"].to_numpy(float)
            lo = forecast[col].to_numpy(float)
            yhat = forecast["yhat"].to_numpy(float)
            # A lower bound clipped at 0 would shrink the width: use the upper half-width there.
            sig.append(np.where(lo <= 0, np.maximum(hi - yhat, 0.0) / z, np.maximum(hi - lo, 0.0) / (2 * z)))
    if not sig:
        return np.sqrt(np.maximum(forecast["yhat"].to_numpy(float), 0.0))
    return np.nanmean(np.vstack(sig), axis=0)


def blended_ads(sales: pd.DataFrame, skus, as_of, weights=(0.2, 0.3, 0.3, 0.2), growth_clip=(0.5, 2.0)) -> pd.DataFrame:
    """The seller's ADS blend (domain-rules.md §1): last 7, 14, 30 days and last year's next 30 days.

        ADS = w7·a7 + w14·a14 + w30·a30 + wLY·aLY·g,   g = clip(a30 / a30 a year ago, 0.5, 2)

    aLY is the mean of the 30 days starting one year (364 d, same weekday) after as-of − 1 year, i.e.
    what sold a year ago in the coming month; g is year-over-year growth. When a SKU has no sales a
    year ago the LY term is dropped and the weights renormalized. Days without a sales row count as 0.
    Channels are summed. Returns sku, ads_7, ads_14, ads_30, ads_ly, yoy_growth, ads_blend.
    """
    as_of = pd.Timestamp(as_of)
    skus = pd.Index(skus)
    start = as_of - pd.Timedelta(days=364 + 60)
    s = sales[(sales["date"] > start) & (sales["date"] <= as_of)]
    s = s[s["sku"].isin(skus)]
    n_days = 364 + 60 + 1
    mat = np.zeros((len(skus), n_days))
    if len(s):
        idx = skus.get_indexer(s["sku"])
        day = (s["date"] - start).dt.days.to_numpy()
        ok = (day >= 0) & (day < n_days) & (idx >= 0)
        np.add.at(mat, (idx[ok], day[ok]), s["units"].to_numpy(float)[ok])
    t = (as_of - start).days  # column of as_of
    a7 = mat[:, t - 6:t + 1].mean(1)
    a14 = mat[:, t - 13:t + 1].mean(1)
    a30 = mat[:, t - 29:t + 1].mean(1)
    ly_t = t - 364
    ly_next = mat[:, ly_t + 1:ly_t + 31].mean(1)
    ly_prev = mat[:, ly_t - 29:ly_t + 1].mean(1)
    first_sale = s.groupby("sku")["date"].min().reindex(skus)
    has_ly = (first_sale <= as_of - pd.Timedelta(days=364 + 29)).to_numpy() & (ly_prev > 0)
    growth = np.clip(np.divide(a30, ly_prev, out=np.ones_like(a30), where=ly_prev > 0), *growth_clip)
    w7, w14, w30, wly = weights
    wly_eff = np.where(has_ly, wly, 0.0)
    blend = (w7 * a7 + w14 * a14 + w30 * a30 + wly_eff * ly_next * growth) / (w7 + w14 + w30 + wly_eff)
    return pd.DataFrame({"sku": skus, "ads_7": a7, "ads_14": a14, "ads_30": a30,
                         "ads_ly": np.where(has_ly, ly_next, np.nan), "yoy_growth": np.where(has_ly, growth, np.nan),
                         "ads_blend": blend})


def forecast_matrix(forecast: pd.DataFrame, skus, as_of, horizon_days: int, model: str | None = None):
    """Daily mean and std of demand, (n_skus, horizon_days), for days as_of+1 … as_of+horizon.

    Model choice: ``model`` if given; else rows with a true ``selected`` / ``is_selected`` column if
    present; else the first model listed for each SKU. Days beyond the forecast's horizon repeat the
    mean of its last 28 days (sigma too). Returns (mean, std, has_forecast (n,), model_used (n,)).
    """
    as_of = pd.Timestamp(as_of)
    skus = pd.Index(skus)
    n = len(skus)
    f = forecast
    if model is not None and "model" in f.columns:
        f = f[f["model"] == model]
    elif "model" in f.columns:
        sel = next((c for c in ("selected", "is_selected") if c in f.columns), None)
        if sel is not None:
            f = f[f[sel].astype(bool)]
        elif f["model"].nunique() > 1:
            first = f.drop_duplicates("unique_id")[["unique_id", "model"]]
            f = f.merge(first, on=["unique_id", "model"], how="inner")
    f = f[f["ds"] > as_of]
    mean = np.full((n, horizon_days), np.nan)
    std = np.full((n, horizon_days), np.nan)
    idx = skus.get_indexer(f["unique_id"].astype(str))
    day = (f["ds"] - as_of).dt.days.to_numpy() - 1
    ok = (idx >= 0) & (day >= 0) & (day < horizon_days)
    yhat = np.maximum(f["yhat"].to_numpy(float), 0.0)
    sig = daily_sigma_from_intervals(f)
    mean[idx[ok], day[ok]] = yhat[ok]
    std[idx[ok], day[ok]] = sig[ok]
    has = ~np.isnan(mean).all(axis=1)
    # Fill gaps past the forecast's last day with the mean of its last 28 days.
    last = np.where(~np.isnan(mean), np.arange(horizon_days)[None, :], -1).max(axis=1)
    for i in np.flatnonzero(has & (last < horizon_days - 1)):
        lo = max(0, last[i] - 27)
        mean[i, last[i] + 1:] = np.nanmean(mean[i, lo:last[i] + 1])
        std[i, last[i] + 1:] = np.nanmean(std[i, lo:last[i] + 1])
    model_used = np.full(n, "", dtype=object)
    if "model" in f.columns and len(f):
        mu = f.drop_duplicates("unique_id").set_index("unique_id")["model"]
        model_used = mu.reindex(skus).fillna("").to_numpy(dtype=object)
    # Interior gaps (missing days) are filled with the row mean.
    if np.isnan(mean[has]).any():
        rows = np.flatnonzero(has)
        rm = np.nanmean(mean[rows], axis=1, keepdims=True)
        rs = np.nanmean(std[rows], axis=1, keepdims=True)
        mean[rows] = np.where(np.isnan(mean[rows]), rm, mean[rows])
        std[rows] = np.where(np.isnan(std[rows]), rs, std[rows])
    return mean, np.nan_to_num(std), has, model_used


def plain_keys(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """Categorical key columns (the generator writes some) become plain strings: groupbys stay observed."""
    if df is None:
        return None
    cat = [c for c in ("sku", "unique_id", "mode", "supplier", "location") if c in df.columns
           and isinstance(df[c].dtype, pd.CategoricalDtype)]
    return df.assign(**{c: df[c].astype(str) for c in cat}) if cat else df




def location_stock(inventory: pd.DataFrame, as_of, supplier_pattern: str = SUPPLIER_PATTERN) -> pd.DataFrame:
    """Latest snapshot per SKU × location on or before ``as_of``: on_hand, reserved, available, supplier_held."""
    inv = plain_keys(inventory)
    inv = inv[inv["as_of"] <= as_of]
    latest = inv.sort_values("as_of", kind="stable").drop_duplicates(["sku", "location"], keep="last")
    out = latest[["sku", "location", "on_hand", "reserved"]].reset_index(drop=True).copy()
    out["available"] = np.maximum(out["on_hand"] - out["reserved"], 0)
    out["supplier_held"] = out["location"].astype(str).str.contains(supplier_pattern, flags=re.I, regex=True)
    return out.sort_values(["sku", "location"]).reset_index(drop=True)


FALSE_WORDS = ("false", "0", "no", "n", "f")


def in_stock_flags(rows: pd.DataFrame, inventory: pd.DataFrame | None = None,
                   supplier_pattern: str = SUPPLIER_PATTERN) -> pd.Series:
    """Could the listing sell on each row's day? The workbench's one in-stock rule (a bool per row).

    ``rows``: ``sku``, ``date``, ``units`` and optional ``in_stock`` (a sales table, per channel, or a
    daily grid per SKU). Per row, the first that applies:

    1. ``in_stock`` where the data gives it (bools, or text: false / 0 / no are false);
    2. units sold > 0: in stock (the listing sold, so it had stock; inventory snapshots are points in
       time, often a week apart, and a 0 in one does not cover the days after a delivery);
    3. the latest ``inventory`` snapshot on or before the day: sellable available > 0, i.e.
       Σ max(on_hand − reserved, 0) over locations not matching ``supplier_pattern`` (the snapshot's
       ``available``: supplier-held dropship stock does not keep the seller's own listing in stock);
    4. no snapshot yet: in stock (nothing says otherwise).
    """
    flags = pd.Series(pd.NA, index=rows.index, dtype="boolean")
    if "in_stock" in rows.columns:
        given = rows["in_stock"]
        try:
            flags = given.astype("boolean")
        except (TypeError, ValueError):  # text such as "false" / "0" / "no"
            text = given.astype("string").str.strip().str.lower()
            flags = (~text.isin(FALSE_WORDS)).astype("boolean").mask(text.isna() | (text == ""))
    flags = flags.mask(flags.isna() & (pd.to_numeric(rows["units"], errors="coerce") > 0), True)
    todo = flags.isna()
    if todo.any() and inventory is not None and len(inventory):
        inv = plain_keys(inventory)
        inv = inv[~inv["location"].astype(str).str.contains(supplier_pattern, flags=re.I, regex=True)]
        avail = np.maximum(inv["on_hand"].astype(float) - inv["reserved"].astype(float), 0.0)
        daily = (inv.assign(available=avail, as_of=pd.to_datetime(inv["as_of"]), sku=inv["sku"].astype(str))
                 .groupby(["sku", "as_of"], as_index=False)["available"].sum().sort_values("as_of"))
        look = rows.loc[todo, ["sku", "date"]]
        look = look.assign(sku=look["sku"].astype(str), date=pd.to_datetime(look["date"])).reset_index()
        merged = pd.merge_asof(look.sort_values("date"), daily, left_on="date", right_on="as_of", by="sku",
                               direction="backward")
        known = merged["available"].notna()
        flags.loc[merged.loc[known, "index"].to_numpy()] = (merged.loc[known, "available"] > 0).to_numpy()
    return flags.fillna(True).astype(bool)


def columns_view(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """A new frame of ``columns`` of ``frame`` over its own column arrays, not a copy: for reading the ~8 M
    sales or ~5 M ads rows at 10,000 SKUs (issue 12, item 8). Adding, renaming or dropping columns of it is
    fine; writing into its values would write into ``frame``."""
    return pd.DataFrame({c: frame[c] for c in columns}, index=frame.index, copy=False)


def columns_until(frame: pd.DataFrame, columns, as_of=None) -> pd.DataFrame:
    """``columns`` of the rows of ``frame`` dated on or before ``as_of`` (every row when None), for reading:
    a :func:`columns_view` when every row qualifies (the weekly run: no copy of ~8 M rows), else one copy of
    the rows that do."""
    view = columns_view(frame, columns)
    if as_of is None:
        return view
    seen = (frame["date"] <= as_of).to_numpy()
    return view if seen.all() else view.loc[seen]


def stockout_window_rows(rows: pd.DataFrame, episodes: pd.DataFrame, days: int, at: np.ndarray | None = None,
                         mask: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``rows`` dated in the ``days`` days before their (sku, channel)'s ``stockout_start``
    in ``episodes`` (one row per pair), in table order: the pre-stockout window phase, pricing and ads read.
    ``at``: :func:`pair_positions` of ``rows`` in ``episodes`` when the caller has it; ``mask``: the rows
    allowed (e.g. in stock)."""
    at = pair_positions(rows, episodes) if at is None else at
    start = episodes["stockout_start"].to_numpy(dtype="datetime64[ns]")[np.maximum(at, 0)]
    date = rows["date"].to_numpy(dtype="datetime64[ns]")
    keep = (at >= 0) & (date < start) & (date >= start - np.timedelta64(int(days), "D"))
    return np.flatnonzero(keep if mask is None else keep & mask)


def pair_positions(rows: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """For each row of ``rows``, the position of its (sku, channel) among the unique pairs of ``pairs``; −1
    when it is not there. The ~8 M sales rows at 10,000 SKUs are looked up by pair, then only the rows
    wanted are taken: a merge of them with the pairs would hold a copy of them and its join indexers at
    once (issue 12, item 8)."""
    return pd.MultiIndex.from_frame(pairs[["sku", "channel"]]).get_indexer(
        pd.MultiIndex.from_arrays([rows["sku"], rows["channel"]]))


def _next_arrivals(transit: pd.DataFrame, skus: pd.Index, as_of) -> pd.DataFrame:
    """Per SKU: inbound units, overdue count and the earliest expected arrival of the open shipments."""
    cols = ["next_arrival", "next_shipment_id", "next_mode", "arrival_note"]
    inbound = transit.groupby("sku")["qty"].sum().reindex(skus).fillna(0)
    overdue = transit.groupby("sku")["overdue"].sum().reindex(skus).fillna(0).astype(int)
    first = (transit.sort_values(["expected_arrival", "shipment_id"]).drop_duplicates("sku").set_index("sku")
             .reindex(skus))
    out = pd.DataFrame({"inbound": inbound.to_numpy(float), "inbound_overdue": overdue.to_numpy()}, index=skus)
    out["next_arrival"] = pd.to_datetime(first["expected_arrival"]).to_numpy()
    out["next_shipment_id"] = first["shipment_id"].to_numpy(dtype=object)
    out["next_mode"] = first["mode"].to_numpy(dtype=object)
    out["arrival_note"] = first["reason"].to_numpy(dtype=object)
    out["days_to_arrival"] = (out["next_arrival"] - as_of).dt.days.astype(float)
    return out[["inbound", "inbound_overdue", *cols, "days_to_arrival"]]


@dataclass
class StockSnapshot:
    """The stock picture at ``as_of`` (see the module docstring). Build it with :func:`build_snapshot`.

    ``ds`` is the loaded dataset (anything with ``[name]`` and ``.get(name)``): policies read their
    other tables (sales, offers, ads, events) through it.
    """

    ds: object
    as_of: pd.Timestamp
    products: pd.DataFrame          # one row per SKU; the order of every per-SKU array
    skus: pd.DataFrame              # SKU_COLUMNS, same order as products
    locations: pd.DataFrame         # sku, location, on_hand, reserved, available, supplier_held
    inbound: pd.DataFrame           # one row per open shipment (leadtime.in_transit_arrivals)
    lead_times: pd.DataFrame        # supplier × mode lead-time table
    in_stock: pd.DataFrame | None   # sku, ds, in_stock per day (the demand history's flags)
    forecast: pd.DataFrame | None   # daily forecast (unique_id, ds, model, yhat, intervals)
    last_observed: pd.Timestamp | None = None  # last day with sales data, on or before as_of
    model: str | None = None        # forecast model to read (None: the one chosen per SKU)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def sku_index(self) -> pd.Index:
        return pd.Index(self.skus["sku"].astype(str))

    @property
    def missing_days(self) -> int:
        """Days between the last observed sales day and as-of (0 when the data reaches as-of)."""
        if self.last_observed is None or pd.isna(self.last_observed):
            return 0
        return max(int((self.as_of - self.last_observed).days), 0)

    def get(self, name: str):
        return self.ds.get(name) if hasattr(self.ds, "get") else None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.ds[name]

    def covers(self) -> pd.DataFrame:
        """``sku, cover_days, sellable_cover_days``: merge this into every output that shows a cover."""
        return self.skus[COVER_COLUMNS].copy()

    def column(self, name: str) -> np.ndarray:
        return self.skus[name].to_numpy()

    def sales_in_stock(self, columns=None, copy: bool = True) -> pd.DataFrame:
        """The sales rows on or before as-of, ``in_stock`` resolved per row (SKU × channel × day) by
        :func:`in_stock_flags`: the in-stock days phase, pricing and ads read (computed once per run).

        ``columns``: the sales columns wanted (those the table has; ``in_stock`` is always there). At
        10,000 SKUs × 2 years the sales table has ~8 M rows: a caller that reads four columns should not
        copy ten. ``copy=False``: a caller that only reads the rows gets, when every row is on or before
        as-of (the weekly run), a new frame over the dataset's own column arrays: no copy of ~0.4 GB
        (issue 12, item 8). It must not write into those columns (adding or renaming columns is fine)."""
        sales = self.ds["sales"]
        if "in_stock_rows" not in self._cache:
            self._cache["in_stock_rows"] = in_stock_flags(sales, self.ds["inventory"]).to_numpy(dtype=bool)
        keep = [c for c in sales.columns if c != "in_stock" and (columns is None or c in columns)]
        seen = (sales["date"] <= self.as_of).to_numpy()
        flags = self._cache["in_stock_rows"]
        if seen.all() and not copy:  # the columns themselves, not copied (one block per column)
            out = columns_view(sales, keep)
        else:  # one copy of the rows and columns asked for (a shallow copy on top: a fresh frame, no
            # chained-assignment flag)
            out = (sales[keep] if seen.all() else sales.loc[seen, keep]).copy(deep=False)
        out["in_stock"] = flags if seen.all() else flags[seen]
        if columns is None and "in_stock" in sales.columns:  # the table's column order, as before
            out = out[list(sales.columns)]
        return out

    def demand(self, horizon_days: int):
        """(mean, std, has_forecast, model_used): daily demand for days as_of+1 … as_of+horizon, (n, H).

        From the forecast where the SKU has one; else flat at ``ads_blend`` with Poisson noise.
        """
        key = ("demand", int(horizon_days))
        if key not in self._cache:
            n, H = len(self.skus), int(horizon_days)
            fc = self.forecast if self.forecast is not None else _empty_forecast()
            mean, std, has, model_used = forecast_matrix(fc, self.sku_index, self.as_of, H, self.model)
            blend = self.column("ads_blend").astype(float)
            mean[~has] = blend[~has, None]
            std[~has] = np.sqrt(blend[~has, None])
            self._cache[key] = (mean, std, has, model_used if len(model_used) == n else np.full(n, "", dtype=object))
        return self._cache[key]

    def transit_slots(self):
        """(day, std, qty) arrays (n, K) of the earliest open shipments (leadtime.transit_slots)."""
        return transit_slots(self.inbound, self.sku_index)

    def stockout_probability(self, lead_time_mean, lead_time_std, *, horizon_days: int, n_paths: int = 1000,
                             seed: int = 0, demand_correlation: float = 0.0) -> np.ndarray:
        """P(sellable stock runs out before an order placed today arrives), (n, M) for M lead times.

        The one stockout probability of the workbench: :func:`simulate_stockout_probability` over the
        snapshot's sellable ``available``, its in-transit arrivals and its daily demand.
        """
        mean, std, _, _ = self.demand(horizon_days)
        a_day, a_sd, a_q = self.transit_slots()
        p = simulate_stockout_probability(mean, std, self.column("available").astype(float), lead_time_mean,
                                          lead_time_std, a_day, a_sd, a_q, n_paths=n_paths, seed=seed,
                                          demand_correlation=demand_correlation)
        return np.clip(p, 0.0, 1.0)


def _empty_forecast() -> pd.DataFrame:
    return pd.DataFrame({"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype="datetime64[ns]"),
                         "yhat": pd.Series(dtype=float)})


def _avg_on_hand(inventory: pd.DataFrame, skus: pd.Index, as_of, on_hand: np.ndarray, held: set) -> np.ndarray:
    """Mean on-hand units over the last 30 days' snapshots at sellable locations (turnover's denominator)."""
    inv = inventory[(inventory["as_of"] <= as_of) & (inventory["as_of"] > as_of - pd.Timedelta(days=30))]
    inv = inv[~inv["location"].astype(str).isin(held)] if held else inv
    avg = inv.groupby(["sku", "as_of"])["on_hand"].sum().groupby("sku").mean().reindex(skus).to_numpy(float)
    return np.where(np.isnan(avg), on_hand, avg)


def build_snapshot(ds, as_of, forecast: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
                   lead_times: pd.DataFrame | None = None, *, ads_weights=(0.2, 0.3, 0.3, 0.2),
                   supplier_pattern: str = SUPPLIER_PATTERN, cover_window_days: int = COVER_WINDOW_DAYS,
                   lt_prior_shipments: float = 5.0, model: str | None = None) -> StockSnapshot:
    """The run's stock picture at ``as_of`` (module docstring). ``ds``: tables by name (a Dataset or a dict).

    ``forecast``: the daily demand forecast (none: demand is ``ads_blend``); ``history``: the demand
    history (``unique_id, ds, y, in_stock``) whose in-stock flags the snapshot keeps; ``lead_times``:
    a supplier × mode table (default: :func:`workbench.leadtime.lead_time_distributions`).
    """
    as_of = pd.Timestamp(as_of).normalize()
    products = ds["products"].drop_duplicates("sku").reset_index(drop=True)
    products = products.assign(sku=products["sku"].astype(str))
    skus = pd.Index(products["sku"])
    shipments = plain_keys(ds["shipments"])
    ships = shipments[shipments["order_date"] <= as_of]
    lt_table = lead_times if lead_times is not None else lead_time_distributions(
        ships, as_of, prior_shipments=lt_prior_shipments)
    transit = in_transit_arrivals(ships, as_of, lt_table)
    transit = transit[transit["sku"].astype(str).isin(skus)].assign(sku=lambda t: t["sku"].astype(str))

    locs = location_stock(ds["inventory"], as_of, supplier_pattern)
    locs = locs[locs["sku"].isin(skus)].reset_index(drop=True)
    own = locs[~locs["supplier_held"]].groupby("sku")[["on_hand", "reserved", "available"]].sum().reindex(skus)
    held = locs[locs["supplier_held"]].groupby("sku")["on_hand"].sum().reindex(skus).fillna(0)
    out = pd.DataFrame({"sku": skus.to_numpy()})
    out["n_locations"] = locs.groupby("sku")["location"].nunique().reindex(skus).fillna(0).astype(int).to_numpy()
    for c in ("on_hand", "reserved", "available"):
        out[c] = own[c].fillna(0).to_numpy().astype("int64")
    out["supplier_held"] = held.to_numpy().astype("int64")
    arr = _next_arrivals(transit, skus, as_of)
    for c in arr.columns:
        out[c] = arr[c].to_numpy()
    out["inbound"] = out["inbound"].astype("int64")

    fc = plain_keys(forecast) if forecast is not None else None
    sales = ds.get("sales") if hasattr(ds, "get") else None
    fc_mean, _, has_fc, _ = forecast_matrix(fc if fc is not None else _empty_forecast(), skus, as_of,
                                            cover_window_days, model)
    ads_forecast = np.where(has_fc, np.nanmean(np.where(has_fc[:, None], fc_mean, 0.0), axis=1), np.nan)
    if sales is not None:
        blend = blended_ads(plain_keys(sales), skus, as_of, ads_weights)
        for c in ("ads_7", "ads_14", "ads_30", "ads_ly", "yoy_growth"):
            out[c] = blend[c].to_numpy()
        out["ads_blend"] = np.round(blend["ads_blend"].to_numpy(), 3)
    else:
        for c in ("ads_7", "ads_14", "ads_30", "ads_ly", "yoy_growth"):
            out[c] = np.nan
        out["ads_blend"] = np.round(np.nan_to_num(ads_forecast), 3)
    out["ads_forecast"] = np.round(ads_forecast, 3)
    out["daily_demand"] = np.where(has_fc, out["ads_forecast"], out["ads_blend"])
    out["demand_source"] = np.where(has_fc, f"forecast mean of the next {cover_window_days} d", "ads_blend")
    out["cover_days"] = cover(out["available"] + out["inbound"], out["daily_demand"])
    out["sellable_cover_days"] = cover(out["available"], out["daily_demand"])
    held_locs = set(locs.loc[locs["supplier_held"], "location"].astype(str))
    out["avg_on_hand_30d"] = _avg_on_hand(plain_keys(ds["inventory"]), skus, as_of,
                                          out["on_hand"].to_numpy(float), held_locs)

    in_stock, last = None, None
    if history is not None and len(history):
        in_stock = history[["unique_id", "ds", "in_stock"]].rename(columns={"unique_id": "sku"})
        last = pd.Timestamp(history["ds"].max())
    elif sales is not None and len(sales):
        last = pd.Timestamp(sales.loc[sales["date"] <= as_of, "date"].max())
    return StockSnapshot(ds=ds, as_of=as_of, products=products, skus=out[SKU_COLUMNS], locations=locs,
                         inbound=transit.reset_index(drop=True), lead_times=lt_table, in_stock=in_stock,
                         forecast=fc, last_observed=last, model=model)
