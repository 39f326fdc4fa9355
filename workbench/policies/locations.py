"""Per-location restock plan: demand shares, transfers between warehouses, and the split of a new order.

Playbook (domain-rules.md §1, multi-warehouse): the region with the most sales gets the main
warehouse, the others satellite stock; rebalance by transfers before a region runs out.
:class:`workbench.policies.restock.RestockPolicy` plans one row per SKU (locations summed);
:func:`location_plan` takes its rows and plans each SKU × location of SKUs stocked in more than one
location. SKUs with a single location get **no rows** here: their restock row already is the plan.

Steps, per SKU with locations i (all quantities in units, covers in days):

1. **Demand share.** Sales carry no location, so a location's outflow is read off its inventory
   snapshots over the last ``demand_window_days``: for consecutive snapshots t−1, t,
   ``out_t = max(on_hand_{t−1} − on_hand_t + received_t, 0)`` with ``received_t`` the units of
   shipments to that location received in (t−1, t]. ``share_i = Σ_t out_{i,t} / Σ_j Σ_t out_{j,t}``.
   Without usable history (fewer than two snapshots, or no outflow anywhere) the share is the
   on_hand share (equal shares when the SKU holds nothing). ``ads_location_i = ads · share_i``.
2. **Cover.** ``days_of_cover_i = (available_i + inbound_i) / ads_location_i`` (999 when nothing is
   expected to sell, as in the restock policy); inbound = open shipments to that location.
3. **Transfers** (multi-warehouse rebalance rule). A location with cover < ``min_cover_days`` while a
   location of the same SKU holds more than ``surplus_cover_days`` receives
   ``need_i = target_cover_days · ads_location_i − (available_i + inbound_i)``, rounded up to whole
   case packs; a surplus source gives at most
   ``min(available_j − min_cover_days · ads_j, available_j + inbound_j − target_cover_days · ads_j)``
   (ads_j = ``ads_location_j``), rounded down to whole case packs: it ships from its shelf, so the
   shelf alone (in-transit stock is not there yet) keeps ``min_cover_days`` and shelf + inbound keep
   ``target_cover_days``. When no source can spare a whole case, loose units move instead. Lowest-cover receivers are served first,
   from the highest-cover sources first (greedy, in cumulative order).
4. **Split of the new order** (water-filling). After transfers, projected stock is
   ``P_i = available_i + inbound_i + transfer_in_i − transfer_out_i``; the SKU's
   ``recommended_qty`` Q goes to the locations with the lowest projected cover so that they end at a
   common cover c: ``alloc_i = max(c · ads_location_i − P_i, 0)``, ``Σ alloc_i = Q``. It is then
   rounded to whole case packs (largest remainder; units when Q is not a whole number of cases), so
   the allocation always sums to Q. When no location of the SKU has demand, the main location gets Q.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.policies.base import Policy, check_in_range, check_whole_number
from workbench.stock import MAX_COVER_DAYS, location_stock
from workbench.stock import plain_keys as _plain_keys

LOCATION_COLUMNS = [
    "sku", "location", "role", "on_hand", "reserved", "available", "inbound", "demand_share", "share_source",
    "ads_location", "days_of_cover", "transfer_in", "transfer_out", "allocated_qty", "projected_cover_days",
    "action", "reason",
]
LOCATION_NUMERIC = [
    "on_hand", "reserved", "available", "inbound", "demand_share", "ads_location", "days_of_cover",
    "transfer_in", "transfer_out", "allocated_qty", "projected_cover_days",
]
RULE = "multi-warehouse rebalance rule"


class LocationPolicy(Policy):
    """Thresholds of the per-location plan (playbook defaults; see the module docstring for the steps).

    ``min_cover_days`` 14: below it a location gets a transfer if another holds surplus (the
    playbook's default safety stock, 14 days of sales). ``target_cover_days`` 30: a transfer fills
    the receiver up to it and never takes a source below it (the playbook's stock standard for key
    items). ``surplus_cover_days`` 45: only locations above it give stock. ``demand_window_days`` 28:
    the inventory history that sets demand shares. ``exclude_locations``: stock that is not the
    seller's to move (supplier-held dropship stock, domain-rules.md §7) is left out of the plan.
    """

    def __init__(
        self,
        min_cover_days: float = 14.0,
        target_cover_days: float = 30.0,
        surplus_cover_days: float = 45.0,
        demand_window_days: int = 28,
        exclude_locations: tuple = ("SUPPLIER-DROPSHIP",),
    ):
        self.min_cover_days = min_cover_days
        self.target_cover_days = target_cover_days
        self.surplus_cover_days = surplus_cover_days
        self.demand_window_days = demand_window_days
        self.exclude_locations = exclude_locations

    def _validate(self) -> None:
        for name in ("min_cover_days", "target_cover_days", "surplus_cover_days"):
            check_in_range(name, getattr(self, name), 0, np.inf, closed="left")
        if not (self.min_cover_days <= self.target_cover_days <= self.surplus_cover_days):
            raise ParameterError("cover thresholds must satisfy min_cover_days <= target_cover_days <= surplus_cover_days, "
                             f"got {self.min_cover_days}, {self.target_cover_days}, {self.surplus_cover_days}")
        check_whole_number("demand_window_days", self.demand_window_days, unit="days")
        if isinstance(self.exclude_locations, str):
            raise ParameterError("`exclude_locations` must be a list or tuple of location names, "
                                 f"got the string {self.exclude_locations!r}")

    def recommend(self, snapshot, restock: pd.DataFrame) -> pd.DataFrame:
        """The per-location plan for the SKUs of ``restock`` (this run's restock output).

        Supplier-held locations of the snapshot are left out as well as ``exclude_locations``.
        """
        held = tuple(snapshot.locations.loc[snapshot.locations["supplier_held"], "location"].astype(str).unique())
        from sklearn.base import clone

        policy = clone(self).set_params(exclude_locations=tuple(dict.fromkeys([*(self.exclude_locations or ()), *held])))
        return location_plan(restock, snapshot["inventory"], snapshot["shipments"], snapshot.as_of, policy=policy,
                             products=snapshot.products, stock=snapshot.locations, open_shipments=snapshot.inbound)


def _pct(x: float) -> str:
    """A share as a percent, with a decimal for small shares (0.3%, not 0%)."""
    return f"{x:.1%}" if 0 < x < 0.095 else f"{x:.0%}"


def _round_to_total(x: np.ndarray, groups: np.ndarray, total: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Round ``x`` (rows sorted by ``groups``) to multiples of ``unit`` with each group summing to
    ``total`` (a multiple of ``unit``): floor, then one more unit to the largest remainders."""
    k = x / unit
    base = np.floor(k + 1e-9)
    frac = k - base
    df = pd.DataFrame({"g": groups, "frac": -frac, "base": base})
    left = (total / unit - df.groupby("g", sort=False)["base"].transform("sum").to_numpy()).round()
    rank = df.sort_values(["g", "frac"], kind="stable").groupby("g", sort=False).cumcount().reindex(df.index).to_numpy()
    return ((base + (rank < left)) * unit).astype("int64")


def _demand_outflow(inv: pd.DataFrame, ships: pd.DataFrame, as_of, window_days: int) -> pd.DataFrame:
    """Outflow per SKU × location from consecutive snapshots in the window, receipts added back."""
    start = as_of - pd.Timedelta(days=window_days)
    snap = (inv[(inv["as_of"] >= start) & (inv["as_of"] <= as_of)][["sku", "location", "as_of", "on_hand"]]
            .drop_duplicates(["sku", "location", "as_of"], keep="last").sort_values("as_of", kind="stable"))
    rec = ships[ships["received_date"].notna() & (ships["received_date"] > start) & (ships["received_date"] <= as_of)]
    rec = rec[["sku", "location", "received_date", "qty"]].sort_values("received_date", kind="stable")
    # merge_asof needs one datetime resolution on both sides (loaders may give s, ms or ns).
    snap["as_of"] = snap["as_of"].astype("datetime64[ns]")
    rec = rec.assign(received_date=rec["received_date"].astype("datetime64[ns]"))
    # Each receipt belongs to the first snapshot on or after its day (snapshots are end of day).
    if len(rec) and len(snap):
        m = pd.merge_asof(rec, snap[["sku", "location", "as_of"]], left_on="received_date", right_on="as_of",
                          by=["sku", "location"], direction="forward")
        got = m.dropna(subset=["as_of"]).groupby(["sku", "location", "as_of"])["qty"].sum().rename("received")
        snap = snap.merge(got.reset_index(), on=["sku", "location", "as_of"], how="left")
    else:
        snap = snap.assign(received=0.0)
    snap = snap.sort_values(["sku", "location", "as_of"], kind="stable")
    prev = snap.groupby(["sku", "location"], sort=False)["on_hand"].shift()
    out = (prev - snap["on_hand"] + snap["received"].fillna(0)).clip(lower=0)
    snap = snap.assign(out=out, pair=prev.notna())
    return snap.groupby(["sku", "location"]).agg(outflow=("out", "sum"), n_pairs=("pair", "sum")).reset_index()


def location_plan(
    restock: pd.DataFrame,
    inventory: pd.DataFrame,
    shipments: pd.DataFrame,
    as_of,
    policy: LocationPolicy | None = None,
    products: pd.DataFrame | None = None,
    *,
    stock: pd.DataFrame | None = None,
    open_shipments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per SKU × location for SKUs stocked in more than one location (columns :data:`LOCATION_COLUMNS`).

    ``restock`` is :meth:`RestockPolicy.recommend`'s output (``sku, ads, recommended_qty`` are used);
    ``products`` (optional) supplies ``case_pack`` for transfers and the order split (else units).
    ``stock`` / ``open_shipments``: the snapshot's per-location stock and open shipments
    (:class:`workbench.stock.StockSnapshot` ``locations`` / ``inbound``); without them they are read
    from ``inventory`` / ``shipments``. The inventory history and receipts set the demand shares.
    """
    policy = policy or LocationPolicy()
    policy._validate()
    p = policy
    as_of = pd.Timestamp(as_of).normalize()
    inventory, shipments = _plain_keys(inventory), _plain_keys(shipments)
    excl = set(p.exclude_locations or ())
    rs = restock.assign(sku=restock["sku"].astype(str)).drop_duplicates("sku").set_index("sku")
    if stock is None:
        stock = location_stock(inventory, as_of)
    if open_shipments is None:
        open_shipments = shipments[(shipments["order_date"] <= as_of)
                                   & (shipments["received_date"].isna() | (shipments["received_date"] > as_of))]
    df = location_rows(stock, open_shipments, rs.index, excl)
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c in LOCATION_NUMERIC else object) for c in LOCATION_COLUMNS})
    inv = inventory[(inventory["as_of"] <= as_of) & ~inventory["location"].isin(excl)]
    multi = set(df["sku"])
    flow = _demand_outflow(inv[inv["sku"].isin(multi)], shipments[shipments["sku"].isin(multi)], as_of,
                           int(p.demand_window_days))
    sku = df["sku"].to_numpy()
    ads = rs["ads"].reindex(sku).fillna(0).to_numpy(float)
    Q = rs["recommended_qty"].reindex(sku).fillna(0).to_numpy(float)
    df = demand_shares(df, flow, ads)
    main = main_location(df)
    df["role"] = np.where(main, "main", "satellite")
    case = np.ones(len(df))
    if products is not None and "case_pack" in products.columns:
        cp = products.assign(sku=products["sku"].astype(str)).drop_duplicates("sku").set_index("sku")["case_pack"]
        case = np.maximum(cp.reindex(sku).fillna(1).to_numpy(float), 1.0)
    tr = transfers(df, case, p)
    df["transfer_in"] = tr["t_in"].astype("int64")
    df["transfer_out"] = tr["t_out"].astype("int64")
    df["allocated_qty"], df["projected_cover_days"] = split_order(df, Q, case, main, tr["t_in"] - tr["t_out"])
    df["action"], df["reason"] = plan_reasons(df, tr, Q, ads, case, p)
    return df[LOCATION_COLUMNS]


def location_rows(stock: pd.DataFrame, open_shipments: pd.DataFrame, skus: pd.Index, exclude: set) -> pd.DataFrame:
    """Latest stock and open inbound per SKU × location, for SKUs of ``skus`` held in more than one
    location (``exclude``d locations left out): sku, location, on_hand, reserved, available, inbound."""
    latest = stock[~stock["location"].astype(str).isin(exclude) & stock["sku"].astype(str).isin(skus)]
    latest = latest.assign(sku=latest["sku"].astype(str), location=latest["location"].astype(str))
    n_loc = latest.groupby("sku")["location"].transform("nunique")
    df = latest[n_loc > 1][["sku", "location", "on_hand", "reserved"]].sort_values(["sku", "location"])
    df = df.reset_index(drop=True)
    df["on_hand"] = df["on_hand"].astype("int64")
    df["reserved"] = df["reserved"].astype("int64")
    df["available"] = np.maximum(df["on_hand"] - df["reserved"], 0).astype("int64")
    ob = open_shipments.assign(sku=open_shipments["sku"].astype(str), location=open_shipments["location"].astype(str))
    inbound = ob[ob["sku"].isin(set(df["sku"]))].groupby(["sku", "location"])["qty"].sum().rename("inbound")
    df = df.merge(inbound.reset_index(), on=["sku", "location"], how="left")
    df["inbound"] = df["inbound"].fillna(0).astype("int64")
    return df


def demand_shares(df: pd.DataFrame, flow: pd.DataFrame, ads: np.ndarray) -> pd.DataFrame:
    """Steps 1-2: each location's share of the SKU's demand (outflow history, else on-hand share), its
    daily demand ``ads_location`` and ``days_of_cover``."""
    df = df.merge(flow, on=["sku", "location"], how="left")
    df[["outflow", "n_pairs"]] = df[["outflow", "n_pairs"]].fillna(0)
    g = df.groupby("sku", sort=False)
    tot_out = g["outflow"].transform("sum").to_numpy(float)
    any_pairs = g["n_pairs"].transform("max").to_numpy() > 0
    use_hist = any_pairs & (tot_out > 0)
    tot_oh = g["on_hand"].transform("sum").to_numpy(float)
    n_here = g["location"].transform("size").to_numpy(float)
    oh_share = np.where(tot_oh > 0, df["on_hand"].to_numpy(float) / np.where(tot_oh > 0, tot_oh, 1), 1.0 / n_here)
    share = np.where(use_hist, df["outflow"].to_numpy(float) / np.where(use_hist, tot_out, 1), oh_share)
    df["demand_share"] = np.round(share, 4)
    df["share_source"] = np.where(use_hist, "inventory_history", "on_hand_fallback")
    df["ads_location"] = np.round(ads * share, 3)
    df["days_of_cover"] = _cover(df["available"] + df["inbound"], df["ads_location"])
    return df


def _cover(stock, ads, digits: int | None = 2) -> np.ndarray:
    """Days of cover per location (:data:`MAX_COVER_DAYS` without demand), rounded to ``digits``."""
    a, s = np.asarray(ads, dtype=float), np.asarray(stock, dtype=float)
    pos = a > 0
    c = np.minimum(np.where(pos, s / np.where(pos, a, 1), MAX_COVER_DAYS), MAX_COVER_DAYS)
    return c if digits is None else np.round(c, digits)


def main_location(df: pd.DataFrame) -> np.ndarray:
    """True for each SKU's main location: the largest demand share (ties: more on hand, then name)."""
    order = df.sort_values(["sku", "demand_share", "on_hand", "location"], ascending=[True, False, False, True]).index
    main = np.zeros(len(df), dtype=bool)
    main[order[df.loc[order].groupby("sku", sort=False).cumcount().to_numpy() == 0]] = True
    return main


def transfers(df: pd.DataFrame, case: np.ndarray, p: LocationPolicy) -> dict:
    """Step 3: units moved in / out per row (``t_in``, ``t_out``), their texts, who needed stock
    (``recv``), whether the SKU had a source (``has_src``) and the unit moved (case or loose ``unit``)."""
    sku = df["sku"].to_numpy()
    a = df["ads_location"].to_numpy(float)
    stock = (df["available"] + df["inbound"]).to_numpy(float)
    cover = _cover(stock, a, digits=None)
    recv = (cover < p.min_cover_days) & (a > 0)
    src = cover > p.surplus_cover_days
    tgt = p.target_cover_days * a
    need_units = np.where(recv, np.maximum(np.ceil(tgt - stock - 1e-9), 0), 0.0)
    # A source ships from its shelf, so the shelf alone must keep min cover (inbound is not there yet),
    # and shelf + inbound must keep the target cover.
    avail = df["available"].to_numpy(float)
    spare = np.minimum(avail - p.min_cover_days * a, stock - tgt)
    give_units = np.where(src, np.maximum(np.floor(spare + 1e-9), 0), 0.0)
    give_cases = np.floor(give_units / case) * case
    # Whole cases where a source can spare one; loose units for SKUs where none can.
    can_case = pd.Series(give_cases > 0).groupby(sku).transform("any").to_numpy()
    unit = np.where(can_case, case, 1.0)
    need = np.where(recv, np.ceil(need_units / unit) * unit, 0.0)
    give = np.where(src, np.floor(give_units / unit) * unit, 0.0)
    has_src = pd.Series(give > 0).groupby(sku).transform("any").to_numpy()
    has_recv = pd.Series(need > 0).groupby(sku).transform("any").to_numpy()
    out = {"t_in": np.zeros(len(df)), "t_out": np.zeros(len(df)), "recv": recv, "has_src": has_src, "unit": unit,
           "cover": cover}
    empty = np.full(len(df), "", dtype=object)
    out.update(txt_in=empty, txt_out=empty, src_txt=empty)
    live = has_src & has_recv
    if not live.any():
        return out
    base = pd.DataFrame({"sku": sku, "loc": df["location"].to_numpy(), "cover": cover, "row": np.arange(len(df))})[live]
    r = base.assign(q=need[live])[need[live] > 0].sort_values(["sku", "cover", "loc"], kind="stable")
    s = base.assign(q=give[live])[give[live] > 0].sort_values(
        ["sku", "cover", "loc"], ascending=[True, False, True], kind="stable")
    for f in (r, s):  # cumulative intervals [lo, hi) per SKU: flows are their overlaps
        f["hi"] = f.groupby("sku", sort=False)["q"].cumsum()
        f["lo"] = f["hi"] - f["q"]
    m = r.merge(s, on="sku", suffixes=("_r", "_s"))
    m["flow"] = np.minimum(m["hi_r"], m["hi_s"]) - np.maximum(m["lo_r"], m["lo_s"])
    m = m[m["flow"] > 0]
    np.add.at(out["t_in"], m["row_r"].to_numpy(), m["flow"].to_numpy())
    np.add.at(out["t_out"], m["row_s"].to_numpy(), m["flow"].to_numpy())
    fl = m["flow"].astype("int64").astype(str)
    m["in_txt"] = fl + " from " + m["loc_s"]
    m["out_txt"] = fl + " to " + m["loc_r"]
    m["src_txt"] = m["loc_s"] + " holds " + m["cover_s"].map("{:.0f} d".format)

    def per_row(key, col):
        return m.groupby(key)[col].agg(" and ".join).reindex(np.arange(len(df))).fillna("").to_numpy()

    out.update(txt_in=per_row("row_r", "in_txt"), txt_out=per_row("row_s", "out_txt"), src_txt=per_row("row_r", "src_txt"))
    return out


def split_order(df: pd.DataFrame, Q: np.ndarray, case: np.ndarray, main: np.ndarray, moved: np.ndarray):
    """Step 4: the new order Q of each SKU split by water-filling on projected cover, rounded to whole
    case packs (units when Q is not a whole number of cases). Returns (allocated_qty, projected_cover_days)."""
    sku = df["sku"].to_numpy()
    a = df["ads_location"].to_numpy(float)
    pos = a > 0
    P = (df["available"] + df["inbound"]).to_numpy(float) + moved
    w = pd.DataFrame({"sku": sku, "a": a, "P": P, "c": np.where(pos, P / np.where(pos, a, 1), np.inf)})
    w = w.sort_values(["sku", "c"], kind="stable")
    gw = w.groupby("sku", sort=False)
    A = gw["a"].cumsum().to_numpy()
    PP = gw["P"].cumsum().to_numpy()
    c_sorted = w["c"].to_numpy()
    Qs = Q[w.index.to_numpy()]
    fin = np.isfinite(c_sorted)
    # Water needed to lift the first k locations to the k-th lowest cover.
    need_k = np.where(fin, np.where(fin, c_sorted, 0.0) * A - PP, np.inf)
    ok = need_k <= Qs + 1e-9
    k_pos = np.where(ok, gw.cumcount().to_numpy(), -1)
    m_idx = pd.Series(k_pos, index=w.index).groupby(w["sku"].to_numpy(), sort=False).transform("max").to_numpy()
    rank = gw.cumcount().to_numpy()
    # Level c from the first m+1 locations: c = (Q + Σ P) / Σ ads.
    sel = rank == m_idx
    lvl = pd.Series(np.where(sel, (Qs + PP) / np.where(A > 0, A, 1), np.nan), index=w.index)
    level = lvl.groupby(w["sku"].to_numpy(), sort=False).transform("max").to_numpy()
    lifted = np.maximum(level * w["a"].to_numpy() - w["P"].to_numpy(), 0)
    alloc_sorted = np.where((rank <= m_idx) & fin, lifted, 0.0)
    alloc = np.zeros(len(df))
    alloc[w.index.to_numpy()] = alloc_sorted
    no_demand = ~pd.Series(pos).groupby(sku).transform("any").to_numpy()
    alloc = np.where(no_demand, np.where(main, Q, 0.0), alloc)
    # Scale away float error so each SKU sums to Q before rounding.
    tot = pd.Series(alloc).groupby(sku).transform("sum").to_numpy()
    alloc = np.where(tot > 0, alloc * Q / np.where(tot > 0, tot, 1), 0.0)
    q_unit = np.where(np.isclose(np.mod(Q, case), 0), case, 1.0)
    allocated = _round_to_total(alloc, sku, Q, q_unit)
    return allocated, _cover(P + allocated, a)


def plan_reasons(df: pd.DataFrame, tr: dict, Q: np.ndarray, ads: np.ndarray, case: np.ndarray, p: LocationPolicy):
    """The action and the one-sentence reason of each row, built from the plan's columns."""
    hist_txt = f"from on_hand drops over the last {int(p.demand_window_days)} d with receipts added back"
    fb_txt = (f"on_hand share: no usable inventory history in the last {int(p.demand_window_days)} d "
              "(fallback)")
    actions, reasons = [], []
    cols = zip(df["location"], df["role"], df["demand_share"], df["share_source"], df["ads_location"],
               tr["cover"], df["available"], df["inbound"], tr["t_in"], tr["t_out"], tr["txt_in"],
               tr["txt_out"], tr["src_txt"], tr["recv"], tr["has_src"], df["allocated_qty"], Q,
               df["projected_cover_days"], ads, case, tr["unit"])
    for (loc, role, sh, ssrc, al, cv, av, ib, ti, to, tin, tout, stxt, rc, hs, aq, q, pc, ad, cs, un) in cols:
        act = []
        parts = [f"{loc} ({role}{', largest share' if role == 'main' else ''}): "
                 f"{_pct(sh)} of demand ({hist_txt if ssrc == 'inventory_history' else fb_txt}) "
                 f"→ {al:.2f}/d of {ad:.2f}/d, cover {cv:.1f} d ({av} available + {ib} inbound)"]
        loose = ", loose units: no source can spare a whole case of {:.0f}".format(cs) if (un == 1 and cs > 1) else ""
        if ti > 0:
            parts.append(f"cover {cv:.1f} d < {p.min_cover_days:g} d while {stxt}: transfer {ti:.0f} in "
                         f"({RULE}{loose})")
            act.append(f"transfer in {tin}")
        elif rc:
            why = (f"no other location can spare stock (cover > {p.surplus_cover_days:g} d with "
                   f"≥ {p.min_cover_days:g} d left on the shelf)" if not hs
                   else "the spare stock went to locations with lower cover")
            parts.append(f"cover {cv:.1f} d < {p.min_cover_days:g} d but {why}: no transfer ({RULE})")
            act.append("short: nothing to transfer")
        if to > 0:
            parts.append(f"cover {cv:.1f} d > {p.surplus_cover_days:g} d: transfer out {tout}, keeping ≥ "
                         f"{p.min_cover_days:g} d on the shelf and ≥ {p.target_cover_days:g} d with inbound "
                         f"({RULE}{loose})")
            act.append(f"transfer out {tout}")
        if q > 0:
            parts.append(f"receives {aq} of the {q:.0f} ordered (share {_pct(aq / q)}"
                         f"{f', cases of {cs:.0f}' if cs > 1 and aq > 0 and aq % cs == 0 else ''}), "
                         f"projected cover {pc:.1f} d")
            if aq > 0:
                act.append(f"receive {aq} of the new order")
        else:
            parts.append("no new order for this SKU")
        actions.append("; ".join(act) or "ok")
        reasons.append("; ".join(parts))
    return actions, reasons
