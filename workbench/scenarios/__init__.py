"""What-if scenarios: versioned YAML files, each replayed week by week with the policies deciding (the backtest's
replay on drawn futures), and their comparison (``docs/what-if.md``)."""
from workbench.scenarios.run import (WhatIfRun, compare_reviews, kpis, prepare, review_dir, run_scenario, run_what_if,
                                     save_review, what_if, worst_scenario, write_run)
from workbench.scenarios.spec import Scenario, load_scenario_set

__all__ = ["Scenario", "load_scenario_set", "WhatIfRun", "prepare", "run_scenario", "what_if", "write_run",
           "run_what_if", "review_dir", "compare_reviews", "kpis", "worst_scenario", "save_review"]
