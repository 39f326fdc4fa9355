"""Risk scoring (domain-rules.md §3-7): listing hijack (rule + learned model), offers alerts, stockout,
account health, supplier feed, returns and new-product tests. Read from the run's stock snapshot;
:func:`run_risk` is the `workbench risk` command."""
from workbench.risk.alerts import OffersAlerts
from workbench.risk.feed import SupplierFeedPolicy
from workbench.risk.health import AccountHealthPolicy
from workbench.risk.hijack import HijackScorer, hijack_features, margin_fraction
from workbench.risk.learned import HijackModel, hijack_events, holdout_compare, label_within, training_rows
from workbench.risk.returns import NewProductTestPolicy, ReturnsPolicy, suggested_action
from workbench.risk.run import RISK_COLUMNS, risk_outputs, risk_table, run_risk
from workbench.risk.stockout import stockout_risk

__all__ = ["AccountHealthPolicy", "HijackModel", "HijackScorer", "NewProductTestPolicy", "OffersAlerts",
           "RISK_COLUMNS", "ReturnsPolicy", "SupplierFeedPolicy", "stockout_risk",
           "hijack_events", "hijack_features", "holdout_compare", "label_within", "margin_fraction", "risk_table",
           "risk_outputs", "run_risk", "suggested_action", "training_rows"]
