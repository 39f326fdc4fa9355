"""The vectorized steps that make the weekly run fit a 10,000-SKU catalog give the numbers a per-SKU loop gives.

(issue 12, item 8: the ads policy's normal phase allocates every SKU's budget in one bisection.)
"""
import numpy as np
import pytest

from workbench.pipeline import stage
from workbench.policies.ads import Groups, _spend_at, allocate_spend, allocate_spend_groups


def _one_sku_loop(a, b, total, lo, hi, iters=100):
    """The scalar bisection the policy ran per SKU before it was vectorized (the oracle)."""
    total = float(np.clip(total, lo.sum(), hi.sum()))
    lo_l, hi_l = 1e-12, float(np.max(a / b)) * 10 + 1.0
    for _ in range(iters):
        mid = np.sqrt(lo_l * hi_l)
        if _spend_at(mid, a, b, lo, hi).sum() > total:
            lo_l = mid
        else:
            hi_l = mid
    s = _spend_at(hi_l, a, b, lo, hi)
    rest = total - s.sum()
    room = np.where(rest > 0, hi - s, s - lo)
    return s + rest * room / room.sum() if room.sum() > 0 else s


def _groups(rng, n_groups=300, most=12):
    sizes = rng.integers(1, most, size=n_groups)
    return np.repeat(np.arange(n_groups), sizes), sizes


def test_group_sums_equal_numpy_sums_of_each_slice_bit_for_bit():
    rng = np.random.default_rng(1)
    codes, sizes = _groups(rng, most=40)
    x = rng.random(len(codes)) * rng.choice([1e-3, 1.0, 1e6], len(codes))
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    g = Groups(codes)
    assert np.array_equal(g.sum(x), [x[s:s + n].sum() for s, n in zip(starts, sizes)])
    assert np.array_equal(g.max(x), [x[s:s + n].max() for s, n in zip(starts, sizes)])


def test_many_skus_allocated_at_once_get_exactly_what_each_alone_gets():
    rng = np.random.default_rng(2)
    codes, sizes = _groups(rng)
    n = len(codes)
    a, b = rng.uniform(20, 500, n), rng.uniform(5, 80, n)
    cur = rng.uniform(1, 60, n)
    lo, hi = cur * 0.8, cur * 1.2
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    total = np.array([(cur[s:s + k] * rng.uniform(0.7, 1.3)).sum() for s, k in zip(starts, sizes)])
    together = allocate_spend_groups(a, b, total, lo, hi, Groups(codes))
    alone = np.concatenate([_one_sku_loop(a[s:s + k], b[s:s + k], t, lo[s:s + k], hi[s:s + k])
                            for s, k, t in zip(starts, sizes, total)])
    assert np.array_equal(together, alone)
    assert np.array_equal(allocate_spend(a[:sizes[0]], b[:sizes[0]], total[0], lo[:sizes[0]], hi[:sizes[0]]),
                          alone[:sizes[0]])
    # each SKU's campaigns add up to its total (clipped to what the bounds allow)
    got = Groups(codes).sum(together)
    want = np.clip(total, Groups(codes).sum(lo), Groups(codes).sum(hi))
    assert np.allclose(got, want, rtol=1e-9)


def test_a_stage_records_wall_cpu_memory_and_load():
    into: dict = {}
    with stage("work", into):
        sum(i * i for i in range(200_000))
    rec = into["work"]
    assert set(rec) == {"seconds", "cpu_seconds", "peak_rss_mb", "load_avg"}
    assert rec["cpu_seconds"] > 0 and rec["peak_rss_mb"] > 0 and rec["load_avg"] >= 0


@pytest.mark.parametrize("k", [1, 2, 7, 8, 9])
def test_one_group_is_plain_allocate_spend(k):
    rng = np.random.default_rng(k)
    a, b, cur = rng.uniform(20, 500, k), rng.uniform(5, 80, k), rng.uniform(1, 60, k)
    s = allocate_spend(a, b, cur.sum() * 1.1, cur * 0.8, cur * 1.2)
    assert s.shape == (k,) and np.isclose(s.sum(), min(cur.sum() * 1.1, (cur * 1.2).sum()))
