"""Recommendation policies (restock, pricing, ads): parameterized objects with playbook defaults."""
from workbench.policies.base import check_policy_output

__all__ = ["check_policy_output"]
