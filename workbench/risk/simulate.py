"""A small offers-history simulator with known per-SKU hijack propensity (for tests and benchmarks).

The dataset generator (``workbench.data.generate``) is the main source of sample data; this module
only simulates the ``offers`` table for given products so the learned hijack model can be checked
against a known truth without the rest of a dataset.

Truth model (per SKU x channel, daily): a hijack happens on a day with probability

    p = daily_base * exp(1.2 * type_risk + 2.5 * max(margin - 0.25, 0) + 0.8 * unregistered
                         + 0.04 * (sellers - 8) + 3 * max(premium, 0) + sku_noise),  sku_noise ~ N(0, 0.5)

A hijack adds one seller and moves the Buy Box to "other" for 1-5 days; other sellers also come
and go without taking the Buy Box (noise the rule and the model must see through).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.risk.hijack import DEFAULT_TYPE_RISK, margin_fraction


def simulate_offers(products: pd.DataFrame, start, days: int, channels=("amazon",), seed: int = 0,
                    daily_base: float = 0.002) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (offers, truth); truth has sku, channel, daily_hijack_prob, hijacks."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(pd.Timestamp(start), periods=days, freq="D")
    margin = margin_fraction(products["price"], products["unit_cost"], products["fee_rate"])
    rows, truth = [], []
    for i, p in enumerate(products.itertuples()):
        for ch in channels:
            sellers = int(rng.integers(1, 30))
            premium_mu = rng.normal(0.0, 0.06)
            noise = rng.normal(0.0, 0.5)
            other_left = 0
            n_hijacks = 0
            probs = []
            for d in dates:
                premium = premium_mu + rng.normal(0, 0.02)
                median = p.price / (1 + premium)
                lin = (1.2 * DEFAULT_TYPE_RISK.get(p.product_type, 0.5) + 2.5 * max(margin[i] - 0.25, 0.0)
                       + 0.8 * (0.0 if p.brand_registered else 1.0) + 0.04 * (sellers - 8)
                       + 3.0 * max(premium, 0.0) + noise)
                prob = min(daily_base * np.exp(lin), 0.5)
                probs.append(prob)
                if other_left > 0:
                    other_left -= 1
                    winner = "other" if other_left > 0 else "self"
                    if other_left == 0 and rng.random() < 0.5:
                        sellers = max(1, sellers - 1)  # the hijacker is removed
                elif rng.random() < prob:
                    sellers += 1
                    other_left = int(rng.integers(1, 6))
                    winner = "other"
                    n_hijacks += 1
                else:
                    winner = "self" if rng.random() > 0.01 else "none"
                    u = rng.random()
                    if u < 0.02:
                        sellers += 1
                    elif u < 0.04:
                        sellers = max(1, sellers - 1)
                lowest = round(p.price * rng.uniform(0.85, 1.02), 2)
                rows.append((d, p.sku, ch, sellers, winner, round(p.price if winner == "self" else lowest, 2),
                             lowest, round(median, 2)))
            truth.append((p.sku, ch, float(np.mean(probs)), n_hijacks))
    offers = pd.DataFrame(rows, columns=["date", "sku", "channel", "seller_count", "buybox_winner", "buybox_price",
                                         "lowest_competitor_price", "market_median_price"])
    offers["seller_count"] = offers["seller_count"].astype("int64")
    return offers, pd.DataFrame(truth, columns=["sku", "channel", "daily_hijack_prob", "hijacks"])


def random_products(n: int, seed: int = 0) -> pd.DataFrame:
    """Products with varied type, margin and brand registration (the columns the hijack score reads)."""
    rng = np.random.default_rng(seed)
    price = np.round(rng.uniform(8, 60, n), 2)
    margin = rng.uniform(0.10, 0.65, n)
    fee = np.full(n, 0.15)
    cost = np.round(price * (1 - fee - margin), 2)
    return pd.DataFrame({
        "sku": [f"SKU-{i:03d}" for i in range(n)],
        "product_type": rng.choice(["standard", "private_label", "custom", "bundle"], n, p=[0.45, 0.3, 0.1, 0.15]),
        "brand_registered": rng.random(n) < 0.45,
        "unit_cost": np.maximum(cost, 0.5), "price": price, "fee_rate": fee,
    })
