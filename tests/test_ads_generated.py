"""Response-curve allocation on generated data beats an equal split, scored with the true curves."""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.policies.ads import allocate_spend, fit_response_curves, saturating_sales
from workbench.stock import in_stock_flags


def test_fitted_allocation_beats_equal_split_on_generated_data():
    from workbench.data.generate import GeneratorConfig, generate_dataset

    tables, truth = generate_dataset(GeneratorConfig(n_skus=80, years=1.0, seed=9))
    ads, sales = tables["ads"], tables["sales"]
    ok = sales.assign(_ok=in_stock_flags(sales))[["date", "sku", "channel", "_ok"]]
    daily = ads.merge(ok, on=["date", "sku", "channel"], how="left")
    fits = fit_response_curves(daily.loc[daily["_ok"].fillna(True)]).set_index("campaign")
    p = truth["ad_params"].set_index("campaign")
    f = fits.loc[fits["fit"] == "own"].join(p[["sku", "a_max_sales_usd", "b_spend_scale_usd"]], how="inner")
    recent = ads.loc[ads["date"] > ads["date"].max() - pd.Timedelta(days=28)].groupby("campaign")["spend"].mean()
    equal = fitted = 0.0
    for _, g in f.assign(spend=recent).groupby("sku"):
        if len(g) < 2 or g["spend"].sum() <= 0:
            continue
        total, a, b = g["spend"].sum(), g["a_max_sales_usd"].to_numpy(), g["b_spend_scale_usd"].to_numpy()
        equal += saturating_sales(np.full(len(g), total / len(g)), a, b).sum()
        fitted += saturating_sales(allocate_spend(g["a_sales_usd"], g["b_spend_usd"], total), a, b).sum()
    assert fitted > equal > 0, (fitted, equal)
