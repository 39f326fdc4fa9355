"""The real pasta till data wrapped as a dataset: contract-valid, assumptions as documented, input untouched."""
import hashlib

import numpy as np
import pandas as pd
import pytest

from workbench.data.pasta import CASE_PACK, default_source, pasta_tables, write_pasta_dataset
from workbench.data.validate import validate_dataset

SRC = default_source()
pytestmark = pytest.mark.skipif(not SRC.exists(), reason="real pasta data not available")


def test_wrapped_pasta_is_valid_and_says_what_it_assumes(tmp_path):
    before = hashlib.sha256(SRC.read_bytes()).hexdigest()
    out = write_pasta_dataset(tmp_path / "pasta")
    assert hashlib.sha256(SRC.read_bytes()).hexdigest() == before
    assert validate_dataset(out).ok
    t = pasta_tables()
    raw = pd.read_csv(SRC)
    assert len(t["sales"]) == len(raw)  # no row dropped; closed days stay absent
    assert t["products"]["sku"].nunique() == 118
    assert t["products"]["is_key_item"].mean() == pytest.approx(0.2, abs=0.03)
    assert (t["products"]["moq"] == CASE_PACK).all() and (t["products"]["fee_rate"] == 0).all()
    # stockout flags only on zero-sale days, and only a small share of them
    s = t["sales"]
    assert (s.loc[~s["in_stock"], "units"] == 0).all()
    assert 0 < (~s["in_stock"]).mean() < (s["units"] == 0).mean()
    lt = (t["shipments"]["received_date"] - t["shipments"]["order_date"]).dt.days
    assert lt.min() >= 1 and (t["shipments"]["mode"] == "truck").all()
    aug = t["shipments"]["order_date"].dt.month == 8
    assert lt[aug].mean() > lt[~aug].mean()  # the Ferragosto delay is in the history
    assert np.isfinite(t["inventory"]["on_hand"]).all()
