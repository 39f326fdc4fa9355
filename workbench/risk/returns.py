"""After-sales feedback and new-product tests (domain-rules.md §5, §6).

Returns: the top-3 return reasons per SKU over the last ``window_days`` days (by units), each with
a suggested action from keyword rules (size -> size chart, damage -> packaging, defect -> supplier
fix, not as described -> listing copy...). Return rate = returned units / sold units in the window.

New-product test verdict, per product launched within ``new_product_days`` before as_of:

    conversion    = units / sessions over the first ``test_days`` days from products.launch_date
                    (sales' optional ``sessions`` column)
    bad_rate      = units returned for a quality reason / units sold, same window  (PROXY: the dataset
                    contract has no reviews table, so quality returns stand in for bad reviews)
    pass          when conversion >= 2% and bad_rate <= 5%
    stop          when conversion < 1% or bad_rate > 10%
    keep testing  otherwise; "insufficient data" when sessions (or returns, for a pass) are missing or
                  fewer than ``min_days`` days have been observed.
    Minimum sample (rule ``test_min_sample``): a pass, or a stop on the bad-review rate, needs at least
    ``min_units`` units sold (the playbook's test batch is 100–200 units); a stop on conversion needs
    ``min_sessions`` sessions. Below that the verdict is "keep testing" with the sample named.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from workbench.policies.base import Policy, check_whole_number
from workbench.risk._common import ParameterError, num, pct, require_columns
from workbench.stock import plain_keys

RETURNS_COLUMNS = ["sku", "rank", "return_reason", "units", "share_of_returns", "returned_units", "sold_units",
                   "return_rate", "action", "reason"]
NEW_PRODUCT_COLUMNS = ["sku", "launch_date", "days_observed", "units", "sessions", "conversion", "quality_returns",
                       "bad_rate", "verdict", "reason"]

# (pattern on the lower-cased reason, action); first match wins.
DEFAULT_ACTIONS = (
    (r"size|fit|small|large|tight|loose", "update the size chart / fit notes"),
    (r"damag|broken in|crush|packag|leak|arriv", "improve packaging"),
    (r"defect|quality|broke|not work|faulty|stopped|poor|cheap|malfunction", "raise a quality fix with the supplier"),
    (r"not as desc|different|wrong|colou?r|mislead|picture|photo", "fix listing copy and images"),
    (r"missing|part|incomplete|accessor", "check kitting / packing list with the supplier"),
    (r"late|delay|arrived too", "review fulfilment speed"),
    (r"changed? (my )?mind|no longer|unwanted|better price|ordered by mistake|accident", "no product action (customer choice)"),
)
DEFAULT_QUALITY = r"defect|quality|broke|not work|faulty|stopped|poor|cheap|malfunction|damag"


def suggested_action(reason: str, actions=DEFAULT_ACTIONS) -> str:
    text = str(reason).lower().replace("_", " ")
    for pattern, action in actions:
        if re.search(pattern, text):
            return action
    return "read the return comments and classify"


class ReturnsPolicy(Policy):
    """Top return reasons per SKU with actions. Parameters: window_days (28), top_n (3), actions."""

    def __init__(self, window_days=28, top_n=3, actions=DEFAULT_ACTIONS):
        self.window_days = window_days
        self.top_n = top_n
        self.actions = actions

    def _validate(self) -> None:
        for name in ("window_days", "top_n"):
            check_whole_number(name, getattr(self, name))

    def recommend(self, snapshot) -> pd.DataFrame:
        """Top return reasons from the snapshot's returns and sales (one row saying so without returns)."""
        returns = snapshot.get("returns")
        if returns is None:
            self._validate_all()
            return pd.DataFrame([{c: np.nan for c in RETURNS_COLUMNS} | {
                "sku": "", "reason": "returns table absent from the dataset: no return reasons"}])
        return self._from_tables(returns, snapshot.get("sales"), snapshot.as_of)

    def _from_tables(self, returns: pd.DataFrame, sales: pd.DataFrame | None, as_of) -> pd.DataFrame:
        """The rule on raw tables (what :meth:`recommend` runs)."""
        self._validate_all()
        require_columns(returns, "returns", ["date", "sku", "units", "reason"])
        as_of = pd.Timestamp(as_of)
        start = as_of - pd.Timedelta(days=self.window_days - 1)
        r = returns[(returns["date"] >= start) & (returns["date"] <= as_of)]
        if r.empty:
            return pd.DataFrame(columns=RETURNS_COLUMNS)
        sold = pd.Series(dtype=float)
        if sales is not None:
            s = sales[(sales["date"] >= start) & (sales["date"] <= as_of)]
            sold = s.groupby("sku")["units"].sum().astype(float)
        by = r.groupby(["sku", "reason"])["units"].sum().reset_index()
        tot = by.groupby("sku")["units"].transform("sum")
        by["share_of_returns"] = (by["units"] / tot).round(3)
        by["returned_units"] = tot
        by = by.sort_values(["sku", "units", "reason"], ascending=[True, False, True], kind="mergesort")
        by["rank"] = by.groupby("sku").cumcount() + 1
        by = by[by["rank"] <= self.top_n].rename(columns={"reason": "return_reason"})
        by["sold_units"] = by["sku"].map(sold).fillna(0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            by["return_rate"] = np.where(by["sold_units"] > 0, by["returned_units"] / by["sold_units"], np.nan).round(4)
        by["action"] = [suggested_action(x, self.actions) for x in by["return_reason"]]
        by["reason"] = [
            f"return reason #{k} for {sku} over {self.window_days} d: '{rr}' {num(u)} of {num(t)} returned units "
            f"({pct(sh)})" + (f", return rate {pct(rt, 1)} of {num(so)} sold" if not np.isnan(rt) else "")
            + f" -> {a}"
            for sku, k, rr, u, t, sh, rt, so, a in zip(by["sku"], by["rank"], by["return_reason"], by["units"],
                                                       by["returned_units"], by["share_of_returns"], by["return_rate"],
                                                       by["sold_units"], by["action"])]
        return by[RETURNS_COLUMNS].reset_index(drop=True)


class NewProductTestPolicy(Policy):
    """New-product test verdicts (domain-rules.md §5); formulas in the module docstring.

    Parameters: pass_conversion 0.02, pass_bad_rate 0.05, stop_conversion 0.01, stop_bad_rate 0.10,
    test_days 28, new_product_days 120, min_days 7 (no verdict on fewer days of data),
    min_units 100 (the playbook's smallest test batch), min_sessions 500,
    quality_pattern (regex on return reasons counted as bad).
    """

    def __init__(self, pass_conversion=0.02, pass_bad_rate=0.05, stop_conversion=0.01, stop_bad_rate=0.10,
                 test_days=28, new_product_days=120, min_days=7, min_units=100, min_sessions=500,
                 quality_pattern=DEFAULT_QUALITY):
        self.min_units = min_units
        self.min_sessions = min_sessions
        self.pass_conversion = pass_conversion
        self.pass_bad_rate = pass_bad_rate
        self.stop_conversion = stop_conversion
        self.stop_bad_rate = stop_bad_rate
        self.test_days = test_days
        self.new_product_days = new_product_days
        self.min_days = min_days
        self.quality_pattern = quality_pattern

    def _validate(self) -> None:
        if not 0 <= self.stop_conversion <= self.pass_conversion <= 1:
            raise ParameterError(f"`stop_conversion` must be <= `pass_conversion` (both in [0, 1]), got "
                             f"{self.stop_conversion} and {self.pass_conversion}")
        if not 0 <= self.pass_bad_rate <= self.stop_bad_rate <= 1:
            raise ParameterError(f"`pass_bad_rate` must be <= `stop_bad_rate` (both in [0, 1]), got "
                             f"{self.pass_bad_rate} and {self.stop_bad_rate}")
        for name in ("min_units", "min_sessions"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ParameterError(f"`{name}` must be a number >= 0, got {v!r}")
        for name in ("test_days", "new_product_days", "min_days"):
            check_whole_number(name, getattr(self, name))

    def recommend(self, snapshot) -> pd.DataFrame:
        """Verdicts for the snapshot's products (one row saying so when products has no launch_date).

        Reads the snapshot's one-row-per-SKU ``products`` and its sales and returns with plain string keys
        (the restock policy's ``test_stop_no_reorder`` rule reads the same verdicts)."""
        products = snapshot.products
        if "launch_date" not in products.columns:
            self._validate_all()
            return pd.DataFrame([{c: np.nan for c in NEW_PRODUCT_COLUMNS} | {
                "sku": "", "verdict": "insufficient data",
                "reason": "products has no launch_date column: no new-product test verdicts"}])
        return self._from_tables(products, plain_keys(snapshot["sales"]), plain_keys(snapshot.get("returns")),
                                 snapshot.as_of)

    def _from_tables(self, products: pd.DataFrame, sales: pd.DataFrame, returns: pd.DataFrame | None, as_of
                     ) -> pd.DataFrame:
        """The rule on raw tables (what :meth:`recommend` runs)."""
        self._validate_all()
        as_of = pd.Timestamp(as_of)
        if "launch_date" not in products.columns:
            return pd.DataFrame(columns=NEW_PRODUCT_COLUMNS)
        new = products[products["launch_date"].notna() & (products["launch_date"] <= as_of)
                       & (products["launch_date"] > as_of - pd.Timedelta(days=self.new_product_days))]
        has_sessions = "sessions" in sales.columns
        # one pass over sales / returns: keep rows inside each new product's test window, then sum per SKU
        win = new[["sku", "launch_date"]].copy()
        win["end"] = (win["launch_date"] + pd.Timedelta(days=self.test_days - 1)).clip(upper=as_of)

        def in_window(frame: pd.DataFrame) -> pd.DataFrame:
            f = frame[frame["sku"].isin(win["sku"])].merge(win, on="sku")
            return f[(f["date"] >= f["launch_date"]) & (f["date"] <= f["end"])]

        s_win = in_window(sales)
        units_by = s_win.groupby("sku")["units"].sum().astype(float)
        sess_by = (pd.to_numeric(s_win["sessions"], errors="coerce").groupby(s_win["sku"]).sum().astype(float)
                   if has_sessions else pd.Series(dtype=float))
        qual_by = pd.Series(dtype=float)
        if returns is not None:
            r_win = in_window(returns)
            is_q = r_win["reason"].astype(str).str.lower().str.contains(self.quality_pattern, regex=True)
            qual_by = r_win.loc[is_q].groupby("sku")["units"].sum().astype(float)
        rows = []
        for p in win.itertuples():
            start, end = p.launch_date, p.end
            days = (end - start).days + 1
            units = float(units_by.get(p.sku, 0.0))
            sessions = float(sess_by.get(p.sku, 0.0)) if has_sessions else np.nan
            conv = units / sessions if has_sessions and sessions > 0 else np.nan
            qual, bad = np.nan, np.nan
            if returns is not None:
                qual = float(qual_by.get(p.sku, 0.0))
                bad = qual / units if units > 0 else np.nan
            window = f"first {days} d since launch {start:%Y-%m-%d}" + (
                f" (test window {self.test_days} d still open)" if days < self.test_days else "")
            conv_txt = (f"conversion {pct(conv, 1)} ({num(units)} units / {num(sessions)} sessions)"
                        if not np.isnan(conv) else
                        "no sessions column in sales" if not has_sessions else "no sessions recorded")
            bad_txt = (f"bad-review proxy {pct(bad, 1)} ({num(qual)} quality returns / {num(units)} units; "
                       f"returns stand in for reviews)" if not np.isnan(bad) else
                       "no returns table for the bad-review proxy" if returns is None else "no units sold")
            if days < self.min_days:
                verdict = "insufficient data"
                rule = f"only {days} d of data (< {self.min_days} d): too early to judge"
            elif not np.isnan(conv) and conv < self.stop_conversion and sessions >= self.min_sessions:
                verdict = "stop"
                rule = f"conversion < {pct(self.stop_conversion)} over {num(sessions)} sessions: find out why"
            elif not np.isnan(bad) and bad > self.stop_bad_rate and units >= self.min_units:
                verdict = "stop"
                rule = f"bad-review proxy > {pct(self.stop_bad_rate)} over {num(units)} units: find out why"
            elif np.isnan(conv) or np.isnan(bad):
                verdict = "insufficient data"
                rule = "cannot pass without both conversion and bad-review rate"
            elif units < self.min_units:
                verdict = "keep testing"
                rule = (f"test_min_sample: only {num(units)} units sold (< {num(self.min_units)}, the playbook's "
                        f"test batch is 100–200 units): no verdict yet")
            elif conv >= self.pass_conversion and bad <= self.pass_bad_rate:
                verdict = "pass"
                rule = f"conversion >= {pct(self.pass_conversion)} and bad-review proxy <= {pct(self.pass_bad_rate)}"
            else:
                verdict = "keep testing"
                rule = "between the pass and stop lines"
            rows.append({"sku": p.sku, "launch_date": start.date().isoformat(), "days_observed": days,
                         "units": units, "sessions": sessions, "conversion": round(conv, 4) if not np.isnan(conv) else np.nan,
                         "quality_returns": qual, "bad_rate": round(bad, 4) if not np.isnan(bad) else np.nan,
                         "verdict": verdict,
                         "reason": f"new-product test {verdict}: {conv_txt}, {bad_txt} over the {window}; {rule}"})
        return pd.DataFrame(rows, columns=NEW_PRODUCT_COLUMNS)
