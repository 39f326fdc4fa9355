"""Account health (domain-rules.md §4): weekly breaches and 4-week trends per channel.

Weeks are trailing 7-day windows ending on ``as_of`` (week 0 = as_of-6 .. as_of, week 1 the 7 days
before, ...), so a run on any weekday sees a full latest week. A week's value is the mean of the
channel's readings in it (daily or weekly rows both work). Targets (playbook defaults):
ODR < 0.5%, cancellation rate < 1%, late shipment rate < 2%, rating >= 4.7. Rates are fractions
(0.008 = 0.8%), rating is stars 0-5.

Trend compares the latest week with the mean of the earlier weeks in the window:
worsening / improving when it moved the bad / good way by more than ``rate_tolerance`` x the target
(rates) or ``rating_tolerance`` stars (rating), else stable.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from workbench.policies.base import Policy, check_whole_number
from workbench.risk._common import ParameterError, require_columns

METRICS = ("odr", "cancel_rate", "late_shipment_rate", "rating")
LABELS = {"odr": "ODR", "cancel_rate": "cancellation rate", "late_shipment_rate": "late shipment rate",
          "rating": "rating"}
HEALTH_COLUMNS = ["channel", "metric", "week_start", "week_end", "latest", "target", "breach", "weeks_in_breach",
                  "weeks_seen", "trend", "value_w3", "value_w2", "value_w1", "value_w0", "status", "reason"]


def _fmt(metric: str, v: float) -> str:
    if pd.isna(v):
        return "n/a"
    return f"{v:.2f}" if metric == "rating" else f"{v * 100:.2f}%"


class AccountHealthPolicy(Policy):
    """Weekly account-health check per channel x metric.

    Parameters: max_odr 0.005, max_cancel_rate 0.01, max_late_shipment_rate 0.02 (fractions, breach
    when >= the limit, i.e. the target is "below"), min_rating 4.7 (breach when below), trend_weeks 4,
    rate_tolerance 0.10 (share of the limit), rating_tolerance 0.02 (stars).
    """

    def __init__(self, max_odr=0.005, max_cancel_rate=0.01, max_late_shipment_rate=0.02, min_rating=4.7,
                 trend_weeks=4, rate_tolerance=0.10, rating_tolerance=0.02):
        self.max_odr = max_odr
        self.max_cancel_rate = max_cancel_rate
        self.max_late_shipment_rate = max_late_shipment_rate
        self.min_rating = min_rating
        self.trend_weeks = trend_weeks
        self.rate_tolerance = rate_tolerance
        self.rating_tolerance = rating_tolerance

    def _validate(self) -> None:
        self._limits()

    def _limits(self) -> dict[str, float]:
        lim = {"odr": self.max_odr, "cancel_rate": self.max_cancel_rate,
               "late_shipment_rate": self.max_late_shipment_rate}
        for k, v in lim.items():
            name = "max_" + k if k != "odr" else "max_odr"
            if not 0 < v <= 1:
                raise ParameterError(f"`{name}` must be a fraction in (0, 1], got {v}")
        if not 0 < self.min_rating <= 5:
            raise ParameterError(f"`min_rating` must be in (0, 5], got {self.min_rating}")
        check_whole_number("trend_weeks", self.trend_weeks, 2, 4)
        lim["rating"] = self.min_rating
        return lim

    @staticmethod
    def _is_breach(metric: str, value: float, limit: float) -> bool:
        if pd.isna(value):
            return False
        return value < limit if metric == "rating" else value >= limit

    def _weekly(self, account_health: pd.DataFrame, as_of) -> pd.DataFrame:
        """channel, week (0 = latest), week_start, week_end and the mean of each metric."""
        as_of = pd.Timestamp(as_of)
        ah = account_health[(account_health["date"] <= as_of)
                            & (account_health["date"] > as_of - pd.Timedelta(days=7 * self.trend_weeks))].copy()
        ah["week"] = ((as_of - ah["date"]).dt.days // 7).astype(int)
        w = ah.groupby(["channel", "week"])[list(METRICS)].mean().reset_index()
        w["week_end"] = as_of - pd.to_timedelta(7 * w["week"], unit="D")
        w["week_start"] = w["week_end"] - pd.Timedelta(days=6)
        return w

    def recommend(self, snapshot) -> pd.DataFrame:
        """The check on the snapshot's account_health table (one row saying so when it is absent)."""
        ah = snapshot.get("account_health")
        if ah is None:
            self._validate_all()
            return absent_health()
        return self._from_tables(ah, snapshot.as_of)

    def _from_tables(self, account_health: pd.DataFrame, as_of) -> pd.DataFrame:
        """The rule on the raw table (what :meth:`recommend` runs): one row per channel x metric with the
        latest weekly value, breach, weeks in breach, trend and reason."""
        self._validate_all()
        lim = self._limits()
        require_columns(account_health, "account_health", ["date", "channel", *METRICS])
        as_of = pd.Timestamp(as_of)
        channels = sorted(account_health["channel"].dropna().unique())
        weekly = self._weekly(account_health, as_of)
        rows = []
        for ch in channels:
            wc = weekly[weekly["channel"] == ch].set_index("week")
            for m in METRICS:
                vals = [wc[m].get(k, np.nan) for k in range(self.trend_weeks)]  # w0 (latest) first
                latest = vals[0]
                breaches = [self._is_breach(m, v, lim[m]) for v in vals]
                seen = int(np.sum(~np.isnan(vals)))
                earlier = [v for v in vals[1:] if not np.isnan(v)]
                trend = "n/a"
                if not np.isnan(latest) and earlier:
                    delta = latest - float(np.mean(earlier))
                    tol = self.rating_tolerance if m == "rating" else self.rate_tolerance * lim[m]
                    bad = -delta if m == "rating" else delta
                    trend = "worsening" if bad > tol else "improving" if bad < -tol else "stable"
                target = f">= {lim[m]:.2f}" if m == "rating" else f"< {lim[m] * 100:.1f}%"
                history = " -> ".join(_fmt(m, v) for v in reversed(vals))
                if np.isnan(latest):
                    status = "no data"
                    reason = (f"{ch} {LABELS[m]}: no reading in the week ending {as_of:%Y-%m-%d}; "
                              f"last {self.trend_weeks} weeks {history}")
                else:
                    status = "breach" if breaches[0] else "ok"
                    word = "BREACH" if breaches[0] else "ok"
                    reason = (f"{ch} {LABELS[m]} {_fmt(m, latest)} in the week ending {as_of:%Y-%m-%d}: {word} "
                              f"(target {target}); {sum(breaches)} of {seen} weeks in breach, trend {trend} "
                              f"({history})")
                rows.append({"channel": ch, "metric": m,
                             "week_start": (as_of - pd.Timedelta(days=6)).date().isoformat(),
                             "week_end": as_of.date().isoformat(), "latest": latest, "target": target,
                             "breach": bool(breaches[0]), "weeks_in_breach": int(sum(breaches)),
                             "weeks_seen": seen, "trend": trend,
                             **{f"value_w{k}": (vals[k] if k < len(vals) else np.nan) for k in range(4)},
                             "status": status, "reason": reason})
        if not rows:
            return absent_health("account_health table has no rows")
        return pd.DataFrame(rows, columns=HEALTH_COLUMNS)


def absent_health(why: str = "account_health table absent from the dataset") -> pd.DataFrame:
    """The one-row file written when there is nothing to check."""
    row = {c: np.nan for c in HEALTH_COLUMNS}
    row.update({"channel": "", "metric": "", "breach": False, "weeks_in_breach": 0, "weeks_seen": 0,
                "trend": "n/a", "status": "absent", "reason": f"{why}: no account-health check was possible"})
    return pd.DataFrame([row], columns=HEALTH_COLUMNS)
