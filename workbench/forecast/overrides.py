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

from datetime import datetime, timezone
from pathlib import Path

import yaml

from workbench.errors import InputError
from workbench.forecast.models import MODEL_NAMES
from workbench.io import write_text


def load_overrides(path: Path | None) -> dict[str, dict]:
    """{unique_id: {model, params, who, when, why, previous}} of active overrides; {} when no file."""
    if path is None:
        return {}
    path = Path(path)
    if not path.exists():
        return {}
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML", [f"{path}:{getattr(getattr(e, 'problem_mark', None), 'line', -1) + 1}:-: {e}"]) from None
    entries = doc.get("overrides") or {}
    problems, out = [], {}
    for uid, entry in entries.items():
        model = (entry or {}).get("model")
        if model == "auto":
            continue
        if model not in MODEL_NAMES:
            problems.append(f"{path}:-:overrides.{uid}.model: expected one of {', '.join(MODEL_NAMES)}, got {model!r}")
            continue
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            problems.append(f"{path}:-:overrides.{uid}.params: expected a mapping, got {params!r}")
            continue
        out[str(uid)] = {**entry, "params": params}
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
    doc = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
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
