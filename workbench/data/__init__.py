"""The dataset contract: schemas, validation, loading with rejects, and the sample-data generator."""
from workbench.data.load import Dataset, load_dataset
from workbench.data.schema import REQUIRED_TABLES, TABLES

__all__ = ["Dataset", "load_dataset", "TABLES", "REQUIRED_TABLES"]
