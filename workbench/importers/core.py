"""What every converter shares: the import context, rejects, and picking one copy of overlapping downloads."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.importers.parse import Report

REJECT_COLUMNS = ["file", "line", "column", "reason"]
ORDER_COLUMNS = ["date", "sku", "channel", "units", "revenue", "pending", "title", "_file", "_line"]  # counted order lines

# Amazon marketplaces: the time zone whose calendar day the reports use, and the sales-channel name.
MARKETPLACES = {
    "amazon_us": ("America/Los_Angeles", "Amazon.com"),
    "amazon_ca": ("America/Los_Angeles", "Amazon.ca"),
    "amazon_mx": ("America/Los_Angeles", "Amazon.com.mx"),
    "amazon_br": ("America/Sao_Paulo", "Amazon.com.br"),
    "amazon_uk": ("Europe/London", "Amazon.co.uk"),
    "amazon_de": ("Europe/Berlin", "Amazon.de"),
    "amazon_fr": ("Europe/Paris", "Amazon.fr"),
    "amazon_it": ("Europe/Rome", "Amazon.it"),
    "amazon_es": ("Europe/Madrid", "Amazon.es"),
    "amazon_nl": ("Europe/Amsterdam", "Amazon.nl"),
    "amazon_se": ("Europe/Stockholm", "Amazon.se"),
    "amazon_pl": ("Europe/Warsaw", "Amazon.pl"),
    "amazon_jp": ("Asia/Tokyo", "Amazon.co.jp"),
    "amazon_au": ("Australia/Sydney", "Amazon.com.au"),
    "amazon_in": ("Asia/Kolkata", "Amazon.in"),
    "amazon_ae": ("Asia/Dubai", "Amazon.ae"),
    "amazon_sg": ("Asia/Singapore", "Amazon.sg"),
}
CHANNEL_OF_SALES_CHANNEL = {v[1].lower(): k for k, v in MARKETPLACES.items()}


@dataclass
class Context:
    """One import run: where the rows go (channel, FBA location, time zone) and the rejects so far."""

    channel: str  # amazon_us, ... or shopify
    tz: str | None  # None: days are taken as written (Shopify writes the store's own offset)
    location: str  # the FBA location name of this marketplace (FBA-US), or "" for Shopify
    as_of: pd.Timestamp | None = None  # day of the snapshot reports, which carry no date
    rejects: list[pd.DataFrame] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reject(self, rep: Report, mask, reason, column: str = "") -> None:
        """Send the rows of ``rep`` under ``mask`` to the rejects with ``reason`` (a string or per-row Series)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        reasons = reason[mask].to_numpy() if isinstance(reason, pd.Series) else reason
        self.rejects.append(pd.DataFrame({"file": rep.path.name, "line": rep.lines[mask], "column": column,
                                          "reason": reasons}))

    def reject_rows(self, rows: pd.DataFrame, reason: str, column: str = "") -> None:
        """Reject rows of an intermediate frame that carries ``_file`` and ``_line``."""
        if len(rows):
            self.rejects.append(pd.DataFrame({"file": rows["_file"].to_numpy(), "line": rows["_line"].to_numpy(),
                                              "column": column, "reason": reason}))

    def reject_file(self, name: str, reason: str) -> None:
        self.rejects.append(pd.DataFrame({"file": [name], "line": [1], "column": [""], "reason": [reason]}))

    def rejects_frame(self) -> pd.DataFrame:
        if not self.rejects:
            return pd.DataFrame(columns=REJECT_COLUMNS)
        out = pd.concat(self.rejects, ignore_index=True)[REJECT_COLUMNS]
        return out.sort_values(["file", "line"], kind="stable").reset_index(drop=True)


def base_frame(rep: Report, pos: dict[str, int] | None = None, fields: tuple[str, ...] = ()) -> pd.DataFrame:
    """An intermediate frame aligned with the report's rows, carrying file and line, and the raw (stripped)
    text of ``fields`` (``pos``: the format's column positions, from ``rep.fmt.resolve``)."""
    f = pd.DataFrame({"_file": rep.path.name, "_line": rep.lines}, index=rep.rows.index)
    for name in fields:
        f[name] = rep.field(name, pos)
    return f


def latest_copy(frame: pd.DataFrame, key: list[str], recency: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Overlapping downloads: for each ``key`` keep the rows of the one file holding its highest ``recency``.

    Returns (kept, superseded). Rows of the same file are all kept (an order has several lines); on equal
    recency the file whose name sorts last wins.
    """
    if frame.empty:
        return frame, frame.iloc[0:0]
    ordered = frame.sort_values([recency, "_file"], ascending=False, kind="stable")
    winner = ordered.drop_duplicates(key)[key + ["_file"]]
    hit = frame[key + ["_file"]].merge(winner, on=key + ["_file"], how="left", indicator=True)
    keep = (hit["_merge"] == "both").to_numpy()
    return frame.loc[keep], frame.loc[~keep]


def coverage(days: pd.Series, files: pd.Series) -> pd.DatetimeIndex:
    """The days a set of downloads covers: from each file's first to its last day, joined."""
    spans = pd.DataFrame({"d": days, "f": files}).dropna().groupby("f")["d"].agg(["min", "max"])
    if spans.empty:
        return pd.DatetimeIndex([])
    out = pd.DatetimeIndex([])
    for lo, hi in spans.itertuples(index=False):
        out = out.union(pd.date_range(lo, hi, freq="D"))
    return out


def need(ctx: Context, rep: Report, frame: pd.DataFrame, col: str, what: str, header: str,
         fld: str | None = None) -> pd.DataFrame:
    """Reject rows whose ``col`` is missing (NaN / NaT / ""), quoting the cell; return the other rows."""
    bad = (frame[col].isna() | frame[col].astype(str).eq("")).reindex(rep.rows.index, fill_value=False)
    if bad.any():
        cells = rep.field(fld or col, rep.fmt.resolve(rep.header))
        ctx.reject(rep, bad.to_numpy(), f"{header}: expected {what}, got \"" + cells.str.slice(0, 40) + "\"", header)
    return frame.loc[~bad.reindex(frame.index)]
