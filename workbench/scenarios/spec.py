"""What-if scenario files: one YAML file per scenario in a scenario-set folder (``scenarios/peak-2026/``).

A scenario file (every block optional; an empty file is the baseline)::

    name: q4-demand-60                  # default: the file name without .yaml
    title: Q4 demand +60%               # one line for tables and charts
    description: free text
    demand:
      multiplier: 1.6                   # > 0, applied to every forecast quantile
      start: 2026-11-23                 # optional date window (inclusive); default: the whole horizon
      end: 2026-12-31
      categories: [Kitchen]             # optional: only these categories
      skus: [SKU-0001]                  # optional: only these SKUs
    lead_time:
      extra_days: 15                    # added to lead times and to expected arrivals in transit
      modes: [sea]                      # default: every mode
    price:
      change_pct: -10                   # > -100; demand follows each SKU's elasticity: (1 + c)^β
    ads:
      budget_change_pct: 50             # > -100; demand follows each campaign's spend → sales curve
    freight:
      air_for_top: 20                   # new orders of the top-N SKUs by 90-day revenue go by air
    combine: [q4-demand-60, sea-late]   # other scenarios of the same set, merged first

Merging (``combine``, then the file's own blocks): demand multipliers multiply (a window of the
file's own replaces the combined one), extra days add, price and budget changes compound
((1 + a)(1 + b) − 1), ``air_for_top`` takes the larger value.
Errors name the file and the key: ``scenarios/peak/q4.yaml:demand.multiplier: expected a number > 0 and <= 100, got "lots"``.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import yaml

from workbench.errors import InputError
from workbench.leadtime import MODES

# Monte Carlo paths per scenario: each path is a copy of the catalog the policy decides on every simulated
# week, so time and memory grow with paths x SKUs x weeks (docs/what-if.md, benchmarks/whatif_speed.py).
MAX_PATHS = 10_000
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# Largest sensible value of each lever: a scenario beyond these is a typo, and would overflow the simulation.
LIMITS = {"demand.multiplier": 100.0, "price.change_pct": 1000.0, "ads.budget_change_pct": 1000.0,
          "freight.air_for_top": 100_000, "lead_time.extra_days": 365.0}
TOP_KEYS = ("name", "title", "description", "demand", "lead_time", "price", "ads", "freight", "combine")
BLOCK_KEYS = {
    "demand": ("multiplier", "start", "end", "categories", "skus"),
    "lead_time": ("extra_days", "modes"),
    "price": ("change_pct",),
    "ads": ("budget_change_pct",),
    "freight": ("air_for_top",),
}


@dataclass(frozen=True)
class Scenario:
    """One parsed scenario; the neutral values make the baseline."""

    name: str
    title: str = ""
    description: str = ""
    source: str = ""
    demand_multiplier: float = 1.0
    demand_start: pd.Timestamp | None = None
    demand_end: pd.Timestamp | None = None
    demand_categories: tuple = ()
    demand_skus: tuple = ()
    extra_lead_days: float = 0.0
    lead_modes: tuple = MODES
    price_change: float = 0.0          # relative, -0.10 = −10%
    ad_budget_change: float = 0.0      # relative, 0.5 = +50%
    air_for_top: int = 0
    combine: tuple = ()

    @property
    def label(self) -> str:
        return self.title or self.name

    def is_baseline(self) -> bool:
        return (self.demand_multiplier == 1.0 and self.extra_lead_days == 0 and self.price_change == 0
                and self.ad_budget_change == 0 and self.air_for_top == 0)

    def describe(self) -> str:
        """The levers in a few words, e.g. 'demand ×1.60 2026-11-23..2026-12-31; sea +15 d'."""
        parts = []
        if self.demand_multiplier != 1.0:
            win = ""
            if self.demand_start is not None or self.demand_end is not None:
                a = self.demand_start.date() if self.demand_start is not None else "…"
                b = self.demand_end.date() if self.demand_end is not None else "…"
                win = f" {a}..{b}"
            parts.append(f"demand ×{self.demand_multiplier:.2f}{win}")
        if self.extra_lead_days:
            parts.append(f"{'/'.join(self.lead_modes)} {self.extra_lead_days:+.0f} d")
        if self.price_change:
            parts.append(f"price {self.price_change:+.0%}")
        if self.ad_budget_change:
            parts.append(f"ad budget {self.ad_budget_change:+.0%}")
        if self.air_for_top:
            parts.append(f"air for top {self.air_for_top} SKUs")
        return "; ".join(parts) or "no change (baseline)"


class _Problems:
    def __init__(self, path: str):
        self.path = path
        self.lines: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.lines.append(f"{self.path}:{key}: {message}")


def _shown(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _number(p: _Problems, key: str, value, low: float, low_ok: bool = False, integer: bool = False,
            high: float | None = None):
    """A finite number above ``low`` (and at most ``high``): ``.nan``, ``.inf`` and 1e12 are input errors."""
    ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
    if integer:
        ok_type = isinstance(value, int) and not isinstance(value, bool)
    high = LIMITS.get(key) if high is None else high
    bound = f"{'>=' if low_ok else '>'} {low:g}" + (f" and <= {high:g}" if high is not None else "")
    kind = "a whole number" if integer else "a number"
    if not ok_type or not math.isfinite(value) or not (value >= low if low_ok else value > low) \
            or (high is not None and value > high):
        p.add(key, f"expected {kind} {bound}, got {_shown(value)}")
        return None
    return value


def _slug(p: _Problems, key: str, value: str, where: str = "") -> str | None:
    """Scenario names become folder names under --output: letters, digits, '-' and '_' only."""
    if not SLUG.fullmatch(value):
        p.add(key, f"expected a name of letters, digits, '-' and '_' (at most 64, no '/', '..' or spaces){where}, "
                   f"got {_shown(value)}")
        return None
    return value


def _date(p: _Problems, key: str, value):
    if isinstance(value, (_dt.date, _dt.datetime)):
        return pd.Timestamp(value)
    try:
        return pd.Timestamp(str(value)) if isinstance(value, str) and value.strip() else _raise()
    except Exception:
        p.add(key, f"expected a date YYYY-MM-DD, got {_shown(value)}")
        return None


def _raise():
    raise ValueError


def _str_list(p: _Problems, key: str, value, allowed=None):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        p.add(key, f"expected a list of names, got {_shown(value)}")
        return None
    out = tuple(str(v) for v in value)
    if allowed is not None:
        bad = [v for v in out if v not in allowed]
        if bad:
            p.add(key, f"expected names from {', '.join(allowed)}, got {_shown(bad[0])}")
            return None
    return out


def parse_scenario(doc, path: str, default_name: str) -> tuple[dict, list[str]]:
    """Check one file's mapping; returns (fields for :class:`Scenario`, problem lines)."""
    p = _Problems(path)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        p.add("-", f"expected a mapping of keys ({', '.join(TOP_KEYS)}), got {type(doc).__name__}")
        return {}, p.lines
    f: dict = {"name": _slug(p, "name", default_name, " (the file name, when the file has no name key)")
               if "name" not in doc else default_name, "source": path}
    for key in doc:
        if key not in TOP_KEYS:
            p.add(str(key), f"unknown key; expected one of {', '.join(TOP_KEYS)}")
    for key in ("name", "title", "description"):
        if key in doc:
            if not isinstance(doc[key], str) or not doc[key].strip():
                p.add(key, f"expected a non-empty text, got {_shown(doc[key])}")
            else:
                f[key] = doc[key].strip() if key != "name" else _slug(p, "name", doc[key].strip())
    for block, keys in BLOCK_KEYS.items():
        if block not in doc:
            continue
        b = doc[block]
        if not isinstance(b, dict):
            p.add(block, f"expected a mapping with {', '.join(keys)}, got {_shown(b)}")
            continue
        for k in b:
            if k not in keys:
                p.add(f"{block}.{k}", f"unknown key; expected one of {', '.join(keys)}")
    d = doc.get("demand") if isinstance(doc.get("demand"), dict) else {}
    if "multiplier" in d:
        f["demand_multiplier"] = _number(p, "demand.multiplier", d["multiplier"], 0)
    for k in ("start", "end"):
        if k in d:
            f[f"demand_{k}"] = _date(p, f"demand.{k}", d[k])
    if f.get("demand_start") is not None and f.get("demand_end") is not None and f["demand_end"] < f["demand_start"]:
        p.add("demand.end", f"expected a date on or after demand.start ({f['demand_start'].date()}), "
                            f"got {f['demand_end'].date()}")
    for k in ("categories", "skus"):
        if k in d:
            f[f"demand_{k}"] = _str_list(p, f"demand.{k}", d[k])
    lt = doc.get("lead_time") if isinstance(doc.get("lead_time"), dict) else {}
    if "extra_days" in lt:
        v = _number(p, "lead_time.extra_days", lt["extra_days"], -365, low_ok=True)
        if v is not None:
            f["extra_lead_days"] = float(v)
    if "modes" in lt:
        f["lead_modes"] = _str_list(p, "lead_time.modes", lt["modes"], MODES)
    pr = doc.get("price") if isinstance(doc.get("price"), dict) else {}
    if "change_pct" in pr:
        v = _number(p, "price.change_pct", pr["change_pct"], -100)
        f["price_change"] = None if v is None else v / 100.0
    ad = doc.get("ads") if isinstance(doc.get("ads"), dict) else {}
    if "budget_change_pct" in ad:
        v = _number(p, "ads.budget_change_pct", ad["budget_change_pct"], -100)
        f["ad_budget_change"] = None if v is None else v / 100.0
    fr = doc.get("freight") if isinstance(doc.get("freight"), dict) else {}
    if "air_for_top" in fr:
        f["air_for_top"] = _number(p, "freight.air_for_top", fr["air_for_top"], 0, low_ok=True, integer=True)
    if "combine" in doc:
        f["combine"] = _str_list(p, "combine", doc["combine"])
    return {k: v for k, v in f.items() if v is not None}, p.lines


def _merge(base: Scenario, own: dict) -> Scenario:
    """``own`` fields on top of ``base`` with the compounding rules of the module docstring."""
    out = dict(base.__dict__)
    for k, v in own.items():
        if k == "demand_multiplier":
            out[k] = base.demand_multiplier * v
        elif k == "extra_lead_days":
            out[k] = base.extra_lead_days + v
        elif k in ("price_change", "ad_budget_change"):
            out[k] = (1 + getattr(base, k)) * (1 + v) - 1
        elif k == "air_for_top":
            out[k] = max(base.air_for_top, v)
        else:
            out[k] = v
    return Scenario(**out)


def load_scenario_set(folder) -> list[Scenario]:
    """Every ``*.yaml`` / ``*.yml`` scenario of ``folder``, sorted with the baseline(s) first, then by file name.

    Raises :class:`InputError` listing every problem (``file:key: message``) of every file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"scenarios folder not found: {folder}", [f"{folder}:-: expected a folder of *.yaml files"])
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise InputError(f"no scenario files in {folder}", [f"{folder}:-: expected at least one *.yaml file"])
    parsed, problems = {}, []
    for path in files:
        shown = str(path)
        try:
            doc = yaml.safe_load(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as e:
            problems.append(f"{shown}:-: not UTF-8 text: byte 0x{e.object[e.start]:02x} at offset {e.start} "
                            f"cannot be decoded; save the file as UTF-8")
            continue
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "-"
            problems.append(f"{shown}:{where}: not valid YAML ({getattr(e, 'problem', e)})")
            continue
        fields, lines = parse_scenario(doc, shown, path.stem)
        problems += lines
        if not lines:
            if fields["name"] in parsed:
                problems.append(f"{shown}:name: duplicate scenario name {fields['name']!r} "
                                f"(also in {parsed[fields['name']][0]['source']})")
                continue
            parsed[fields["name"]] = (fields, shown)
    if problems:
        raise InputError(f"{len(problems)} problem(s) in scenario files under {folder}", problems)

    resolved: dict[str, Scenario] = {}

    def resolve(name: str, stack: tuple) -> Scenario:
        if name in resolved:
            return resolved[name]
        fields, shown = parsed[name]
        base = Scenario(name=name)
        for other in fields.get("combine", ()):
            if other not in parsed:
                raise InputError(f"{shown}: unknown scenario in combine",
                                 [f"{shown}:combine: expected names of scenarios in {folder} "
                                  f"({', '.join(sorted(parsed))}), got {_shown(other)}"])
            if other in stack:
                raise InputError(f"{shown}: combine loops back", [f"{shown}:combine: {' -> '.join(stack + (other,))} is a loop"])
            base = _merge(base, {k: v for k, v in resolve(other, stack + (other,)).__dict__.items()
                                 if k in _LEVERS and v != getattr(Scenario(name=""), k)})
        sc = _merge(base, {k: v for k, v in fields.items() if k != "combine"})
        sc = replace(sc, combine=tuple(fields.get("combine", ())), source=shown)
        resolved[name] = sc
        return sc

    out = [resolve(n, (n,)) for n in parsed]
    return sorted(out, key=lambda s: (not s.is_baseline(), Path(s.source).name))


_LEVERS = ("demand_multiplier", "demand_start", "demand_end", "demand_categories", "demand_skus",
           "extra_lead_days", "lead_modes", "price_change", "ad_budget_change", "air_for_top")
