"""Ad-budget recommendations per campaign across the stockout cycle (domain-rules.md §2).

Rules by phase of the campaign's SKU × channel (:mod:`.phase`), named in ``action`` and ``rule``:

- **pre_stockout** — cut the SKU's total daily budget by ``pre_stockout_cut`` (35 %, in 30–40 %),
  measured from its highest daily total of the last 28 days (weekly runs do not stack cuts):
  pause poor auto/broad campaigns (ACoS above break-even, or spend without sales), keep exact/phrase
  (core) campaigns with bids lowered ``core_bid_cut`` (7.5 %, in 5–10 %), scale the rest to reach
  the target. Never everything off: if nothing would be left, the best campaign keeps running.
- **stockout** — pause Sponsored Brands / Display (they keep buying clicks that cannot convert),
  at most ``stockout_token_budget_usd`` for brand awareness; Sponsored Products pause themselves, so
  their budget is left alone (history kept for the restart).
- **recovery** — core campaigns at ``recovery_budget_multiplier`` (1.5×, in 1–2×) of their
  pre-stockout budget (half-way in step 2), auto campaigns back at their pre-stockout budget with
  bids lowered ``recovery_auto_bid_change`` to harvest keywords, the others back at their
  pre-stockout budget.
- **normal** — fit a spend → ad-sales response curve per campaign and move budget to where the last
  dollar earns most, within ``max_weekly_change`` of today's budget per campaign.

Response curve (diminishing returns, the saturating-exponential form used in media-mix models, e.g.
Jin et al. 2017, *Bayesian methods for media mix modeling with carryover and shape effects*)::

    ad_sales(s) = A · (1 − exp(−s / B))          s = daily spend (USD)

fitted per campaign on in-stock days by least squares over a grid of B (A is then linear), with a
normal penalty pulling log B towards the ad type's pooled value (shrinkage for campaigns whose spend
barely moved). With the margin before ads ``m = (p(1 − fee_rate) − unit_cost) / p`` (= the
break-even ACoS), the last dollar pays for itself where marginal ad sales × m = 1, i.e. the
marginal ACoS equals break-even ACoS. Allocation (Lagrange / water-filling): each campaign's spend
``s_i(λ) = B_i · ln(A_i / (B_i λ))`` clipped to ``[budget_i(1 − cap), budget_i(1 + cap)]``; the
SKU's total is the sum of each campaign's profit-optimal spend (λ = 1/m) within its cap, and λ
is found by bisection so the campaigns add up to it (the same split :func:`allocate_spend` gives any
fixed total). Spend is converted to budget with each campaign's recent
spend / budget ratio.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.policies.base import Policy, check_in_range
from workbench.policies.phase import StockoutPhase, as_timestamp
from workbench.policies.pricing import current_prices, latest_offers
from workbench.stock import columns_until, stockout_window_rows

ADS_COLUMNS = ["sku", "channel", "campaign", "ad_type", "current_budget", "recommended_budget", "change_pct",
               "bid_change_pct", "phase", "action", "reason"]
# change_pct and bid_change_pct are percentages (−35.0 = −35 %); a paused campaign that is resumed
# shows +100.
EXTRA_COLUMNS = ["rule", "targeting", "acos", "breakeven_acos", "pre_stockout_budget", "a_sales_usd", "b_spend_usd",
                 "clicks_14d", "spend_14d", "ad_sales_14d", "buybox_lost", "peak_event", "guard"]

# the ads columns the policy reads (the table's others, e.g. impressions, are not copied)
_CAMPAIGN_COLUMNS = ["date", "sku", "channel", "campaign", "ad_type", "daily_budget", "targeting", "bid", "spend",
                     "ad_sales", "clicks"]
_TARGETING_WORDS = ("exact", "phrase", "auto", "broad", "brand", "product")


def campaign_targeting(ads: pd.DataFrame) -> pd.Series:
    """Targeting per row: the ``targeting`` column where given, else a word found in the campaign name."""
    name = ads["campaign"].astype(str).str.lower()
    guess = pd.Series("", index=ads.index, dtype=object)
    for w in reversed(_TARGETING_WORDS):
        guess = guess.mask(name.str.contains(w, regex=False), w)
    if "targeting" in ads.columns:
        given = ads["targeting"].astype("string").str.lower()
        return given.fillna(pd.Series(guess, index=ads.index)).astype(object)
    return guess


# --------------------------------------------------------------------------------------------------
# response curves
# --------------------------------------------------------------------------------------------------

def saturating_sales(spend, a, b):
    """Expected ad sales A · (1 − exp(−spend / B))."""
    return np.asarray(a, float) * (1.0 - np.exp(-np.asarray(spend, float) / np.asarray(b, float)))


def fit_response_curves(daily: pd.DataFrame, grid_size: int = 60, prior_sd_log: float = 0.25,
                        min_days: int = 14) -> pd.DataFrame:
    """Fit A, B per campaign from daily ``spend`` and ``ad_sales`` (in-stock days only).

    Returns campaign, ad_type, n_days, a_sales_usd, b_spend_usd, mean_spend, fit ("own" / "too few days").
    B is searched on a log grid from 0.05× to 20× the campaign's median spend; the score is
    SSE/σ² + (log B − μ)²/prior_sd_log² where μ is the ad type's median unpenalized log(B / median spend).
    Campaigns with the same number of days are fitted together (one array per batch, not one per campaign:
    ~15,000 campaigns at 10,000 SKUs); each campaign's numbers are those of fitting it alone.
    """
    cols = ["campaign", "ad_type", "n_days", "mean_spend", "mean_ad_sales", "a_sales_usd", "b_spend_usd", "fit"]
    if daily.empty:
        return pd.DataFrame(columns=cols)
    codes, names = pd.factorize(daily["campaign"], sort=True)
    order = np.argsort(codes, kind="stable")  # each campaign's days together, in table order
    spend = daily["spend"].to_numpy(float)[order]
    sales = daily["ad_sales"].to_numpy(float)[order]
    starts = np.searchsorted(codes[order], np.arange(len(names) + 1))
    n_days = np.diff(starts)
    types = daily["ad_type"].to_numpy(dtype=object)[order][starts[:-1]]
    mean_spend = np.array([spend[a:b].mean() for a, b in zip(starts[:-1], starts[1:])])
    mean_sales = np.array([sales[a:b].mean() for a, b in zip(starts[:-1], starts[1:])])
    med = np.array([float(np.median(spend[a:b][spend[a:b] > 0])) if (spend[a:b] > 0).any() else 0.0
                    for a, b in zip(starts[:-1], starts[1:])])
    ratios = np.exp(np.linspace(np.log(0.05), np.log(20.0), grid_size))
    fitted = (n_days >= min_days) & (med > 0)
    grid_b = ratios[None, :] * med[:, None]  # (campaigns, grid)
    grid_a = np.zeros((len(names), grid_size))
    grid_sse = np.zeros((len(names), grid_size))
    for n in np.unique(n_days[fitted]):
        idx = np.flatnonzero(fitted & (n_days == n))
        for chunk in np.array_split(idx, -(-len(idx) // 256)):  # (256, grid, days) floats at a time
            rows = starts[chunk][:, None] + np.arange(n)
            s, y, b = spend[rows], sales[rows], grid_b[chunk]
            f = 1.0 - np.exp(-s[:, None, :] / b[:, :, None])  # (k, grid, n)
            ff = (f * f).sum(axis=2)
            fy = np.matmul(f, y[:, :, None])[:, :, 0]
            a = np.where(ff > 0, fy / np.where(ff > 0, ff, 1), 0.0)
            grid_a[chunk] = a
            grid_sse[chunk] = ((y[:, None, :] - a[:, :, None] * f) ** 2).sum(axis=2)
    # pooled prior per ad type: median best log-ratio of the unpenalized fits
    fit_idx = np.flatnonzero(fitted)
    best_log = pd.Series(np.log(grid_b[fit_idx, np.argmin(grid_sse[fit_idx], axis=1)] / med[fit_idx]),
                         index=names[fit_idx], dtype=float)
    mu = (best_log.groupby(pd.Series(types[fit_idx], index=best_log.index)).median() if len(best_log)
          else pd.Series(dtype=float))
    a_out, b_out = np.full(len(names), np.nan), np.full(len(names), np.nan)
    for i in fit_idx:
        sse = grid_sse[i]
        sigma2 = max(sse.min() / max(n_days[i] - 2, 1), 1e-9)
        score = sse / sigma2 + (np.log(grid_b[i] / med[i]) - mu.get(types[i], 0.0)) ** 2 / prior_sd_log ** 2
        k = int(np.argmin(score))
        a_out[i], b_out[i] = float(grid_a[i, k]), float(grid_b[i, k])
    return pd.DataFrame({"campaign": names.to_numpy(dtype=object), "ad_type": types, "n_days": n_days,
                         "mean_spend": mean_spend, "mean_ad_sales": mean_sales, "a_sales_usd": a_out,
                         "b_spend_usd": b_out, "fit": np.where(fitted, "own", "too few days with spend")})[cols]


def _spend_at(lam, a, b, lo, hi):
    with np.errstate(divide="ignore", invalid="ignore"):
        s = b * np.log(np.maximum(a / (b * lam), 1e-300))
    return np.clip(np.maximum(s, 0.0), lo, hi)


class Groups:
    """Consecutive groups of rows (sorted group codes 0..G-1): per-group sums equal, bit for bit, numpy's sum
    of each group's slice (groups of one length are summed as the rows of one matrix), so a vectorized
    computation over thousands of SKUs gives the numbers a loop over them would."""

    def __init__(self, codes: np.ndarray):
        self.codes = np.asarray(codes, dtype=np.int64)
        self.n = int(self.codes[-1]) + 1 if len(self.codes) else 0
        starts = np.flatnonzero(np.r_[True, self.codes[1:] != self.codes[:-1]]) if len(self.codes) else np.zeros(0, int)
        lens = np.diff(np.r_[starts, len(self.codes)])
        self._blocks = [(np.flatnonzero(lens == n), starts[lens == n][:, None] + np.arange(n)) for n in np.unique(lens)]

    def sum(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n)
        for rows, idx in self._blocks:
            out[rows] = x[idx].sum(axis=1)
        return out

    def max(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n)
        for rows, idx in self._blocks:
            out[rows] = x[idx].max(axis=1)
        return out


def allocate_spend(a, b, total, lo=None, hi=None, iters: int = 100) -> np.ndarray:
    """Split ``total`` daily spend over campaigns with curves A·(1 − e^(−s/B)) to maximise ad sales.

    Equal marginal return λ = (A/B)·e^(−s/B) on every campaign not at a bound (KKT); λ by bisection.
    ``lo`` / ``hi`` bound each campaign's spend (default 0 / ``total``).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    lo = np.zeros_like(a) if lo is None else np.asarray(lo, float)
    hi = np.full_like(a, float(total)) if hi is None else np.asarray(hi, float)
    return allocate_spend_groups(a, b, np.array([float(total)]), lo, hi, Groups(np.zeros(len(a), np.int64)), iters)


def allocate_spend_groups(a, b, total, lo, hi, groups: Groups, iters: int = 100) -> np.ndarray:
    """:func:`allocate_spend` for many groups at once (one SKU × channel each): ``total`` per group, the
    campaigns' ``a, b, lo, hi`` in the order of ``groups`` (a bisection on λ per group, all groups together)."""
    codes = groups.codes
    total = np.clip(np.asarray(total, float), groups.sum(lo), groups.sum(hi))
    lo_l, hi_l = np.full(groups.n, 1e-12), groups.max(a / b) * 10 + 1.0  # λ high → little spend
    for _ in range(iters):
        mid = np.sqrt(lo_l * hi_l)
        over = groups.sum(_spend_at(mid[codes], a, b, lo, hi)) > total
        lo_l, hi_l = np.where(over, mid, lo_l), np.where(over, hi_l, mid)
    s = _spend_at(hi_l[codes], a, b, lo, hi)
    # hand any rounding remainder to campaigns with room, proportionally
    rest = (total - groups.sum(s))[codes]
    room = np.where(rest > 0, hi - s, s - lo)
    room_total = groups.sum(room)[codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(room_total > 0, s + rest * room / room_total, s)


def profit_optimal_spend(a, b, margin) -> np.ndarray:
    """Spend where marginal ad sales × margin = 1: s* = B · ln(A·m / B), 0 when even the first dollar loses."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(b * np.log(np.maximum(a * margin / b, 1e-300)), 0.0)


def upcoming_peaks(events: pd.DataFrame | None, products: pd.DataFrame, as_of, within_days: float,
                   min_uplift: float = 0.3) -> pd.DataFrame:
    """Per SKU the first peak event (Black Friday / Cyber Monday / Prime Day / Christmas by name, or
    ``expected_uplift`` ≥ ``min_uplift``) dated from as_of to as_of + ``within_days``: columns sku,
    peak_event, peak_date. Scope ``all`` (or a channel) applies to every SKU, else the SKU or its category."""
    from workbench.policies.restock import PEAK_PATTERN

    out = pd.DataFrame({"sku": products["sku"].astype(str), "peak_event": "", "peak_date": pd.NaT})
    if events is None or len(events) == 0:
        return out
    up = pd.to_numeric(events.get("expected_uplift"), errors="coerce") if "expected_uplift" in events else np.nan
    ev = events[(events["event"].astype(str).str.contains(PEAK_PATTERN) | (up >= min_uplift))
                & (events["date"] >= as_of) & (events["date"] <= as_of + pd.Timedelta(days=within_days))]
    cats = products["category"].astype(str) if "category" in products else pd.Series("", index=products.index)
    known = set(out["sku"]) | set(cats)
    for e in ev.sort_values("date", ascending=False).itertuples():  # earliest event written last
        scope = str(e.scope)
        hit = (np.ones(len(out), bool) if scope == "all" or scope not in known
               else ((out["sku"] == scope) | (cats.to_numpy() == scope)).to_numpy())
        out.loc[hit, "peak_event"], out.loc[hit, "peak_date"] = str(e.event), e.date
    return out


# --------------------------------------------------------------------------------------------------
# the policy
# --------------------------------------------------------------------------------------------------

@dataclass(repr=False)
class AdBudgetPolicy(Policy):
    """Playbook ad budgets across the stockout cycle, response-curve allocation when healthy.

    Parameters
    ----------
    pre_stockout_cut : share of the SKU's total daily budget cut before a stockout (0.35; in [0.30, 0.40]).
    core_bid_cut : bid reduction on core (exact/phrase) campaigns before a stockout (0.075; in [0.05, 0.10]).
    stockout_token_budget_usd : most a Sponsored Brands campaign keeps during a stockout (0 = pause).
    recovery_budget_multiplier : core budget after restock vs pre-stockout (1.5; in [1, 2]).
    recovery_auto_bid_change : bid change on auto campaigns in recovery (−0.20: harvest at low bids).
    max_weekly_change : largest budget move per campaign and per SKU total in the normal phase (0.20).
    perf_window_days : days of history that judge a campaign's ACoS and spend rate (14).
    fit_window_days : days of history the response curves are fitted on (365; budgets that moved
        over a longer span pin the curve's bend down better).
    pre_window_days : days before a stockout whose mean budget is the pre-stockout budget (14).
    min_clicks_no_sales : a campaign with at least this many clicks and no ad sales over
        ``perf_window_days`` is paused in any phase (rule ``no_sales_pause``; 20); with fewer clicks and
        no sales a healthy campaign is left alone (``too_few_clicks_keep``: too little to judge).
    peak_lookahead_days : a peak event (Black Friday, Cyber Monday, Prime Day, Christmas, or an event
        with expected uplift ≥ 0.3) this close makes profitable campaigns of in-stock SKUs keep or raise
        their budget (rule ``peak_keep_profitable``; 14).
    Guards over every phase (rule ``guard``): no raise for a campaign whose ACoS (spend / ad sales over
    ``perf_window_days``; spend with no sales counts as above) is above its break-even ACoS
    (``no_raise_above_breakeven``), and none while the listing's Buy Box is held by another seller
    (``buybox_lost_no_raise``: Sponsored Products do not serve without it).
    phase : the :class:`StockoutPhase` (tuned as ``phase__<name>``).
    """

    pre_stockout_cut: float = 0.35
    core_bid_cut: float = 0.075
    stockout_token_budget_usd: float = 0.0
    recovery_budget_multiplier: float = 1.5
    recovery_auto_bid_change: float = -0.20
    max_weekly_change: float = 0.20
    perf_window_days: int = 14
    fit_window_days: int = 365
    pre_window_days: int = 14
    min_clicks_no_sales: int = 20
    peak_lookahead_days: float = 14.0
    phase: StockoutPhase = field(default_factory=StockoutPhase)

    def _validate(self) -> None:
        check_in_range("pre_stockout_cut", self.pre_stockout_cut, 0.30, 0.40, closed="both")
        check_in_range("core_bid_cut", self.core_bid_cut, 0.05, 0.10, closed="both")
        check_in_range("stockout_token_budget_usd", self.stockout_token_budget_usd, 0, 1e6, closed="left")
        check_in_range("recovery_budget_multiplier", self.recovery_budget_multiplier, 1.0, 2.0, closed="both")
        check_in_range("recovery_auto_bid_change", self.recovery_auto_bid_change, -0.9, 0, closed="both")
        check_in_range("max_weekly_change", self.max_weekly_change, 0, 1, closed="right")
        check_in_range("perf_window_days", self.perf_window_days, 1, 365, closed="both")
        check_in_range("fit_window_days", self.fit_window_days, 14, 730, closed="both")
        check_in_range("pre_window_days", self.pre_window_days, 1, 365, closed="both")
        check_in_range("min_clicks_no_sales", self.min_clicks_no_sales, 1, 1e6, closed="both")
        check_in_range("peak_lookahead_days", self.peak_lookahead_days, 0, 365, closed="both")

    def _campaign_table(self, ds, as_of, phases: pd.DataFrame) -> pd.DataFrame:
        """One row per live campaign: current budget, recent performance, targeting, margin, phase."""
        as_of = as_timestamp(as_of)
        ads = ds.get("ads")
        # the columns read, without a copy of the ~5 M rows at 10,000 SKUs (issue 12, item 8); only read below
        ads = columns_until(ads, [c for c in _CAMPAIGN_COLUMNS if c in ads.columns], as_of)
        ordered = ads.sort_values("date")
        last = ordered.groupby("campaign").last()
        # targeting of each campaign's latest row (worked out on those rows only: millions of rows at 10,000 SKUs)
        latest = ordered.drop_duplicates("campaign", keep="last")
        last["targeting_"] = pd.Series(campaign_targeting(latest).to_numpy(), index=latest["campaign"].to_numpy())
        del ordered, latest
        last = last.loc[last["date"] > as_of - pd.Timedelta(days=30)]  # campaigns that stopped long ago are gone
        camp = last[["sku", "channel", "ad_type", "daily_budget", "targeting_", "date"]].rename(
            columns={"daily_budget": "current_budget", "targeting_": "targeting", "date": "last_date"})
        if "bid" in last.columns:
            camp["bid"] = last["bid"]
        camp = camp.reset_index()
        recent = ads.loc[ads["date"] > as_of - pd.Timedelta(days=self.perf_window_days)]
        if "clicks" not in recent.columns:
            recent = recent.assign(clicks=np.nan)
        perf = recent.groupby("campaign").agg(spend_14d=("spend", "sum"), ad_sales_14d=("ad_sales", "sum"),
                                              budget_14d=("daily_budget", "sum"), clicks_14d=("clicks", "sum"))
        camp = camp.merge(perf.reset_index(), on="campaign", how="left")
        last28 = ads.loc[ads["date"] > as_of - pd.Timedelta(days=28)]
        high = (last28.groupby(["sku", "channel", "date"])["daily_budget"].sum()
                .groupby(["sku", "channel"]).max().rename("sku_budget_28d_high").reset_index())
        camp = camp.merge(high, on=["sku", "channel"], how="left")
        camp["sku_budget_28d_high"] = camp["sku_budget_28d_high"].fillna(0.0)
        camp["acos"] = camp["spend_14d"] / camp["ad_sales_14d"].where(camp["ad_sales_14d"] > 0)
        # spend with no sales is an ACoS above any break-even
        camp["acos_eff"] = camp["acos"].where(~((camp["spend_14d"] > 0) & (camp["ad_sales_14d"] <= 0)), np.inf)
        offers = latest_offers(ds.get("offers"), as_of)
        lost = offers.assign(buybox_lost=offers["buybox_winner"].astype(str) == "other")
        camp = camp.merge(lost[["sku", "channel", "buybox_lost", "buybox_price"]], on=["sku", "channel"], how="left")
        camp["buybox_lost"] = camp["buybox_lost"].eq(True)  # no offer row: not lost (no object fillna downcast)
        peaks = upcoming_peaks(ds.get("events"), ds["products"], as_of, self.peak_lookahead_days)
        camp = camp.merge(peaks, on="sku", how="left")
        camp["peak_event"] = camp["peak_event"].fillna("")
        camp["utilization"] = (camp["spend_14d"] / camp["budget_14d"].where(camp["budget_14d"] > 0)).clip(0.05, 1.0)
        # pre-stockout budget per campaign
        pre = self._pre_stockout_rows(ads, phases)
        camp = camp.merge(pre.groupby("campaign")["daily_budget"].mean().rename("pre_stockout_budget").reset_index(),
                          on="campaign", how="left")
        prices = current_prices(ds["sales"], ds["products"], as_of)
        pr = prices.merge(ds["products"][["sku", "unit_cost", "fee_rate"]], on="sku")
        pr["breakeven_acos"] = ((pr["current_price"] * (1 - pr["fee_rate"]) - pr["unit_cost"])
                                / pr["current_price"]).clip(lower=0)
        camp = camp.merge(pr[["sku", "channel", "breakeven_acos"]], on=["sku", "channel"], how="left")
        camp["breakeven_acos"] = camp["breakeven_acos"].fillna(0.0)
        cols = ["sku", "channel", "phase", "phase_reason", "recovery_step"]
        camp = camp.merge(phases[cols], on=["sku", "channel"], how="left")
        camp["phase"] = camp["phase"].fillna("normal")
        camp["phase_reason"] = camp["phase_reason"].fillna("no sales history for this SKU × channel")
        camp["recovery_step"] = camp["recovery_step"].fillna(0).astype(int)
        camp["core"] = camp["targeting"].isin(["exact", "phrase"]) | camp["campaign"].str.lower().str.contains("core")
        camp["poor"] = camp["targeting"].isin(["auto", "broad"]) & (
            (camp["acos"] > camp["breakeven_acos"]) | ((camp["spend_14d"] > 0) & (camp["ad_sales_14d"] <= 0)))
        return camp

    def recommend(self, snapshot, phases: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per live campaign with the design's ads columns (plus rule and the numbers behind it).

        ``phases``: this run's :meth:`StockoutPhase.recommend` output (computed with ``self.phase`` if not given).
        """
        self._validate_all()
        ds, as_of = snapshot.ds, snapshot.as_of
        if ds.get("ads") is None or ds.get("ads").empty:
            return pd.DataFrame(columns=ADS_COLUMNS + EXTRA_COLUMNS)
        ph = phases if phases is not None else self.phase.recommend(snapshot)
        camp = self._campaign_table(ds, as_of, ph)
        if camp.empty:  # no campaign ran in the 30 days up to as_of
            return pd.DataFrame(columns=ADS_COLUMNS + EXTRA_COLUMNS)
        camp["recommended_budget"] = camp["current_budget"].astype(float)
        camp["bid_change"] = 0.0
        camp["action"], camp["rule"], camp["detail"] = "keep", "", ""
        curves = self._curves(snapshot, camp)
        camp = camp.merge(curves[["campaign", "a_sales_usd", "b_spend_usd", "fit"]], on="campaign", how="left")
        by_phase = {"pre_stockout": self._pre_stockout, "stockout": self._stockout, "recovery": self._recovery}
        normal = ~camp["phase"].isin(list(by_phase))
        parts = [self._normal(camp.loc[normal].copy())] if normal.any() else []  # every healthy SKU at once
        for (sku, ch), g in camp.loc[~normal].groupby(["sku", "channel"], sort=True):
            parts.append(by_phase[g["phase"].iloc[0]](g.copy()))
        out = self._guards(pd.concat(parts, ignore_index=True))
        out["recommended_budget"] = out["recommended_budget"].round(2)
        cur = out["current_budget"].astype(float)
        out["change_pct"] = np.where(cur > 0, (out["recommended_budget"] / cur.where(cur > 0, 1) - 1) * 100,
                                     np.where(out["recommended_budget"] > 0, 100.0, 0.0)).round(1)
        out["bid_change_pct"] = (out["bid_change"] * 100).round(1)
        out["reason"] = [self._reason(r) for r in out.itertuples(index=False)]
        out = out[ADS_COLUMNS + EXTRA_COLUMNS]
        for c in ("acos", "breakeven_acos", "a_sales_usd", "b_spend_usd", "pre_stockout_budget", "spend_14d",
                  "ad_sales_14d"):
            out[c] = out[c].astype(float).round(3)
        return out.sort_values(["sku", "channel", "campaign"]).reset_index(drop=True)

    # -- guards over every phase -------------------------------------------------------------
    def _guards(self, g: pd.DataFrame) -> pd.DataFrame:
        """Rules that override the phase's move, in order: ``no_sales_pause`` (≥ ``min_clicks_no_sales``
        clicks, spend and no ad sales), ``too_few_clicks_keep`` (a healthy campaign with fewer clicks and no
        sales is not moved on a fitted curve), ``peak_keep_profitable`` (a peak event ahead, in stock, ACoS ≤
        break-even: no cut), ``no_raise_above_breakeven`` and ``buybox_lost_no_raise`` (no raise)."""
        cur = g["current_budget"].astype(float)
        rec = g["recommended_budget"].astype(float).copy()
        guard = pd.Series("", index=g.index, dtype=object)
        clicks = g["clicks_14d"].fillna(0).astype(float)
        no_sales = (clicks >= self.min_clicks_no_sales) & (g["spend_14d"].fillna(0) > 0) & (g["ad_sales_14d"].fillna(0) <= 0) \
            & (cur > 0)
        rec[no_sales] = 0.0
        g.loc[no_sales, "action"] = "pause"
        guard[no_sales] = [f"no_sales_pause: {c:.0f} clicks and ${sp:,.2f} spend in {self.perf_window_days} d with no ad "
                           f"sales (≥ {self.min_clicks_no_sales} clicks)" for c, sp in zip(clicks[no_sales], g.loc[no_sales, "spend_14d"])]
        thin = ((g["rule"] == "normal_response_curve") & (clicks < self.min_clicks_no_sales)
                & (g["ad_sales_14d"].fillna(0) <= 0) & (rec != cur))
        rec[thin] = cur[thin]
        g.loc[thin, "action"] = "keep"
        guard[thin] = [f"too_few_clicks_keep: {c:.0f} clicks and no ad sales in {self.perf_window_days} d "
                       f"(< {self.min_clicks_no_sales}): too little to judge, budget kept" for c in clicks[thin]]
        profitable = g["acos_eff"].astype(float) <= g["breakeven_acos"].astype(float)
        peak = (g["peak_event"] != "") & (g["phase"] == "normal") & profitable & ~g["buybox_lost"] & (rec < cur) & ~no_sales
        rec[peak] = cur[peak]
        g.loc[peak, "action"] = "keep"
        guard[peak] = [f"peak_keep_profitable: {e} on {pd.Timestamp(d):%Y-%m-%d} within {self.peak_lookahead_days:g} d and "
                       f"ACoS {a:.0%} ≤ break-even {b:.0%}: no cut going into the peak"
                       for e, d, a, b in zip(g.loc[peak, "peak_event"], g.loc[peak, "peak_date"], g.loc[peak, "acos"],
                                             g.loc[peak, "breakeven_acos"])]
        raised = rec > cur + 1e-9
        above = raised & (g["acos_eff"].astype(float) > g["breakeven_acos"].astype(float))  # unknown ACoS is not above
        rec[above] = cur[above]
        g.loc[above, "action"] = "keep"
        acos_txt = ["no ad sales" if not np.isfinite(a) else f"ACoS {a:.0%}" for a in g.loc[above, "acos_eff"]]
        guard[above] = [f"no_raise_above_breakeven: {t} > break-even {b:.0%}, budget held at {c:.2f}"
                        for t, b, c in zip(acos_txt, g.loc[above, "breakeven_acos"], cur[above])]
        bb = (rec > cur + 1e-9) & g["buybox_lost"]
        rec[bb] = cur[bb]
        g.loc[bb, "action"] = "keep"
        guard[bb] = [f"buybox_lost_no_raise: Buy Box held by another seller at {p:.2f}; Sponsored Products do not "
                     f"serve without it, budget held at {c:.2f}" for p, c in zip(g.loc[bb, "buybox_price"], cur[bb])]
        g["recommended_budget"] = rec
        g["guard"] = guard
        return g

    # -- phases ------------------------------------------------------------------------------
    def _pre_stockout(self, g: pd.DataFrame) -> pd.DataFrame:
        cur = g["current_budget"].astype(float)
        # the cut is measured from the SKU's highest daily total of the last 28 days, so a weekly
        # run does not cut again what last week's run already cut
        total = max(cur.sum(), float(g["sku_budget_28d_high"].iloc[0]))
        target = (1 - self.pre_stockout_cut) * total
        rec = cur.copy()
        g.loc[g["poor"], ["action", "rule"]] = ["pause", "pre_stockout_pause_poor"]
        rec[g["poor"]] = 0.0
        g.loc[g["core"], ["action", "rule"]] = ["keep, lower bids", "pre_stockout_keep_core"]
        g.loc[g["core"], "bid_change"] = -self.core_bid_cut
        other = ~g["core"] & ~g["poor"]
        g.loc[other, ["action", "rule"]] = ["cut", "pre_stockout_cut"]
        excess = rec.sum() - target
        if excess > 0 and rec[other].sum() > 0:
            take = min(excess, rec[other].sum())
            rec[other] = rec[other] * (1 - take / rec[other].sum())
            excess -= take
        if excess > 0 and rec[g["core"]].sum() > 0:
            core = g["core"]
            rec[core] = rec[core] * (1 - excess / rec[core].sum())
            g.loc[core, "action"] = "cut, lower bids"
        zeroed = other & (rec <= 0) & (cur > 0)
        g.loc[zeroed, "action"] = "pause"
        if rec.sum() <= 0 and total > 0:  # never switch everything off
            best = g["acos"].fillna(np.inf).idxmin()
            rec[best] = target
            g.loc[best, ["action", "rule"]] = ["keep (never all off)", "pre_stockout_never_all_off"]
        g["recommended_budget"] = rec
        cut = 1 - rec.sum() / total if total > 0 else 0.0
        high = "" if np.isclose(total, cur.sum()) else f" (28-day high; today {cur.sum():.2f})"
        g["detail"] = (f"SKU budget {total:.2f}{high} → {rec.sum():.2f}/d ({-cut:+.0%}, target "
                       f"{-self.pre_stockout_cut:+.0%})")
        return g

    def _stockout(self, g: pd.DataFrame) -> pd.DataFrame:
        sbsd = g["ad_type"].isin(["SB", "SD"])
        g.loc[~sbsd, ["action", "rule"]] = ["keep (pauses itself while out of stock)", "stockout_sp_self_pause"]
        token = (g["ad_type"] == "SB") & (self.stockout_token_budget_usd > 0)
        g.loc[sbsd, "recommended_budget"] = 0.0
        g.loc[sbsd, ["action", "rule"]] = ["pause", "stockout_pause_sb_sd"]
        g.loc[token, "recommended_budget"] = np.minimum(g.loc[token, "current_budget"], self.stockout_token_budget_usd)
        g.loc[token, "action"] = "token budget"
        g["detail"] = ""
        return g

    def _recovery(self, g: pd.DataFrame) -> pd.DataFrame:
        step = int(g["recovery_step"].iloc[0]) or 1
        mult = self.recovery_budget_multiplier if step == 1 else 1 + (self.recovery_budget_multiplier - 1) / 2
        ref = g["pre_stockout_budget"].fillna(g["current_budget"]).astype(float)
        core, auto = g["core"], g["targeting"] == "auto"
        g["recommended_budget"] = ref
        g.loc[core, "recommended_budget"] = ref[core] * mult
        g.loc[core, ["action", "rule"]] = ["raise on core keywords", "recovery_boost_core"]
        g.loc[auto, "bid_change"] = self.recovery_auto_bid_change
        g.loc[auto, ["action", "rule"]] = ["harvest keywords at low bids", "recovery_auto_low_bids"]
        rest = ~core & ~auto
        g.loc[rest, ["action", "rule"]] = ["back to pre-stockout budget", "recovery_restore"]
        resumed = rest & (g["current_budget"] <= 0) & (g["recommended_budget"] > 0)
        g.loc[resumed, "action"] = "resume at pre-stockout budget"
        tot_ref, tot = ref.sum(), g["recommended_budget"].sum()
        g["detail"] = (f"step {step}: core at {mult:.2g}× pre-stockout; SKU budget {tot:.2f}/d = "
                       f"{tot / tot_ref if tot_ref > 0 else 1:.2f}× pre-stockout {tot_ref:.2f}/d")
        return g

    def _normal(self, g: pd.DataFrame) -> pd.DataFrame:
        """Normal phase, every SKU × channel of ``g`` at once: each SKU's profit-optimal spend within the
        weekly cap, split over its campaigns by :func:`allocate_spend_groups`."""
        cap = self.max_weekly_change
        fit = (g["fit"] == "own") & (g["current_budget"] > 0) & g["a_sales_usd"].notna() & (g["a_sales_usd"] > 0)
        g["rule"] = "normal_keep"
        g.loc[~fit, "action"] = "keep"
        g.loc[~fit, "detail"] = np.where(g.loc[~fit, "current_budget"] <= 0, "paused campaign left paused",
                                         "too little spend history to fit a response curve")
        if not fit.any():
            return g
        f = g.loc[fit]
        codes = f.groupby(["sku", "channel"], sort=True).ngroup().to_numpy()
        order = np.argsort(codes, kind="stable")  # each SKU × channel's campaigns together, in table order
        f, groups = f.iloc[order], Groups(codes[order])
        m = f["breakeven_acos"].to_numpy(float)  # the SKU × channel's break-even ACoS
        u = f["utilization"].fillna(1.0).to_numpy(float)
        a, b = f["a_sales_usd"].to_numpy(float), f["b_spend_usd"].to_numpy(float)
        cur_spend = f["current_budget"].to_numpy(float) * u
        lo, hi = cur_spend * (1 - cap), cur_spend * (1 + cap)
        best = np.where(m > 0, profit_optimal_spend(a, b, m), 0.0)
        best_total = groups.sum(best)
        # profit-optimal spend per campaign within its weekly cap (the KKT solution at λ = 1/m)
        total = groups.sum(np.clip(best, lo, hi))
        s = allocate_spend_groups(a, b, total, lo, hi, groups)
        rec = s / u
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            marg = np.where(a > 0, 1.0 / ((a / b) * np.exp(-cur_spend / b)), np.inf)  # marginal ACoS now
        g.loc[f.index, "recommended_budget"] = rec
        chg = rec / f["current_budget"].to_numpy(float) - 1
        g.loc[f.index, "action"] = np.where(chg > 0.005, "raise", np.where(chg < -0.005, "lower", "keep"))
        g.loc[f.index, "rule"] = "normal_response_curve"
        capped = np.where(np.isclose(total, best_total), "", " (weekly cap)")[groups.codes]
        spent, total = groups.sum(cur_spend)[groups.codes], total[groups.codes]
        g.loc[f.index, "detail"] = [
            f"fitted curve {ai:.0f}·(1−e^(−s/{bi:.0f})): marginal ACoS {mi:.0%} at today's spend vs break-even "
            f"{mm:.0%}; SKU spend {sp:.2f} → {tt:.2f}/d{cp}, campaign ±{cap:.0%} at most"
            for ai, bi, mi, mm, sp, tt, cp in zip(a, b, marg, m, spent, total, capped)]
        return g

    def _pre_stockout_rows(self, ads: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
        """The ads rows (campaign, daily_budget) of the ``pre_window_days`` before each pair's stockout: looked
        up by pair and taken in table order, no merge of the ~5 M rows (10,000 SKUs) with the episodes."""
        ep = phases[["sku", "channel", "stockout_start"]].dropna()
        if ep.empty:
            return ads.iloc[:0][["campaign", "daily_budget"]]
        return ads.take(stockout_window_rows(ads, ep, self.pre_window_days))[["campaign", "daily_budget"]]

    def _curves(self, snapshot, camp: pd.DataFrame) -> pd.DataFrame:
        ds, as_of = snapshot.ds, snapshot.as_of
        ads = ds.get("ads")
        start = as_of - pd.Timedelta(days=self.fit_window_days)
        win = ads.loc[(ads["date"] <= as_of) & (ads["date"] > start)
                      & ads["campaign"].isin(camp.loc[camp["phase"] == "normal", "campaign"]),
                      ["date", "sku", "channel", "campaign", "ad_type", "spend", "ad_sales"]]
        if win.empty:
            return pd.DataFrame(columns=["campaign", "a_sales_usd", "b_spend_usd", "fit"])
        ok = snapshot.sales_in_stock(["date", "sku", "channel"], copy=False)
        ok = ok.loc[(ok["date"] > start) & ok["sku"].isin(win["sku"].unique()),  # only rows that can match
                    ["date", "sku", "channel", "in_stock"]].rename(columns={"in_stock": "_ok"})
        win = win.merge(ok, on=["date", "sku", "channel"], how="left")
        win = win.loc[win["_ok"].fillna(True).astype(bool)]
        return fit_response_curves(win)

    def _reason(self, r) -> str:
        acos = "" if pd.isna(r.acos) else f", ACoS {r.acos:.0%} (break-even {r.breakeven_acos:.0%})"
        head = f"{r.phase}: {r.phase_reason}"
        what = {
            "pre_stockout_pause_poor": f"pause poor {r.targeting} campaign{acos}",
            "pre_stockout_keep_core": f"keep core {r.targeting} campaign, bids {-self.core_bid_cut:+.1%}",
            "pre_stockout_cut": (f"cut {r.change_pct:+.0f}%" if r.recommended_budget > 0 else
                                 "pause: the core campaigns use up the reduced budget"),
            "pre_stockout_never_all_off": "keep the best campaign running (never switch all ads off)",
            "stockout_sp_self_pause": "Sponsored Products stop serving by themselves, budget left as is",
            "stockout_pause_sb_sd": (f"pause {r.ad_type}: clicks cannot convert while out of stock"
                                     + (f" (token {r.recommended_budget:.2f}/d kept)"
                                        if r.recommended_budget > 0 else "")),
            "recovery_boost_core": f"core {r.targeting} campaign to {r.recommended_budget:.2f}/d",
            "recovery_auto_low_bids": (f"auto campaign at its pre-stockout budget {r.recommended_budget:.2f}/d, "
                                       f"bids {r.bid_change_pct:+.0f}% to harvest new keywords"),
            "recovery_restore": f"back to its pre-stockout budget {r.recommended_budget:.2f}/d",
            "normal_response_curve": f"{r.action} {r.change_pct:+.1f}%",
            "normal_keep": "keep the budget",
        }.get(r.rule, r.action)
        if r.rule in ("pre_stockout_keep_core",) and r.action.startswith("cut"):
            what += f", budget {r.change_pct:+.0f}%"
        text = f"{head}; {what}"
        if r.detail:
            text += f"; {r.detail}"
        if r.guard:
            text += f"; {r.guard}"
        return text
