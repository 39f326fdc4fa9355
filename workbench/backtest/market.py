"""A closed-loop market: the sample-data generator's world answering a seller's weekly decisions.

The replay of :mod:`workbench.backtest.replay` plays orders against demand that does not react to
the seller. Here demand does react, by the generator's own ground truth
(:mod:`workbench.data.generate`, docs/sample-data.md), so price and ad-budget policies can be
judged by the profit they make:

- **price**: expected demand ``λ(t, p) = λ(t, p0) · (p / p0)^β`` with the SKU's TRUE elasticity β
  (``sku_params.elasticity``) and list price p0 — the generator's ``expected_demand`` at p0;
- **ads**: each campaign's TRUE response ``a · (1 − e^(−s/b))`` (USD a day, ``ad_params``) × (1 +
  event uplift), in units at p0, moved by price with the same β. The generator attributes ad orders
  inside the demand it draws, so total demand at a campaign's reference spend (its base budget ×
  the mean utilisation 0.775) is the generator's λ: ``organic = λ(t, p0) − Σ ad units at reference
  spend`` (≥ 0), and total ``= (organic + Σ ad units at today's spend) · (p / p0)^β``;
- **draws**: the generator's ``latent_demand`` (intermittent, erratic and lumpy classes alike) on
  that λ, seeded by (seed, week), the same for every arm (common random numbers);
- **stockouts cost rank**: as the generator's day loop — while in stock demand is thinned by
  ``e^(−0.5·shift)`` (× 0.7 while a hijacker shares the listing); ``shift`` grows 0.2 a day out of
  stock (at most 2) and decays by ``e^(−1/recovery_tau)`` a day in stock; hijackers enter more
  often when cover is under 7 days. Sponsored Products spend 2 % of their budget on a day out of
  stock (they pause themselves); Sponsored Brands / Display spend in full on clicks that cannot
  convert. Budgets are spent at the generator's utilisation U(0.55, 1.0) a day.

Accounting per SKU and day (summed over the replay): revenue = units × price; cost of goods =
units × unit cost; fees = revenue × fee rate; ad spend; freight = the freight of the units sold, first in,
first out (an order's freight is qty × unit cost × the mode's freight share, :func:`world.freight_shares`;
a cost when its units sell, as the cost of goods is; ``freight_paid``: the orders arriving in the replay); carrying =
carrying rate × average inventory value × days / 365. ``profit = revenue − cost of goods − fees −
ad spend − freight − carrying``. Returns are left out (the same share of units for every arm).

What an arm sees on decision day d (:func:`view_for`): the dataset before the replay's start, then
its own records (sales with price and sessions, weekly stock snapshots, its orders, its ads rows);
keyword ranks and the supplier feed stop at the start (the generator's later rows describe another
seller's stock); offers are hidden (the market has no Buy Box or competitor response).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.backtest import world as W
from workbench.backtest.levers import SP_OOS_SPEND, ad_sales_usd, price_factor, rank_penalty, rank_step
from workbench.backtest.view import ReplayRecords, build_view, restrict
from workbench.data import gen_calendar as cal
from workbench.data import generate as gen
from workbench.leadtime import MODES

UTILISATION = (0.55, 1.0)  # share of a daily budget spent (the generator's U(0.55, 1.0))
STOPPED_AT_START = ("keyword_ranks", "supplier_feed", "returns", "account_health")
# The market has no Buy Box and no competitor response, so no arm sees offers: a snapshot frozen at the
# start showed some listings' Buy Box "lost" for the whole replay (a first run priced SKU-0001 of seed 303
# at the other seller's price, −38 %, for 26 weeks, against a world where that wins nothing back).
HIDDEN = ("offers",)
CARRYING_RATE = 0.25  # a year, share of inventory value (as workbench backtest)


@dataclass
class Market:
    """The world of one generated dataset over ``weeks`` replayed weeks (see the module docstring)."""

    ds: object                 # the generated dataset (history and the replay period)
    base: object               # restricted to the replayed SKUs
    seed: int
    start: pd.Timestamp
    days: pd.DatetimeIndex
    skus: list
    sp: pd.DataFrame           # the generator's per-SKU parameters, one row per replayed SKU
    organic: np.ndarray        # (n, D) expected organic units a day at list price
    uplift: np.ndarray         # (D,) event uplift of ad sales
    camp: pd.DataFrame         # campaign, sku, i, ad_type, targeting, a, b, bid, ref_spend, channel
    util: np.ndarray           # (C, D) budget utilisation
    start_price: np.ndarray    # (n,) last listed price before the start
    start_budget: np.ndarray   # (C,) last daily budget before the start
    start_shift: np.ndarray    # (n,) rank shift at the start (the generator's recursion on past stockouts)
    start_ewma: np.ndarray     # (n,) the generator's 21-day smoothed sales at the start
    second_channel: np.ndarray  # (n,) secondary channel name or ""
    second_share: np.ndarray   # (n,) its share of units
    state: W.StartState
    sampler: W.LeadTimeSampler
    uniforms: np.ndarray       # (n, weeks, modes) lead-time draws shared by every arm
    freight_share: dict
    other_locations: pd.DataFrame
    carrying_rate: float = CARRYING_RATE

    @property
    def weeks(self) -> int:
        return len(self.days) // 7

    @property
    def n(self) -> int:
        return len(self.skus)

    def ad_units(self, spend: np.ndarray, t: np.ndarray | int) -> np.ndarray:
        """(C, k) expected ad-driven units at list price for spend (C, k) on replay days t."""
        c = self.camp
        usd = ad_sales_usd(spend, c["a"].to_numpy()[:, None], c["b"].to_numpy()[:, None])
        return usd * (1 + self.uplift[t])[None, :] / self.sp["price"].to_numpy()[c["i"].to_numpy()][:, None]

    def expected_demand(self, price: np.ndarray, budget: np.ndarray, t: np.ndarray) -> np.ndarray:
        """(n, k) expected units a day (before the rank penalty) at these prices and budgets."""
        spend = budget[:, None] * self.util[:, t]
        ads = np.zeros((self.n, len(t)))
        np.add.at(ads, self.camp["i"].to_numpy(), self.ad_units(spend, t))
        factor = price_factor(price, self.sp["price"].to_numpy(), self.sp["elasticity"].to_numpy())
        return (self.organic[:, t] + ads) * factor[:, None]


def _rank_state(sp: pd.DataFrame, sales: pd.DataFrame, skus: list, start: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Rank shift and smoothed sales at the start: the generator's recursions run over the recorded history."""
    s = sales[sales["date"] < start]
    day = s.groupby(["sku", "date"]).agg(units=("units", "sum"), ok=("in_stock", "all")).reset_index()
    units = day.pivot(index="date", columns="sku", values="units").reindex(columns=skus).fillna(0).to_numpy()
    ok = day.pivot(index="date", columns="sku", values="ok").reindex(columns=skus).fillna(True).to_numpy(bool)
    decay = np.exp(-1 / sp["recovery_tau"].to_numpy())
    shift = np.zeros(len(skus))
    for k in range(len(units)):
        shift = rank_step(shift, ~ok[k], decay)
    ewma = units[-21:].mean(axis=0) if len(units) else np.zeros(len(skus))
    return shift, ewma


def _list_price_demand(cfg: gen.GeneratorConfig) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The generator's parameters, event uplift and expected demand at list price, over all its days."""
    T = cfg.n_days
    end = np.datetime64(cfg.end_date, "D")
    first = end - np.timedelta64(T - 1, "D")
    days = first + np.arange(T).astype("timedelta64[D]")
    prime = {int(d[:4]): np.datetime64(d, "D") for d in cfg.prime_day}
    uplift = cal.demand_uplift(days, cal.events_frame(first, end + np.timedelta64(365, "D"), prime))
    sp = gen.sku_params(cfg, T)
    lam = gen.expected_demand(sp, days, uplift, np.broadcast_to(sp["price"].to_numpy(), (T, len(sp))))
    return sp, uplift, lam


def build_market(cfg: gen.GeneratorConfig, weeks: int, data_dir: Path, seed: int | None = None) -> Market:
    """Generate ``cfg`` (its last ``weeks`` weeks are the replay) into ``data_dir`` and set the world up."""
    from workbench.data import load_dataset

    seed = cfg.seed if seed is None else seed
    gen.write_sample_dataset(Path(data_dir), cfg)
    ds = load_dataset(Path(data_dir))
    ad_truth = pd.read_csv(Path(data_dir) / "truth" / "ad_params.csv")
    sku_truth = pd.read_csv(Path(data_dir) / "truth" / "sku_params.csv", keep_default_na=False)
    end = pd.Timestamp(cfg.end_date)
    start = end - pd.Timedelta(days=7 * weeks - 1)
    days = pd.date_range(start, periods=7 * weeks, freq="D")
    skus, _ = W.replay_skus(ds, start)
    idx = np.array([int(s.split("-")[1]) - 1 for s in skus])
    sp_all, uplift_all, lam_all = _list_price_demand(cfg)
    t0 = cfg.n_days - len(days)
    sp = sp_all.iloc[idx].reset_index(drop=True)
    lam = lam_all[t0:, idx].T
    uplift = uplift_all[t0:]

    pos = pd.Index(skus)
    camp = ad_truth[ad_truth["sku"].isin(pos)].reset_index(drop=True)
    camp = camp.rename(columns={"a_max_sales_usd": "a", "b_spend_scale_usd": "b"})
    camp["i"] = pos.get_indexer(camp["sku"])
    camp["ref_spend"] = camp["base_budget_usd"] * np.mean(UTILISATION)
    camp["channel"] = "amazon_us"
    ads_before = ds["ads"][ds["ads"]["date"] < start].sort_values("date")
    last_budget = ads_before.groupby("campaign")["daily_budget"].last()
    start_budget = last_budget.reindex(camp["campaign"]).fillna(camp.set_index("campaign")["base_budget_usd"]).to_numpy(float)
    rng = np.random.default_rng([seed, 9001])
    util = rng.uniform(*UTILISATION, (len(camp), len(days)))

    market = Market(ds=ds, base=None, seed=seed, start=start, days=days, skus=skus, sp=sp, organic=lam,
                    uplift=uplift, camp=camp, util=util, start_price=None, start_budget=start_budget,
                    start_shift=None, start_ewma=None, second_channel=None, second_share=None, state=None,
                    sampler=None, uniforms=None, freight_share=None, other_locations=None)
    ref = np.zeros((len(skus), len(days)))
    t = np.arange(len(days))
    np.add.at(ref, camp["i"].to_numpy(), market.ad_units(np.repeat(camp["ref_spend"].to_numpy()[:, None], len(days), 1), t))
    market.organic = np.maximum(lam - ref, 0.0)

    sales = ds["sales"].assign(sku=lambda s: s["sku"].astype(str))
    before = sales[(sales["date"] < start) & sales["sku"].isin(pos)].sort_values("date")
    prim = before[before["channel"] == "amazon_us"]
    market.start_price = prim.groupby("sku")["price"].last().reindex(skus).fillna(
        pd.Series(sp["price"].to_numpy(), index=skus)).to_numpy(float)
    market.start_shift, market.start_ewma = _rank_state(sp, before, skus, start)
    st = sku_truth.set_index("sku").reindex(skus)
    market.second_channel = st["secondary_channel"].fillna("").astype(str).to_numpy(dtype=object)
    market.second_share = st["secondary_share"].fillna(0).astype(float).to_numpy()
    market.sampler = W.LeadTimeSampler(ds["shipments"])
    market.state = W.start_state(ds, skus, start, len(days), market.sampler)
    market.uniforms = W.order_uniforms(seed, len(skus), weeks)
    market.freight_share = W.freight_shares(ds)
    market.base = restrict(ds, skus)
    inv = ds["inventory"][ds["inventory"]["as_of"] < start]
    pairs = inv.assign(sku=inv["sku"].astype(str), location=inv["location"].astype(str))[["sku", "location"]]
    pairs = pairs.drop_duplicates()
    main = pd.Series(market.state.location, index=skus)
    market.other_locations = pairs[pairs["sku"].isin(pos) & (pairs["location"] != pairs["sku"].map(main))
                                   ].reset_index(drop=True)
    return market


@dataclass
class ArmState:
    """One arm's world state, its records (what it may see) and its ledger."""

    name: str
    stock: np.ndarray
    arrivals: np.ndarray
    shift: np.ndarray
    hijack: np.ndarray
    ewma: np.ndarray
    price: np.ndarray
    budget: np.ndarray
    records: ReplayRecords
    ads_rows: list = field(default_factory=list)
    ledger: dict = field(default_factory=dict)   # name -> (n, D) array
    freight: np.ndarray | None = None            # (n,) freight paid: orders arriving within the replay
    orders: list = field(default_factory=list)
    decisions: list = field(default_factory=list)  # per week: sku, price, budget, rule


LEDGER = ("demand", "sold", "lost", "revenue", "cogs", "fees", "ad_spend", "ad_sales", "stock", "in_stock")


def new_arm_state(m: Market, name: str) -> ArmState:
    n, D = m.n, len(m.days)
    records = ReplayRecords(m.skus, m.state.location, np.full(n, "amazon_us", dtype=object), m.start_price,
                            m.other_locations)
    records.snapshot(m.start - pd.Timedelta(days=1), m.state.stock)
    return ArmState(name=name, stock=m.state.stock.copy(), arrivals=m.state.arrivals.copy(),
                    shift=m.start_shift.copy(), hijack=np.zeros(n, dtype=np.int64), ewma=m.start_ewma.copy(),
                    price=m.start_price.copy(), budget=m.start_budget.copy(), records=records,
                    ledger={k: np.zeros((n, D)) for k in LEDGER}, freight=np.zeros(n))


def view_for(m: Market, s: ArmState, day: pd.Timestamp):
    """The dataset as the arm sees it at the start of ``day`` (module docstring)."""
    v = build_view(m.base, m.start, day, s.records)
    for name in HIDDEN:
        if v.tables.get(name) is not None:
            v.tables[name] = v.tables[name].iloc[0:0]
    for name in STOPPED_AT_START:
        f = v.tables.get(name)
        col = {"keyword_ranks": "date", "supplier_feed": "timestamp", "returns": "date",
               "account_health": "date"}[name]
        if f is not None and col in f.columns:
            v.tables[name] = f[f[col] < m.start]
    ads = v.tables["ads"]
    ads = ads[ads["date"] < m.start]
    if s.ads_rows:
        own = pd.concat(s.ads_rows, ignore_index=True)
        ads = pd.concat([ads, own[own["date"] < day]], ignore_index=True)
    v.tables["ads"] = ads
    return v


def place_orders(m: Market, s: ArmState, w: int, orders: pd.DataFrame) -> None:
    """Lead times by the common draw of each (SKU, week, mode) slot; freight counted when it lands in the replay."""
    day = m.start + pd.Timedelta(days=7 * w)
    pos = pd.Index(m.skus)
    D = len(m.days)
    supplier = m.base["products"].drop_duplicates("sku").set_index("sku")["supplier"].astype(str).reindex(m.skus).to_numpy()
    cost = m.sp["unit_cost"].to_numpy()
    for o in orders.itertuples(index=False):
        i = pos.get_loc(o.sku)
        mode = o.mode if o.mode in MODES else "sea"
        lt = m.sampler.draw(supplier[i], mode, day.month, m.uniforms[i, w, MODES.index(mode)])
        arrive = 7 * w + lt
        if arrive < s.arrivals.shape[1]:
            s.arrivals[i, arrive] += o.qty
        freight = float(o.qty * cost[i] * m.freight_share.get(mode, 0.0))
        if arrive < D:
            s.freight[i] += freight
        eta = day + pd.Timedelta(days=round(m.sampler.median(supplier[i], mode, day.month)))
        s.orders.append(dict(arm=s.name, week=w + 1, order_date=day, sku=o.sku, mode=mode, qty=int(o.qty),
                             lead_time_days=lt, freight_cost=round(freight, 2), reason=o.reason))
        s.records.add_order(shipment_id=f"CL-{s.name}-{w + 1}-{o.sku}-{mode}", sku=o.sku, supplier=supplier[i],
                            mode=mode, qty=int(o.qty), order_date=day, ship_date=pd.NaT, eta=eta,
                            received_date=day + pd.Timedelta(days=lt), location=m.state.location[i],
                            freight_cost=freight)


def play_week(m: Market, s: ArmState, w: int, price: np.ndarray, budget: np.ndarray) -> None:
    """Seven days of the world at this week's prices and budgets (orders already placed)."""
    n = m.n
    t = np.arange(7 * w, 7 * w + 7)
    s.price, s.budget = np.asarray(price, float), np.asarray(budget, float)
    lam = m.expected_demand(s.price, s.budget, t)  # (n, 7)
    latent = gen.latent_demand(m.sp, lam.T, seed=m.seed * 1000 + w)  # (7, n), same draws for every arm
    rng = np.random.default_rng([m.seed, 424242, w])
    ci = m.camp["i"].to_numpy()
    sp_campaign = (m.camp["ad_type"] == "SP").to_numpy()
    decay = np.exp(-1 / m.sp["recovery_tau"].to_numpy())
    cost, fee = m.sp["unit_cost"].to_numpy(), m.sp["fee_rate"].to_numpy()
    L = s.ledger
    rows_sales, rows_ads = [], []
    for k, d in enumerate(t):
        s.stock += s.arrivals[:, d]
        instock = s.stock > 0
        pen = rank_penalty(s.shift) * np.where(s.hijack > 0, gen.HIJACK_SALES_FACTOR, 1.0)
        dem = np.where(instock, rng.binomial(latent[k], pen), latent[k])
        sold = np.where(instock, np.minimum(dem, s.stock), 0)
        s.stock = s.stock - sold
        oos = ~instock
        s.shift = rank_step(s.shift, oos, decay)
        s.ewma = np.where(instock, (1 - 1 / 21) * s.ewma + np.maximum(sold, dem * (sold < dem)) / 21, s.ewma)
        low = (s.stock < 7 * s.ewma) | oos
        enter = (s.hijack == 0) & (rng.random(n) < m.sp["hijack_p"].to_numpy() * (1 + 3 * low))
        leave = (s.hijack > 0) & (rng.random(n) < gen.HIJACK_EXIT_PER_DAY)
        s.hijack = np.where(enter, 1 + rng.poisson(0.7, n), np.where(leave, 0, s.hijack))

        spend = s.budget * m.util[:, d] * np.where(sp_campaign & oos[ci], SP_OOS_SPEND, 1.0)
        exp_orders = m.ad_units(spend[:, None], np.array([d]))[:, 0] * (s.price[ci] / m.sp["price"].to_numpy()[ci]) \
            ** m.sp["elasticity"].to_numpy()[ci] * pen[ci]
        orders = np.where(instock[ci], rng.poisson(exp_orders), 0)
        tot = np.bincount(ci, orders, minlength=n)
        scale = np.where(tot > sold, sold / np.maximum(tot, 1), 1.0)
        orders = np.floor(orders * scale[ci]).astype(np.int64)
        rev = sold * s.price
        L["demand"][:, d], L["sold"][:, d], L["lost"][:, d] = dem, sold, dem - sold
        L["revenue"][:, d], L["cogs"][:, d], L["fees"][:, d] = rev, sold * cost, rev * fee
        L["ad_spend"][:, d] = np.bincount(ci, spend, minlength=n)
        L["ad_sales"][:, d] = np.bincount(ci, orders * s.price[ci], minlength=n)
        L["stock"][:, d], L["in_stock"][:, d] = s.stock, instock
        rows_sales.append(_sales_rows(m, s, m.days[d], sold, instock, lam[:, k], rng))
        clicks = np.floor(spend / (m.camp["bid"].to_numpy() * rng.uniform(0.7, 1.0, len(ci)))).astype(np.int64)
        rows_ads.append(pd.DataFrame({
            "date": m.days[d], "sku": m.camp["sku"].to_numpy(), "channel": "amazon_us",
            "campaign": m.camp["campaign"].to_numpy(), "ad_type": m.camp["ad_type"].to_numpy(),
            "impressions": clicks * 250, "clicks": clicks, "spend": np.round(spend, 2), "ad_orders": orders,
            "ad_sales": np.round(orders * s.price[ci], 2), "daily_budget": np.round(s.budget, 2),
            "targeting": m.camp["targeting"].to_numpy(), "bid": m.camp["bid"].to_numpy()}))
    s.records.sales.append(pd.concat(rows_sales, ignore_index=True))
    s.ads_rows.append(pd.concat(rows_ads, ignore_index=True))
    s.records.snapshot(m.days[t[-1]], s.stock)


def _sales_rows(m: Market, s: ArmState, day, sold, instock, lam, rng) -> pd.DataFrame:
    """The day's sales rows per SKU × channel (units split by the SKU's secondary-channel share).

    Sessions ~ Poisson(expected demand at list price / conversion), halved out of stock, as the
    generator: traffic does not depend on price, so a price raise shows as lower conversion.
    """
    has2 = m.second_share > 0
    u2 = np.where(has2, rng.binomial(sold.astype(np.int64), m.second_share), 0)
    u1 = sold - u2
    at_list = lam / (s.price / m.sp["price"].to_numpy()) ** m.sp["elasticity"].to_numpy()
    sess = rng.poisson(at_list / m.sp["conversion"].to_numpy() * np.where(instock, 1.0, 0.5))
    s2 = np.where(has2, rng.binomial(sess, m.second_share), 0)
    frames = [pd.DataFrame({"date": day, "sku": m.skus, "channel": "amazon_us", "units": u1.astype(np.int64),
                            "revenue": np.round(u1 * s.price, 2), "in_stock": instock, "price": s.price,
                            "sessions": np.maximum(sess - s2, u1).astype(np.int64)})]
    if has2.any():
        frames.append(pd.DataFrame({"date": day, "sku": np.asarray(m.skus, dtype=object)[has2],
                                    "channel": m.second_channel[has2], "units": u2[has2].astype(np.int64),
                                    "revenue": np.round(u2[has2] * s.price[has2], 2), "in_stock": instock[has2],
                                    "price": s.price[has2], "sessions": np.maximum(s2, u2)[has2].astype(np.int64)}))
    return pd.concat(frames, ignore_index=True)


def landed_freight(m: Market, s: ArmState) -> float:
    """Freight of the units the arm sold, first in, first out (:func:`workbench.backtest.metrics.fifo_freight`):
    a cost when the goods sell, as the cost of goods is."""
    from workbench.backtest.metrics import fifo_freight

    if not s.orders:
        return 0.0
    o = pd.DataFrame(s.orders)
    day = 7 * (o["week"].to_numpy(int) - 1) + o["lead_time_days"].to_numpy(int)
    return float(fifo_freight(s.ledger["sold"], m.state.stock, m.state.arrivals,
                              pd.Index(m.skus).get_indexer(o["sku"].astype(str)), day, o["qty"].to_numpy(float),
                              o["freight_cost"].to_numpy(float)).sum())


def summary(m: Market, s: ArmState) -> dict:
    """The arm's totals over the replay: profit and its parts, fill rate, stockout days, ACoS."""
    L = s.ledger
    D = len(m.days)
    inv_value = (L["stock"] * m.sp["unit_cost"].to_numpy()[:, None]).sum(axis=0).mean()
    carrying = m.carrying_rate * inv_value * D / 365
    tot = {k: float(L[k].sum()) for k in ("revenue", "cogs", "fees", "ad_spend", "ad_sales", "demand", "sold", "lost")}
    freight = landed_freight(m, s)
    profit = tot["revenue"] - tot["cogs"] - tot["fees"] - tot["ad_spend"] - freight - carrying
    # revenue at the prices charged / revenue of the same units at the start prices
    price_index = tot["revenue"] / max(float((L["sold"] * m.start_price[:, None]).sum()), 1e-9)
    return dict(arm=s.name, profit=profit, revenue=tot["revenue"], cogs=tot["cogs"], fees=tot["fees"],
                ad_spend=tot["ad_spend"], freight=freight, freight_paid=float(s.freight.sum()), carrying=carrying,
                fill_rate=tot["sold"] / max(tot["demand"], 1e-9), stockout_days=int((L["lost"] > 0).sum()),
                out_of_stock_days=int((L["in_stock"] == 0).sum()), units=tot["sold"], lost_units=tot["lost"],
                acos=tot["ad_spend"] / max(tot["ad_sales"], 1e-9), ad_sales=tot["ad_sales"],
                avg_inventory_value=float(inv_value), price_index=price_index, orders=len(s.orders))
