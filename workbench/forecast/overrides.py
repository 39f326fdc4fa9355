"""Analyst overrides: a versioned YAML file of per-series model choices, read by every forecast run.

File layout (written by :func:`set_override`; the tuning notebook calls it)::

    version: 3                 # bumped on every change
    overrides:
      SKU-001:
        model: CrostonSBA
        params: {}
        who: ana
        when: '2026-11-20T10:12:00+00:00'
        why: promo ended, demand back to sporadic
        previous: {model: AutoETS, params: {}, who: bob, when: ..., why: ...}   # or null
    history: [ ...every earlier entry, oldest first, each with its unique_id... ]

An entry with ``model: auto`` removes the override (the backtest chooses again) but stays in history.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import yaml

from workbench.errors import InputError
from workbench.forecast.models import MODEL_NAMES
from workbench.io import write_text


TOP_KEYS = ("version", "overrides", "history")
ENTRY_KEYS = ("model", "params", "who", "when", "why", "previous")
# Parameters an override may set: (kind, low, high); a model ignores the ones it does not use.
PARAMS = {"season_length": ("int", 1, 1000), "window": ("int", 1, 1000), "window_size": ("int", 1, 1000),
          "alpha_d": ("float", 0.0, 1.0), "alpha_p": ("float", 0.0, 1.0), "model": ("ets", None, None)}


def _read_doc(path: Path):
    try:
        return yaml.safe_load(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text", [f"{path}:-: not UTF-8 text: byte 0x{e.object[e.start]:02x} "
                                                     f"at offset {e.start} cannot be decoded"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "-"
        raise InputError(f"{path}: not valid YAML", [f"{path}:{where}: not valid YAML ({getattr(e, 'problem', e)})"]) from None


def _param_problem(name: str, value) -> str | None:
    if name not in PARAMS:
        return f"unknown parameter; expected one of {', '.join(PARAMS)}"
    kind, low, high = PARAMS[name]
    if kind == "ets":
        ok = isinstance(value, str) and len(value) == 3 and value[0] in "ZANM" and value[1] in "ZAN" and value[2] in "ZANM"
        return None if ok else f"expected an ETS spec such as ZZZ or AAN, got {value!r}"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int":
        number = isinstance(value, int) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or not (value > low if kind == "float" else value >= low) or value > high:
        what = "a whole number" if kind == "int" else "a number"
        return f"expected {what} {'>' if kind == 'float' else '>='} {low:g} and <= {high:g}, got {value!r}"
    return None


def _entry(path: Path, uid, entry, problems: list[str]) -> dict | None:
    key = f"overrides.{uid}"
    if not isinstance(entry, dict):
        problems.append(f"{path}:{key}: expected a mapping with model, params, who, why "
                        f"(e.g. {uid}: {{model: CrostonSBA, who: ana, why: promo ended}}), got {entry!r}")
        return None
    model = entry.get("model")
    if model == "auto":
        return None
    if model not in MODEL_NAMES:
        problems.append(f"{path}:{key}.model: expected one of {', '.join(MODEL_NAMES)}, got {model!r}")
        return None
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        problems.append(f"{path}:{key}.params: expected a mapping, got {params!r}")
        return None
    bad = [(k, _param_problem(str(k), v)) for k, v in params.items()]
    for k, why in bad:
        if why:
            problems.append(f"{path}:{key}.params.{k}: {why}")
    return None if any(why for _, why in bad) else {**entry, "params": params}


def load_overrides(path: Path | None) -> dict[str, dict]:
    """{unique_id: {model, params, who, when, why, previous}} of active overrides; {} when no file.

    Every problem is an :class:`InputError` line ``file:key: message`` (exit 2), never a traceback.
    """
    if path is None:
        return {}
    path = Path(path)
    if not path.exists():
        return {}
    doc = _read_doc(path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not an overrides file", [
            f"{path}:-: expected a mapping with keys {', '.join(TOP_KEYS)}, got a {type(doc).__name__}"])
    problems = [f"{path}:{k}: unknown key; expected one of {', '.join(TOP_KEYS)} (a model choice goes under "
                f"overrides: {{{k}: {{model: ..., who: ..., why: ...}}}})" for k in doc if k not in TOP_KEYS]
    entries = doc.get("overrides") or {}
    if not isinstance(entries, dict):
        problems.append(f"{path}:overrides: expected a mapping of series id to an entry, got a {type(entries).__name__}")
        entries = {}
    out = {}
    for uid, entry in entries.items():
        checked = _entry(path, uid, entry, problems)
        if checked is not None:
            out[str(uid)] = checked
    if problems:
        raise InputError(f"{path}: {len(problems)} problem(s) in overrides", problems)
    return out


def set_override(path: Path, unique_id: str, model: str, who: str, why: str,
                 params: dict | None = None, when: datetime | None = None) -> dict:
    """Record an override for ``unique_id`` (``model='auto'`` to clear it), keeping the previous value.

    Writes atomically (temp file + ``os.replace``) and returns the new entry.
    """
    if model != "auto" and model not in MODEL_NAMES:
        raise ValueError(f"model must be one of {MODEL_NAMES + ('auto',)}, got {model!r}")
    if not who or not why:
        raise ValueError(f"who and why must be non-empty, got who={who!r}, why={why!r}")
    path = Path(path)
    load_overrides(path)  # a malformed file is reported (file:key), never overwritten
    doc = (_read_doc(path) if path.exists() else None) or {}
    overrides = doc.get("overrides") or {}
    history = doc.get("history") or []
    prev = overrides.get(unique_id)
    if prev is not None:
        history.append({"unique_id": unique_id, **{k: v for k, v in prev.items() if k != "previous"}})
    entry = {
        "model": model,
        "params": dict(params or {}),
        "who": who,
        "when": (when or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "why": why,
        "previous": ({k: v for k, v in prev.items() if k != "previous"} if prev else None),
    }
    overrides[unique_id] = entry
    doc = {"version": int(doc.get("version", 0)) + 1, "overrides": overrides, "history": history}
    write_text(path, yaml.safe_dump(doc, sort_keys=False))
    return entry
