"""Weekly run at seller scale: time per stage, peak memory, report folder and email sizes.

Runs `run_weekly` (load, forecasts, stock snapshot, restock, pricing, ads, risk, two papermill
notebooks, HTML, email to the outbox) on data/samples and on a generated dataset (default 10,000 SKUs
x 2 years), and records per stage the wall time, the CPU time and the peak resident memory of this
process (the notebook kernels are child processes: their peak is reported separately).

Targets (issue 12, item 8) at 10,000 SKUs: <= 10 min, peak RSS <= 4 GB, report folder <= 100 MB, email
<= 5 MB. The reference, measured in the same process after the run, is loading the same dataset (`load_dataset`):
the ratio says how many "loads" a full weekly run costs. The machine is shared: the load average at
start and end is recorded beside the numbers.

Usage: python benchmarks/weekly_speed.py [--skus 10000] [--data DIR]   (run it under `nice -n 10`)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import tempfile
import time
from pathlib import Path

from _common import CACHE, RESULTS, peak_rss_mb, write_result

from workbench.config import SAMPLE_DATA, mail_settings
from workbench.data import load_dataset
from workbench.data.generate import GeneratorConfig, write_sample_dataset
from workbench.report.pipeline import run_weekly

AS_OF = "2026-11-23"
MB = 1024 * 1024
TARGETS = {"weekly_s": 600, "peak_rss_mb": 4096, "report_mb": 100, "email_mb": 5}


class StageClock(logging.Handler):
    """Turns the weekly run's "step: ..." log lines and the pipeline's stage lines into a timing table."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.steps: list[dict] = []
        self.pipeline: dict = {}
        self._open: tuple | None = None

    def _cpu(self) -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    def mark(self, name: str | None) -> None:
        now, cpu = time.perf_counter(), self._cpu()
        if self._open:
            label, t0, c0 = self._open
            kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            self.steps.append({"step": label, "seconds": round(now - t0, 1), "cpu_seconds": round(cpu - c0, 1),
                               "peak_rss_mb": peak_rss_mb(), "children_peak_rss_mb": round(kids, 1),
                               "load_avg": round(os.getloadavg()[0], 1)})
        self._open = (name, now, cpu) if name else None

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if record.name == "workbench.weekly" and msg.startswith("step: "):
            self.mark(msg[len("step: "):])
        elif record.name == "workbench.pipeline" and msg.startswith("stage "):
            name, secs, cpu, rss, load = record.args
            self.pipeline[name] = {"seconds": round(secs, 1), "cpu_seconds": round(cpu, 1), "peak_rss_mb": rss,
                                   "load_avg": load}


def folder_mb(path: Path, skip: tuple = ("outbox",)) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and f.parts[-2] not in skip) / MB, 1)


def measure(label: str, data: Path) -> dict:
    # The weekly run goes first and the reference load after it: freed frames stay in the process's
    # heap, so a load before the run would count in the run's peak memory.
    load1 = os.getloadavg()[0]
    clock = StageClock()
    root = logging.getLogger("workbench")
    root.addHandler(clock)
    with tempfile.TemporaryDirectory(prefix="weekly-speed-") as reports:
        t0, c0 = time.perf_counter(), clock._cpu()
        out = run_weekly(data, AS_OF, Path(reports), settings=mail_settings({}))
        clock.mark(None)
        weekly_s, cpu_s = time.perf_counter() - t0, clock._cpu() - c0
        root.removeHandler(clock)
        final = out.report_dir
        emails = sorted((final / "outbox").glob("*.eml"))
        store = Path(reports) / "history"
        months = sorted(store.glob("*.parquet"))
        largest = sorted(((f.name, round(f.stat().st_size / MB, 1)) for f in final.iterdir() if f.is_file()),
                         key=lambda x: -x[1])[:6]
        run_peak_mb = peak_rss_mb()
        load2 = os.getloadavg()[0]
        t0 = time.perf_counter()
        ds = load_dataset(data)
        load_s = time.perf_counter() - t0
        skus, sales_rows = len(ds["products"]), len(ds["sales"])
        del ds
        row = {"dataset": label, "skus": skus, "sales_rows": sales_rows, "load_s": round(load_s, 1),
               "weekly_s": round(weekly_s, 1), "cpu_s": round(cpu_s, 1), "ratio": round(weekly_s / load_s, 1),
               "peak_rss_mb": run_peak_mb,
               "children_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
               "report_mb": folder_mb(final), "largest_files_mb": largest,
               "email_mb": round(emails[-1].stat().st_size / MB, 2) if emails else None,
               "history_store_mb": folder_mb(store) if store.is_dir() else 0.0,
               "history_month_files": len(months),
               "history_weekly_write_mb": round(months[-1].stat().st_size / MB, 1) if months else 0.0,
               "steps": clock.steps, "pipeline_stages": clock.pipeline,
               "load_average_1min": [round(load1, 1), round(load2, 1)]}
    print({k: v for k, v in row.items() if k not in ("steps", "pipeline_stages")}, flush=True)
    return row


def _before(v: dict | None) -> str:
    return "" if not v else f"{v['seconds']} / {v['cpu_seconds']} / {v['peak_rss_mb']:,.0f}"


def previous_big_row(name: str, label: str) -> dict | None:
    """The row for ``label`` in the last result file ``name`` (the "before" of a re-measurement)."""
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        return None
    return next((r for r in json.loads(path.read_text()).get("rows", []) if r.get("dataset") == label), None)


def markdown(rows: list[dict], previous: dict | None = None) -> str:
    md = ["# Weekly run at seller scale", "",
          "End to end (`run_weekly`: load, forecasts, snapshot, restock, pricing, ads, risk, two papermill "
          "notebooks, HTML, email to the outbox) on the shared 2-core machine, under `nice -n 10`; reference = "
          "`load_dataset` of the same data in the same process, after the run (so it is not in the run's peak). CPU = user + system of this process and its "
          "children (the notebook kernels). Peak RSS = this process; kernels' peak beside it.", "",
          "| dataset | SKUs | load s | weekly run s | CPU s | ratio to load | peak RSS MB | kernels' peak MB "
          "| report folder MB | email MB | history store MB (a week rewrites) | load avg start/end |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        md.append(f"| {r['dataset']} | {r['skus']:,} | {r['load_s']} | {r['weekly_s']} | {r['cpu_s']} | {r['ratio']}x "
                  f"| {r['peak_rss_mb']:,.0f} | {r['children_peak_rss_mb']:,.0f} | {r['report_mb']} | {r['email_mb']} "
                  f"| {r['history_store_mb']} ({r['history_weekly_write_mb']}) "
                  f"| {r['load_average_1min'][0]} / {r['load_average_1min'][1]} |")
    big = rows[-1]
    before = previous or {}
    md += ["", f"## Stages, {big['dataset']}", "",
           "Before = the previous result file's figures for the same dataset (another run, another load).", "",
           "| step | wall s | CPU s | peak RSS MB (cumulative) | load avg at end | before: wall s / CPU s / peak MB |",
           "| --- | --- | --- | --- | --- | --- |"]
    old_steps = {s["step"]: s for s in before.get("steps", [])}
    md += [f"| {s['step']} | {s['seconds']} | {s['cpu_seconds']} | {s['peak_rss_mb']:,.0f} | {s.get('load_avg', '')} "
           f"| {_before(old_steps.get(s['step']))} |" for s in big["steps"]]
    md += ["", "Inside 'compute the recommendations' (the pipeline; CPU includes the forecast's worker processes):", "",
           "| stage | wall s | CPU s | peak RSS MB | load avg at end | before: wall s / CPU s / peak MB |",
           "| --- | --- | --- | --- | --- | --- |"]
    old_stages = before.get("pipeline_stages", {})
    md += [f"| {k} | {v['seconds']} | {v['cpu_seconds']} | {v['peak_rss_mb']:,.0f} | {v.get('load_avg', '')} "
           f"| {_before(old_stages.get(k))} |" for k, v in big["pipeline_stages"].items()]
    md += ["", f"Largest files of the report folder (MB): {big['largest_files_mb']}", "",
           f"## Targets at {big['skus']:,} SKUs (issue 12, item 8)", "", "| measure | target | measured | met |",
           "| --- | --- | --- | --- |"]
    for key, unit in (("weekly_s", "s"), ("peak_rss_mb", "MB"), ("report_mb", "MB"), ("email_mb", "MB")):
        got = big[key]
        md.append(f"| {key} | <= {TARGETS[key]} {unit} | {got} | {'yes' if got is not None and got <= TARGETS[key] else 'NO'} |")
    return "\n".join(md)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skus", type=int, default=10000)
    ap.add_argument("--data", type=Path, default=None, help="a generated dataset to use (else one is generated)")
    ap.add_argument("--no-samples", action="store_true", help="measure the generated dataset only")
    args = ap.parse_args()
    big = args.data or CACHE / f"weekly-{args.skus}"
    if not (big / "sales.csv").exists() and not (big / "sales.parquet").exists():
        write_sample_dataset(big, GeneratorConfig(n_skus=args.skus, years=2, seed=5), include_truth=False)
    label, name = f"generated {args.skus} SKUs", f"weekly_speed_{args.skus}"
    previous = previous_big_row(name, label)
    rows = [] if args.no_samples else [measure("data/samples", SAMPLE_DATA)]
    rows.append(measure(label, big))
    write_result(name, {"rows": rows, "targets": TARGETS, "previous": previous}, markdown(rows, previous))


if __name__ == "__main__":
    main()
