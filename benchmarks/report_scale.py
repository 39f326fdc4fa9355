"""The report does not grow with the catalog: the two weekly notebooks on a report folder and on the
same folder tiled N times (every per-SKU table N times longer, SKU ids suffixed -T0..-T{N-1}).

Reference = the notebooks on the untiled folder, in the same process; the ratio says how much larger
and slower the report gets when the catalog is N times larger. Tables embed at most
``workbench.report.top.MAX_ROWS`` rows and figures the top SKUs, so the pages should stay near 1x
while the CSV / Parquet files (every row) grow N times.

Usage: python benchmarks/report_scale.py --folder REPORTS/<as-of> [--times 10]   (under `nice -n 10`)
The folder is a finished weekly run's report folder (its ``history/`` store beside it); it is copied,
never modified.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import write_result

from workbench.io import read_frame, write_frame
from workbench.report.notebooks import drop_figure_html, export_html, run_notebook
from workbench.report.pipeline import WEEKLY_NOTEBOOKS
from workbench.report.weekly import HISTORY_DIR, write_machine_table

MB = 1024 * 1024
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ID_COLUMNS = ("sku", "unique_id")


def tiled(df: pd.DataFrame, times: int) -> pd.DataFrame:
    """``df`` repeated ``times`` times, each copy's SKU ids suffixed -T<k>; a table without SKUs unchanged."""
    cols = [c for c in ID_COLUMNS if c in df.columns]
    if not cols:
        return df
    parts = []
    for k in range(times):
        d = df.copy()
        for c in cols:
            d[c] = d[c].where(d[c].isna(), d[c].astype(str) + f"-T{k}")
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def copy_folder(src: Path, dst: Path, times: int) -> None:
    """The data files of report folder ``src`` (and its history store) into ``dst``, tiled ``times`` times."""
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.suffix == ".parquet":
            write_machine_table(tiled(pd.read_parquet(f), times), dst / f.name)
        elif f.suffix == ".csv":
            write_frame(tiled(read_frame(f), times), dst / f.name)
    store = dst.parent / HISTORY_DIR
    store.mkdir()
    for f in (src.parent / HISTORY_DIR).glob("*.parquet"):
        tiled(pd.read_parquet(f), times).to_parquet(store / f.name, index=False)


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def notebooks(folder: Path, as_of: str) -> dict:
    """Run, export and slim each weekly notebook on ``folder`` as the weekly run does; time and sizes."""
    out = {"data_mb": round(sum(f.stat().st_size for f in folder.iterdir()) / MB, 1)}
    for name in WEEKLY_NOTEBOOKS:
        t, c = time.perf_counter(), _cpu()
        ex = run_notebook(NOTEBOOKS / name, folder / name, {"data_dir": "", "as_of": as_of, "results_dir": str(folder)})
        page = export_html(ex, folder / name.replace(".ipynb", ".html"))
        drop_figure_html(ex)
        out[name] = {"s": round(time.perf_counter() - t, 1), "cpu_s": round(_cpu() - c, 1),
                     "ipynb_mb": round(ex.stat().st_size / MB, 2), "html_mb": round(page.stat().st_size / MB, 2)}
    out["folder_mb"] = round(sum(f.stat().st_size for f in folder.iterdir()) / MB, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", type=Path, required=True, help="a weekly run's report folder, e.g. reports/2026-11-23")
    ap.add_argument("--times", type=int, default=10)
    args = ap.parse_args()
    src = args.folder.resolve()
    as_of = src.name
    skus = len(read_frame(src / "restock.csv"))
    rows = []
    load = [round(os.getloadavg()[0], 1)]
    with tempfile.TemporaryDirectory(prefix="report-scale-") as tmp:
        for times in (1, args.times):
            folder = Path(tmp) / f"x{times}" / as_of
            copy_folder(src, folder, times)
            rows.append({"times": times, "skus": skus * times, **notebooks(folder, as_of)})
            shutil.rmtree(folder.parent)
    load.append(round(os.getloadavg()[0], 1))
    ref, big = rows
    md = ["# Report size and notebook time against catalog size", "",
          f"The weekly notebooks on a report folder of {skus:,} SKUs ({src.name}) and on the same folder tiled "
          f"{args.times}x ({skus * args.times:,} SKUs; every per-SKU table {args.times}x longer). Reference = the "
          "untiled folder in the same process; shared 2-core machine under `nice -n 10`, load average "
          f"{load[0]} / {load[1]} (start / end). Wall s beside CPU s (this process and the notebook kernels).", "",
          "| SKUs | data files MB | notebook | run+export s | CPU s | .ipynb MB | .html MB |",
          "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        for name in WEEKLY_NOTEBOOKS:
            n = r[name]
            md.append(f"| {r['skus']:,} | {r['data_mb']} | {name} | {n['s']} | {n['cpu_s']} | {n['ipynb_mb']} | {n['html_mb']} |")
    pages = lambda r: sum(r[n]["ipynb_mb"] + r[n]["html_mb"] for n in WEEKLY_NOTEBOOKS)  # noqa: E731
    cpu = lambda r: sum(r[n]["cpu_s"] for n in WEEKLY_NOTEBOOKS)  # noqa: E731
    md += ["", f"At {args.times}x the SKUs: notebook pages {pages(big) / pages(ref):.2f}x the size "
           f"({pages(ref):.1f} -> {pages(big):.1f} MB), notebook CPU {cpu(big) / cpu(ref):.2f}x "
           f"({cpu(ref):.1f} -> {cpu(big):.1f} s); the data files (every row) {big['data_mb'] / ref['data_mb']:.1f}x."]
    write_result("report_scale", {"rows": rows, "source": str(src), "load_average_1min": load}, "\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
