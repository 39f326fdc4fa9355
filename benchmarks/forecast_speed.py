"""Speed and memory: N daily SKUs x 2 years, horizon 28, 80/95% intervals, on this machine.

Reference measured in the same run: AutoETS (season 7, 80/95%) fitted to a 1,000-series subset with
n_jobs=-1, scaled linearly to N. Reports wall seconds, CPU seconds (user + sys of this process and its
worker processes), the load average (the machine may be shared), peak RSS of the process tree
(sampled every 0.5 s, main process plus its workers at the same moment) and ``ru_maxrss``.

    nice .venv/bin/python benchmarks/forecast_speed.py --series 10000     # one forecast_frame call
    nice .venv/bin/python benchmarks/forecast_speed.py --skus 100000      # SKU chunks, flat memory
    nice .venv/bin/python benchmarks/forecast_speed.py --stage benchmarks/.cache/weekly-10000 --label after

``--stage DIR`` measures the weekly run's forecast stage (:meth:`workbench.pipeline.Pipeline.forecast`, demand
history included) on a saved dataset: wall, CPU (this process and its workers), the stage's peak RSS of the
process tree (the loaded dataset included), the load average, and the forecast's own backtest accuracy (mean
MASE of the chosen models, of seasonal naive and of the global model) and whether lead-time errors came out.
``--label`` names the run (``results/forecast_stage_<N>_<label>.json``); ``results/forecast_stage_<N>.md``
tabulates every label measured. Run it with ``PYTHONPATH=<an older checkout>`` to measure the code before a
change on the same machine and day.

``--skus N`` generates the panel chunk by chunk (``--chunk`` SKUs each, seeded per chunk), forecasts each
with :func:`workbench.forecast.chunks.forecast_chunks` (the global model fitted on the first chunk and
applied to the others) and writes each chunk's Parquet to a temporary folder as it goes. Results:
``results/forecast_speed_<N>.{md,json}`` and ``results/forecast_speed_chunked_<N>.{md,json}``.
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from _common import write_result

DAYS = 730


def panel(n: int, days: int = DAYS, seed: int = 0, offset: int = 0) -> pd.DataFrame:
    """Mixed panel: 50% smooth weekly-seasonal with a yearly peak, 50% intermittent; 3% stockout days.
    SKU ids start at ``offset`` (chunks of one large catalog get distinct ids)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-11-23", periods=days, freq="D")
    dow = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 1.2])[ds.dayofweek]
    peak = 1 + 1.5 * ((ds.month == 11) & (ds.day >= 24) | (ds.month == 12) & (ds.day <= 20))
    smooth = rng.random(n) < 0.5
    lvl = np.where(smooth, rng.gamma(2, 8, n), rng.uniform(0.05, 0.5, n))
    lam = lvl[:, None] * np.where(smooth[:, None], dow[None, :] * peak[None, :], 1.0)
    y = rng.poisson(lam).astype(float)
    out = pd.DataFrame({"unique_id": np.repeat([f"SKU{i:07d}" for i in range(offset, offset + n)], days),
                        "ds": np.tile(ds, n), "y": y.ravel()})
    out["in_stock"] = rng.random(len(out)) > 0.03
    out.loc[~out["in_stock"], "y"] = 0.0
    return out


class Meter:
    """Wall and CPU seconds, load average and the process tree's peak RSS (sampled) over a block."""

    def __init__(self, interval: float = 0.5):
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak_tree_mb = 0.0
        self._stop = threading.Event()

    def _tree_mb(self) -> float:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:  # a worker that just exited
                pass
        return total / 2**20

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.peak_tree_mb = max(self.peak_tree_mb, self._tree_mb())

    def __enter__(self):
        self.load_start = os.getloadavg()
        self.t0, self.cpu0 = time.perf_counter(), os.times()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.partial()

    def partial(self):
        """Wall, CPU and load so far (the sampler keeps running)."""
        t = os.times()
        self.wall = time.perf_counter() - self.t0
        self.cpu_self = (t.user - self.cpu0.user) + (t.system - self.cpu0.system)
        self.cpu_children = (t.children_user - self.cpu0.children_user) + (t.children_system - self.cpu0.children_system)
        self.load_end = os.getloadavg()

    def summary(self) -> dict:
        return {"wall_seconds": round(self.wall, 1), "cpu_seconds": round(self.cpu_self + self.cpu_children, 1),
                "cpu_seconds_main": round(self.cpu_self, 1), "cpu_seconds_workers": round(self.cpu_children, 1),
                "cpu_per_wall": round((self.cpu_self + self.cpu_children) / max(self.wall, 1e-9), 2),
                "load_average_start": [round(x, 1) for x in self.load_start],
                "load_average_end": [round(x, 1) for x in self.load_end],
                "peak_rss_tree_mb": round(self.peak_tree_mb)}


def ru_maxrss_mb() -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "largest_child_mb": round(kids, 1)}


def autoets_reference(sub: pd.DataFrame) -> Meter:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    with Meter() as m, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        StatsForecast([AutoETS(season_length=7)], freq="D", n_jobs=-1).forecast(df=sub[["unique_id", "ds", "y"]],
                                                                               h=28, level=[80, 95])
    return m


def run_single(n: int, ets_subset: int) -> tuple[dict, list[str]]:
    """One forecast_frame call over all N series (the whole panel in memory)."""
    from workbench.forecast import forecast_frame

    df = panel(n)
    with Meter() as m:
        res = forecast_frame(df, 28, "D", [80, 95], seed=0)
    mem = ru_maxrss_mb()
    ets = autoets_reference(df[df["unique_id"].isin(df["unique_id"].unique()[:ets_subset])])
    ets_scaled = ets.wall * n / ets_subset
    per_k = {k: round(v * 1000 / n, 2) for k, v in res.timings.items()}
    summary = {"series": n, "days": DAYS, "horizon": 28, "levels": [80, 95], **m.summary(),
               "workbench_seconds": round(m.wall, 1), "per_stage_seconds": {k: round(v, 1) for k, v in res.timings.items()},
               "per_stage_seconds_per_1000_series": per_k,
               "autoets_subset_series": ets_subset, "autoets": ets.summary(),
               "autoets_seconds_scaled_to_n": round(ets_scaled, 1),
               "ratio_workbench_to_autoets": round(m.wall / ets_scaled, 3),
               "ratio_workbench_to_autoets_cpu": round((m.cpu_self + m.cpu_children) / ((ets.cpu_self + ets.cpu_children) * n / ets_subset), 3),
               "ru_maxrss_after_workbench": mem, "models_chosen": res.choices["model"].value_counts().to_dict()}
    lines = [f"# Forecast speed: {n} daily SKUs x 2 years, h=28, 80/95% intervals (one call)", "",
             f"- workbench end to end: {m.wall:.1f} s wall, {m.cpu_self + m.cpu_children:.0f} s CPU "
             f"(load average {m.load_start[0]:.1f} at start, {m.load_end[0]:.1f} at end, 2 cores)",
             f"- AutoETS (season 7, 80/95%) on {ets_subset} series in the same run: {ets.wall:.1f} s wall, "
             f"{ets.cpu_self + ets.cpu_children:.0f} s CPU -> scaled to {n}: {ets_scaled:.0f} s",
             f"- ratio workbench / AutoETS-on-everything: {summary['ratio_workbench_to_autoets']:.2f} wall, "
             f"{summary['ratio_workbench_to_autoets_cpu']:.2f} CPU (target <= 0.33)",
             f"- peak RSS of the process tree: {m.peak_tree_mb / 1024:.2f} GB (main ru_maxrss {mem['self_mb']:.0f} MB, "
             f"largest worker {mem['largest_child_mb']:.0f} MB)",
             "", "| stage | seconds | seconds per 1,000 series |", "| --- | --- | --- |"]
    lines += [f"| {k} | {v:.1f} | {per_k[k]:.2f} |" for k, v in res.timings.items()]
    return summary, lines


def run_chunked(n: int, chunk: int, ets_subset: int, name: str) -> tuple[dict, list[str]]:
    """N series generated, forecast and written chunk by chunk (:func:`forecast_chunks`). The AutoETS
    reference runs first; the result files are rewritten after every chunk (``complete: false`` until
    the last), so a run stopped early still leaves its measured chunks."""
    from workbench.forecast.chunks import forecast_chunks

    n_chunks = -(-n // chunk)
    ets = autoets_reference(panel(ets_subset, seed=1000))

    def chunks():
        for i in range(n_chunks):
            yield panel(min(chunk, n - i * chunk), seed=1000 + i, offset=i * chunk)

    reports, timings = [], {}
    with tempfile.TemporaryDirectory(prefix="forecast_chunks_") as tmp, Meter() as m:
        cpu_prev = sum(os.times()[:4])
        for r in forecast_chunks(chunks(), tmp, 28, "D", (80, 95), seed=0):
            cpu_now = sum(os.times()[:4])
            reports.append({"chunk": r.index, "series": r.n_series, "seconds": round(r.seconds, 1),
                            "cpu_seconds": round(cpu_now - cpu_prev, 1), "load_1min": round(os.getloadavg()[0], 1),
                            "peak_rss_tree_mb_so_far": round(m.peak_tree_mb)})
            cpu_prev = cpu_now
            for k, v in r.timings.items():
                timings[k] = timings.get(k, 0.0) + v
            print(f"chunk {r.index + 1}/{n_chunks}: {reports[-1]}", flush=True)
            m.partial()
            summary, lines = _chunked_report(n, chunk, n_chunks, m, ets, ets_subset, reports, timings)
            write_result(name, summary, "\n".join(lines))
    return _chunked_report(n, chunk, n_chunks, m, ets, ets_subset, reports, timings)


def _chunked_report(n, chunk, n_chunks, m, ets, ets_subset, reports, timings) -> tuple[dict, list[str]]:
    done = sum(r["series"] for r in reports)
    ets_cpu_scaled = (ets.cpu_self + ets.cpu_children) * n / ets_subset
    complete = len(reports) == n_chunks
    cpu = m.cpu_self + m.cpu_children
    # not finished: the remaining chunks at the measured CPU seconds per SKU of the chunks that applied the model
    rest_cpu = [r["cpu_seconds"] / r["series"] for r in reports[1:]]
    cpu_full = cpu if complete else (reports[0]["cpu_seconds"] + np.mean(rest_cpu) * (n - reports[0]["series"])
                                     if rest_cpu else float("nan"))
    summary = {"series": n, "series_done": done, "complete": complete, "chunk_skus": chunk, "chunks": n_chunks,
               "days": DAYS, "horizon": 28, "levels": [80, 95], **m.summary(),
               "cpu_seconds_all_chunks" + ("" if complete else "_extrapolated"): round(cpu_full, 1),
               "per_stage_seconds": {k: round(v, 1) for k, v in timings.items()},
               "autoets_subset_series": ets_subset, "autoets": ets.summary(),
               "autoets_seconds_scaled_to_n": round(ets.wall * n / ets_subset, 1),
               "autoets_cpu_seconds_scaled_to_n": round(ets_cpu_scaled, 1),
               "ratio_workbench_to_autoets_cpu": round(cpu_full / ets_cpu_scaled, 3),
               "ru_maxrss": ru_maxrss_mb(), "chunk_reports": reports}
    return summary, render_chunked(summary)


def quiet_line(s: dict) -> str:
    """Wall time of the chunks that ran while the machine was quiet (1-minute load <= 8), extrapolated."""
    reps = s["chunk_reports"]
    quiet = [r["seconds"] for r in reps[1:] if r["load_1min"] <= 8]
    if not quiet:
        return "- no chunk ran on a quiet machine (1-minute load <= 8): wall times above are not the method's"
    total = reps[0]["cpu_seconds"] + np.median(quiet) * (s["chunks"] - 1)
    return (f"- {len(quiet)} chunks ran with the 1-minute load <= 8: median {np.median(quiet):.0f} s wall each -> "
            f"about {total / 60:.0f} min for all {s['chunks']} chunks (the first chunk at its CPU seconds)")


def render_chunked(s: dict) -> list[str]:
    """The Markdown of a chunked run from its JSON summary (also ``--render FILE.json``).

    Idle-machine wall estimate: the main process (pandas, imputation, LightGBM with 1 thread) is serial
    and the statsforecast workers share 2 cores, so wall ~= CPU_main + CPU_workers / 2, with the
    extrapolated total split between them as measured.
    """
    n, chunk, reports, e = s["series"], s["chunk_skus"], s["chunk_reports"], s["autoets"]
    cpu, complete = s["cpu_seconds"], s["complete"]
    cpu_full = s["cpu_seconds_all_chunks" + ("" if complete else "_extrapolated")]
    main_share = s["cpu_seconds_main"] / cpu if cpu else float("nan")
    idle_wall = cpu_full * main_share + cpu_full * (1 - main_share) / 2
    rest = [r["cpu_seconds"] for r in reports[1:]]
    status = "" if complete else f" (STOPPED after {len(reports)} of {s['chunks']} chunks, {s['series_done']:,} SKUs)"
    rss = s["ru_maxrss"]
    lines = [f"# Forecast speed: {n:,} daily SKUs x 2 years, h=28, 80/95% intervals, chunks of {chunk:,}{status}", "",
             f"- measured over {s['series_done']:,} SKUs (generate, forecast, write Parquet per chunk): "
             f"{s['wall_seconds'] / 60:.1f} min wall, {cpu / 60:.1f} min CPU (user+sys, main process "
             f"{s['cpu_seconds_main'] / 60:.1f} + statsforecast workers {s['cpu_seconds_workers'] / 60:.1f}); "
             f"CPU/wall {s['cpu_per_wall']:.2f} on 2 cores",
             f"- load average {s['load_average_start'][0]:.1f} at start, {s['load_average_end'][0]:.1f} at the last "
             "chunk (2 cores, shared machine)",
             f"- CPU for all {n:,} SKUs{'' if complete else ' (extrapolated from the measured chunks)'}: "
             f"{cpu_full / 60:.1f} min; on 2 otherwise idle cores about {idle_wall / 60:.1f} min wall "
             f"(main process serial: {main_share:.0%} of the CPU)",
             quiet_line(s),
             f"- peak RSS of the process tree (sampled every 0.5 s): {s['peak_rss_tree_mb'] / 1024:.2f} GB; main "
             f"ru_maxrss {rss['self_mb'] / 1024:.2f} GB, largest worker {rss['largest_child_mb'] / 1024:.2f} GB "
             "(target <= 8 GB)",
             f"- first chunk (fits the global model once per cutoff) {reports[0]['cpu_seconds']:.0f} s CPU; the others "
             + (f"median {np.median(rest):.0f} s CPU per {chunk:,} SKUs (min {min(rest):.0f}, max {max(rest):.0f})"
                if rest else "none yet"),
             f"- AutoETS (season 7, 80/95%) on {s['autoets_subset_series']} series in the same run: "
             f"{e['wall_seconds']:.1f} s wall, {e['cpu_seconds']:.0f} s CPU -> scaled to {n:,}: "
             f"{s['autoets_cpu_seconds_scaled_to_n'] / 60:.0f} min CPU; ratio workbench / AutoETS "
             f"{s['ratio_workbench_to_autoets_cpu']:.2f} (CPU)",
             "", "| stage | seconds wall (sum over chunks) |", "| --- | --- |"]
    lines += [f"| {k} | {v:.0f} |" for k, v in s["per_stage_seconds"].items()]
    lines += ["", "| chunk | SKUs | wall s | CPU s | load | peak tree RSS so far (MB) |",
              "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['chunk']} | {r['series']} | {r['seconds']} | {r['cpu_seconds']} | {r['load_1min']} | "
              f"{r['peak_rss_tree_mb_so_far']} |" for r in reports]
    return lines


def run_stage(data: Path, as_of: str, label: str) -> dict:
    """The weekly run's forecast stage on a saved dataset (see the module docstring)."""
    import logging

    import workbench
    from workbench.data import load_dataset
    from workbench.forecast.errors import lead_time_errors
    from workbench.pipeline import Pipeline

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.perf_counter()
    ds = load_dataset(data)
    load_s, rss_load = time.perf_counter() - t0, ru_maxrss_mb()["self_mb"]
    with Meter() as m:
        res = Pipeline().forecast(ds, as_of)
    ch, bt = res.choices, res.backtest
    ok = ch["source"].eq("backtest")
    errors = lead_time_errors(res)
    n = int(ch["unique_id"].nunique())
    return {"label": label, "code": str(Path(workbench.__file__).parent), "skus": n, "as_of": as_of,
            "load_seconds": round(load_s, 1), "peak_rss_after_load_mb": rss_load, **m.summary(),
            "ru_maxrss_after_stage": ru_maxrss_mb(), "timings": {k: round(v, 1) for k, v in res.timings.items()},
            "mase_chosen_mean": round(float(ch.loc[ok, "mase"].mean()), 4),
            "mase_seasonal_naive_mean": round(float(ch.loc[ok, "mase_seasonal_naive"].mean()), 4),
            "mase_global_gbm_mean": round(float(bt.loc[bt["model"].eq("GlobalGBM"), "mase"].mean()), 4),
            "backtested_skus": int(ok.sum()), "models_chosen": ch["model"].value_counts().to_dict(),
            "lead_time_errors": errors is not None,
            "lead_time_error_rows": 0 if errors is None else int(errors.error.shape[0])}


def render_stage(n: int) -> str:
    """``results/forecast_stage_<n>.md`` from every ``forecast_stage_<n>_<label>.json`` measured."""
    import json

    from _common import RESULTS

    runs = [json.loads(p.read_text()) for p in sorted(RESULTS.glob(f"forecast_stage_{n}_*.json"))]
    lines = [f"# Forecast stage of the weekly run at {n:,} SKUs", "",
             "`Pipeline().forecast(ds, as_of)` (demand history, SKU chunks, every candidate's backtest, global model, "
             "ensembles, intervals) on the saved generated dataset, under `nice -n 10` on the shared 2-core machine. "
             "CPU = user + system of the process and its workers; peak RSS = the process tree during the stage, "
             "sampled every 0.5 s (the loaded dataset included). Accuracy = the forecast's own rolling-origin "
             "backtest: mean MASE over backtested SKUs of each one's chosen model, of seasonal naive, and of the "
             "global model's rows.", "",
             "| run | wall s | CPU s | peak RSS MB (sampled / ru_maxrss) | load avg start/end | MASE chosen | "
             "MASE seasonal naive | MASE GlobalGBM | lead-time errors | measured |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        lines.append(f"| {r['label']} | {r['wall_seconds']} | {r['cpu_seconds']} | {r['peak_rss_tree_mb']:,} / "
                     f"{r['ru_maxrss_after_stage']['self_mb']:,.0f} | "
                     f"{r['load_average_start'][0]} / {r['load_average_end'][0]} | {r['mase_chosen_mean']} | "
                     f"{r['mase_seasonal_naive_mean']} | {r['mase_global_gbm_mean']} | "
                     f"{'yes' if r['lead_time_errors'] else 'NO'} | {r['machine']['when']} |")
    weekly = RESULTS / f"weekly_speed_{n}.json"
    if weekly.exists():  # the figure before this change: the forecast stage of the last weekly benchmark
        w = json.loads(weekly.read_text())
        row = next((r for r in w["rows"] if r.get("skus") == n), None)
        st = (row or {}).get("pipeline_stages", {}).get("forecast")
        if st:
            lines += ["", f"Before (the forecast stage inside `benchmarks/weekly_speed.py`, {w['machine']['when']}, "
                      f"quiet machine, load {st['load_avg']}): {st['seconds']} s wall, {st['cpu_seconds']} s CPU, "
                      f"process peak RSS {st['peak_rss_mb']:,} MB (cumulative: the loaded dataset's); no lead-time "
                      "errors past one chunk (the chunks' candidate predictions were dropped with them)."]
    sample = RESULTS / f"forecast_stage_sample_{n}.json"
    if sample.exists():
        smp = json.loads(sample.read_text())
        lines += ["", smp["title"], "", "| code | CPU s | wall s | load avg | MASE chosen | MASE seasonal naive | "
                  "MASE GlobalGBM | lead-time errors |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {r['code']} | {r['cpu_seconds']} | {r['wall_seconds']} | {r['load']} | {r['mase_chosen_mean']} | "
                  f"{r['mase_seasonal_naive_mean']} | {r['mase_global_gbm_mean']} | {r['lead_time_errors']} |"
                  for r in smp["runs"]]
    return "\n".join(lines)


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=1000, help="one forecast_frame call over N series")
    ap.add_argument("--skus", type=int, default=None, help="chunked run over N SKUs (flat memory)")
    ap.add_argument("--chunk", type=int, default=5000, help="SKUs per chunk with --skus")
    ap.add_argument("--ets-subset", type=int, default=1000)
    ap.add_argument("--render", type=Path, default=None, help="re-render a chunked run's Markdown from its JSON")
    ap.add_argument("--stage", type=Path, default=None, help="the weekly forecast stage on a saved dataset")
    ap.add_argument("--as-of", default="2026-11-23")
    ap.add_argument("--label", default="after")
    args = ap.parse_args()
    if args.stage:
        import json

        from _common import RESULTS

        summary = run_stage(args.stage, args.as_of, args.label)
        name = f"forecast_stage_{summary['skus']}"
        write_result(f"{name}_{args.label}", summary, json.dumps(summary, indent=2, default=str))
        (RESULTS / f"{name}.md").write_text(render_stage(summary["skus"]) + "\n")
        return summary
    if args.render:
        import json

        summary = json.loads(args.render.read_text())
        summary["measured_on"] = summary.pop("machine", summary.get("measured_on"))  # write_result adds today's
        write_result(args.render.stem, summary, "\n".join(render_chunked(summary)))
        return summary
    if args.skus:
        name = f"forecast_speed_chunked_{args.skus}"
        summary, lines = run_chunked(args.skus, args.chunk, args.ets_subset, name)
    else:
        summary, lines = run_single(args.series, args.ets_subset)
        name = f"forecast_speed_{args.series}"
    write_result(name, summary, "\n".join(lines))
    return summary


if __name__ == "__main__":
    main()
