"""Replay a seller's own history week by week: the workbench's orders against the rule of thumb's.

Entry points: :func:`run_backtest` (the `workbench backtest` command) and the policy adapters in
:mod:`workbench.backtest.adapters` (one function per policy).
"""
from workbench.backtest.run import Options, run_backtest

__all__ = ["Options", "run_backtest"]
