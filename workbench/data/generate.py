"""Synthetic marketplace dataset with known ground truth (``workbench sample-data``).

``generate_dataset(cfg)`` returns ``(tables, truth)``: every table of :mod:`workbench.data.schema`
plus the hidden parameters and the unconstrained demand that tests and benchmarks check against.
``write_sample_dataset`` writes them as CSV or Parquet. The generating process and every parameter
are documented in ``docs/sample-data.md``.

Everything is vectorized over SKUs; the only Python loop is over days (inventory, ranking and
hijack state need yesterday's value). One seed drives everything: each component draws from its
own stream ``np.random.default_rng([seed, k])`` so that changing one component does not reshuffle
the others.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data import gen_calendar as cal
from workbench.data.schema import TABLES
from workbench.errors import InputError
from workbench.io import atomic_path

DEFAULT_END_DATE = "2026-11-22"  # last day of history; the demo's as-of date is Monday 2026-11-23

CHANNELS = ("amazon_us", "walmart_us", "shopify", "tiktok_shop")
LOCATIONS = ("FBA-US-EAST", "FBA-US-WEST", "3PL-NJ")
DROPSHIP_LOCATION = "SUPPLIER-DROPSHIP"
PRODUCT_TYPES = ("standard", "private_label", "custom", "bundle")
DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
MODES = ("sea", "air", "rail", "truck", "express")
BUYBOX = ("self", "other", "none")
TARGETINGS = ("auto", "broad", "phrase", "exact", "product", "brand")
RETURN_REASONS = ("too small", "too large", "damaged in transit", "not as described", "defective", "changed mind")

# category: elasticity mean, return rate, yearly amplitude, yearly peak (day of year), price range USD,
# fee rate, return-reason weights (in RETURN_REASONS order), nouns for titles and keywords.
CATEGORIES: dict[str, dict] = {
    "Kitchen": dict(elasticity=-1.5, return_rate=0.04, amp=0.15, peak=340, price=(9, 45), fee=0.15,
                    reasons=(0, 0, 3, 2, 3, 2), nouns=("Cutting Board", "Knife Sharpener", "Spice Rack",
                                                      "Silicone Spatula Set", "Pour-Over Kettle", "Salad Spinner")),
    "Home & Garden": dict(elasticity=-1.2, return_rate=0.05, amp=0.25, peak=130, price=(12, 70), fee=0.15,
                          reasons=(1, 0, 3, 2, 2, 2), nouns=("Plant Pot", "Garden Hose Nozzle", "Door Mat",
                                                            "Solar Path Light", "Storage Basket", "Pruning Shears")),
    "Pet Supplies": dict(elasticity=-0.9, return_rate=0.035, amp=0.05, peak=200, price=(8, 40), fee=0.15,
                         reasons=(3, 1, 1, 1, 2, 1), nouns=("Dog Harness", "Cat Scratcher", "Pet Water Fountain",
                                                           "Chew Toy Set", "Dog Poop Bags", "Cat Litter Mat")),
    "Sports & Outdoors": dict(elasticity=-1.6, return_rate=0.06, amp=0.35, peak=175, price=(10, 80), fee=0.15,
                              reasons=(2, 2, 1, 2, 2, 2), nouns=("Yoga Mat", "Resistance Bands", "Water Bottle",
                                                                "Camping Lantern", "Jump Rope", "Hiking Socks")),
    "Beauty": dict(elasticity=-2.0, return_rate=0.03, amp=0.10, peak=335, price=(6, 35), fee=0.15,
                   reasons=(0, 0, 2, 3, 1, 3), nouns=("Makeup Brush Set", "Hair Clips", "Facial Roller",
                                                     "Nail File Kit", "Travel Bottles", "Shower Cap")),
    "Toys": dict(elasticity=-1.8, return_rate=0.05, amp=0.40, peak=350, price=(8, 60), fee=0.15,
                 reasons=(0, 0, 2, 2, 3, 2), nouns=("Building Blocks", "Puzzle 1000 Pieces", "Bubble Machine",
                                                   "Plush Bear", "Kite", "Magnetic Tiles")),
    "Apparel": dict(elasticity=-2.3, return_rate=0.12, amp=0.20, peak=320, price=(12, 60), fee=0.17,
                    reasons=(5, 3, 0, 2, 1, 2), nouns=("Fleece Beanie", "Running Shorts", "Rain Jacket",
                                                      "Wool Gloves", "Compression Socks", "Sun Hat")),
}
ADJECTIVES = ("Premium", "Eco", "Compact", "Heavy-Duty", "Deluxe", "Classic", "Ultra", "Everyday")
VARIANTS = ("", "2-Pack", "Large", "Black", "Value Pack", "XL", "Blue", "Travel Size")
OWN_BRANDS = ("Northwind Home", "Luma", "Trailhead Co", "Pawsome")
OTHER_BRANDS = ("Kestrel", "Maple & Pine", "BrightNest", "Generic")
SUPPLIERS = (  # name, country, sea transit mean, sd, production mean (days); domestic supplier ships by truck
    ("Ningbo Homeware Co", "CN", 28, 4.0, 7),
    ("Shenzhen Brightway Ltd", "CN", 30, 5.0, 6),
    ("Yiwu Everyday Goods", "CN", 32, 6.0, 8),
    ("Qingdao Pet Products", "CN", 30, 5.0, 6),
    ("Dongguan Precision Mfg", "CN", 29, 4.0, 9),
    ("Xiamen Outdoor Gear", "CN", 33, 7.0, 7),
    ("Hanoi Craft Export", "VN", 35, 6.0, 8),
    ("Ohio Valley Packaging", "US", 4, 1.0, 3),
)
_SUPPLIER_NAMES = np.array([s[0] for s in SUPPLIERS], dtype=object)
DOW_PROFILE = np.array([0.95, 0.92, 0.93, 0.97, 1.03, 1.12, 1.08])  # Mon..Sun
GAMMA_RANK_DEMAND = 0.5  # demand factor exp(-0.5 * log-rank shift) after a stockout
SHIFT_PER_OOS_DAY, SHIFT_MAX = 0.2, 2.0
HIJACK_EXIT_PER_DAY = 1 / 6
WRITE_CHUNK_ROWS = 1_000_000
DISRUPTION_PROB = 0.08  # share of sea/rail shipments held 10-25 extra days (rolled container, customs)
HIJACK_SALES_FACTOR = 0.7  # a hijacked listing keeps 70% of its demand (the rest buys from the hijacker)
ODR_FINAL_BREACH = 0.008

_STREAMS = {name: k for k, name in enumerate(
    ["products", "demand", "price", "sim", "leadtime", "channels", "ads", "offers", "ranks", "health",
     "returns", "feed", "inventory"])}


@dataclass
class GeneratorConfig:
    """Size and seed of a synthetic dataset.

    ``years`` of daily history end on ``end_date`` (default 2026-11-22). ``ads_days`` limits the ads
    table to the last days of history (it is the largest table). ``prime_day`` overrides the first day
    of Prime Day per year (ISO dates); otherwise it is the second Tuesday-Wednesday of July.
    """

    n_skus: int = 40
    years: float = 2.0
    seed: int = 7
    end_date: str | None = None
    ads_days: int = 365
    prime_day: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.end_date is None:
            self.end_date = DEFAULT_END_DATE
        if not _is_whole(self.n_skus) or not 1 <= self.n_skus <= 200_000:
            raise InputError(f"n_skus must be a whole number in [1, 200000], got {self.n_skus!r}")
        if not isinstance(self.years, (int, float)) or isinstance(self.years, bool) or not 0.25 <= self.years <= 10:
            raise InputError(f"years must be a number in [0.25, 10], got {self.years!r}")
        if not _is_whole(self.seed) or self.seed < 0:
            raise InputError(f"seed must be a whole number >= 0, got {self.seed!r}")
        if not _is_whole(self.ads_days) or self.ads_days < 1:
            raise InputError(f"ads_days must be a whole number >= 1, got {self.ads_days!r}")
        try:
            ok = re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(self.end_date)) is not None
            end = pd.Timestamp(str(self.end_date)) if ok else None
        except ValueError:
            ok = False
        if not ok:
            raise InputError(f"end_date must be an ISO date YYYY-MM-DD, got {self.end_date!r}")
        if not pd.Timestamp("2020-01-01") <= end - pd.Timedelta(days=round(self.years * 365)) \
                or end > pd.Timestamp("2034-06-30"):
            raise InputError(f"end_date minus years must start on or after 2020-01-01 and end_date must be on or "
                             f"before 2034-06-30 (the event calendar's range), got end_date={self.end_date!r}, "
                             f"years={self.years!r}")
        for d in self.prime_day:
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(d)):
                    raise ValueError(d)
                pd.Timestamp(d)
            except ValueError:
                raise InputError(f"prime_day must hold ISO dates YYYY-MM-DD, got {d!r}") from None

    @property
    def n_days(self) -> int:
        return int(round(self.years * 365))


def _is_whole(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS[stream]])


def _round_up(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    return (np.ceil(x / step) * step).astype(np.int64)


def _dates(start: np.datetime64, idx: np.ndarray) -> np.ndarray:
    return (start + idx.astype("timedelta64[D]")).astype("datetime64[ns]")


def _classify(adi: np.ndarray, cv2: np.ndarray) -> np.ndarray:
    """Syntetos-Boylan-Croston classes: ADI cut-off 1.32, CV² cut-off 0.49."""
    out = np.where(adi < 1.32, np.where(cv2 < 0.49, "smooth", "erratic"),
                   np.where(cv2 < 0.49, "intermittent", "lumpy"))
    return out


# --------------------------------------------------------------------------------------------------
# products and per-SKU parameters
# --------------------------------------------------------------------------------------------------

# Planted archetypes so that the default sample always shows each phenomenon (SKU index -> overrides).
_FORCED = {0: dict(cls=0, ptype=0, br=False, margin=0.50, cat=0),   # key item, hijack magnet
           1: dict(cls=0, ptype=1, br=True, margin=0.20),            # protected private label
           2: dict(cls=0, ptype=0, br=False, margin=0.33, cat=0),   # HTML title, medium risk
           3: dict(cls=1), 4: dict(cls=2), 5: dict(cls=3), 6: dict(cls=0, new=True)}


def _category_values(key: str, cat: np.ndarray, pos: int | None = None, dtype=None) -> np.ndarray:
    """Per-SKU values of one CATEGORIES field (``pos``: an item of a tuple field)."""
    vals = [CATEGORIES[c][key] if pos is None else CATEGORIES[c][key][pos] for c in CATEGORIES]
    return np.array(vals, dtype=dtype)[cat]


def _catalog_draws(rng: np.random.Generator, n: int) -> dict:
    """Category, product type, brand registry, demand class, margin and price; planted archetypes applied."""
    cat = rng.integers(0, len(CATEGORIES), n)
    ptype = rng.choice(4, n, p=[0.35, 0.40, 0.10, 0.15])
    br_p = np.array([0.15, 0.75, 0.5, 0.4])[ptype]
    brand_registered = rng.random(n) < br_p
    cls = rng.choice(4, n, p=[0.40, 0.20, 0.25, 0.15])
    margin = rng.uniform(0.10, 0.60, n)
    is_new = rng.random(n) < 0.12
    for i, f in _FORCED.items():
        if i < n:
            cls[i] = f.get("cls", cls[i])
            ptype[i] = f.get("ptype", ptype[i])
            brand_registered[i] = f.get("br", brand_registered[i])
            margin[i] = f.get("margin", margin[i])
            cat[i] = f.get("cat", cat[i])
            is_new[i] = f.get("new", False)
    fee = _category_values("fee", cat)
    lo, hi = _category_values("price", cat, 0), _category_values("price", cat, 1)
    price = np.floor(np.exp(rng.uniform(np.log(lo), np.log(hi)))) + 0.99
    unit_cost = np.round(price * (1 - fee - margin), 2)
    margin = 1 - fee - unit_cost / price
    return dict(cat=cat, ptype=ptype, brand_registered=brand_registered, cls=cls, is_new=is_new, fee=fee,
                price=price, unit_cost=unit_cost, margin=margin)


def _demand_draws(rng: np.random.Generator, cls: np.ndarray) -> dict:
    """Level at end_date before seasonality (units/day), occurrence probability and size CV by demand class."""
    n = len(cls)
    base = np.where(cls == 0, rng.lognormal(np.log(8), 0.9, n), rng.lognormal(np.log(5), 0.8, n))
    p_occ = np.ones(n)
    size_cv = np.where(cls == 1, rng.uniform(0.9, 1.3, n), rng.uniform(0.12, 0.25, n))
    inter = cls == 2
    p_occ[inter] = rng.uniform(0.12, 0.45, inter.sum())
    base[inter] = p_occ[inter] * rng.uniform(1.2, 2.2, inter.sum())
    lumpy = cls == 3
    p_occ[lumpy] = rng.uniform(0.10, 0.35, lumpy.sum())
    base[lumpy] = p_occ[lumpy] * rng.uniform(4, 15, lumpy.sum())
    size_cv[lumpy] = rng.uniform(0.9, 1.3, lumpy.sum())
    if n > 0:
        base[0] = max(base[0], 40.0)
    return dict(base=np.clip(base, 0.05, 400), p_occ=p_occ, size_cv=size_cv)


def _category_response_draws(rng: np.random.Generator, cat: np.ndarray) -> dict:
    """Elasticity, yearly seasonality, return rate and dominant return reason around the category's values."""
    n = len(cat)
    elasticity = np.clip(_category_values("elasticity", cat) + rng.normal(0, 0.25, n), -2.5, -0.8)
    amp = _category_values("amp", cat) * rng.uniform(0.5, 1.5, n)
    peak = _category_values("peak", cat) + rng.integers(-20, 21, n)
    rate = _category_values("return_rate", cat) * rng.lognormal(0, 0.3, n)
    reason_w = _category_values("reasons", cat, dtype=float)
    dominant = ((reason_w / reason_w.sum(1, keepdims=True)).cumsum(1) > rng.random((n, 1))).argmax(1)
    return dict(elasticity=elasticity, yearly_amp=amp, yearly_peak=peak, return_rate=np.clip(rate, 0.005, 0.3),
                dominant_reason=dominant)


def _supply_draws(rng: np.random.Generator, is_new: np.ndarray, T: int) -> dict:
    """Supplier, case pack, MOQ and launch day (index into history; new SKUs launch in the last 150 days)."""
    n = len(is_new)
    n_sup = int(np.clip(n // 6, 4, 8))
    sup_ids = list(range(n_sup - 1)) + [len(SUPPLIERS) - 1] if n_sup >= 5 else list(range(n_sup))
    supplier = np.array(sup_ids)[rng.integers(0, n_sup, n)]
    case_pack = rng.choice([6, 10, 12, 20, 24, 36, 48], n)
    moq = _round_up(rng.choice([50, 100, 200, 300, 500], n).astype(float), case_pack)
    launch_idx = np.zeros(n, dtype=np.int64)
    n_new = int(is_new.sum())
    launch_idx[is_new] = T - rng.integers(21, min(150, T - 1) + 1, n_new) if n_new else launch_idx[is_new]
    launch_idx = np.clip(launch_idx, 0, T - 1)
    launch_before = rng.integers(30, 1000, n)  # established SKUs launched this many days before history
    return dict(supplier=supplier, case_pack=case_pack, moq=moq, launch_idx=launch_idx, launch_before=launch_before)


def _competition_draws(rng: np.random.Generator, ptype: np.ndarray, margin: np.ndarray,
                       brand_registered: np.ndarray) -> dict:
    """Competing sellers, market price position and the hijack propensity and reference score they imply."""
    n = len(ptype)
    seller_base = np.where(ptype == 0, 2 + rng.poisson(np.where(rng.random(n) < 0.5, 18, 5)), 1)
    market_pos = np.where(rng.random(n) < 0.4, rng.uniform(0.80, 0.90, n), rng.uniform(0.97, 1.03, n))
    if n > 0:
        seller_base[0], market_pos[0] = 24, 0.85
    if n > 1:
        seller_base[1], market_pos[1] = 1, 1.0
    above = 1 / market_pos - 1  # our price relative to the market median
    logit = (-8.0 + 1.6 * (ptype == 0) + 1.2 * (margin > 0.40) + 1.0 * ~brand_registered
             + 0.8 * (seller_base > 10) + 0.6 * (above > 0.05))
    hijack_p = 1 / (1 + np.exp(-logit))
    score = (30 * np.array([100, 20, 0, 50])[ptype] + 25 * np.clip((margin - 0.25) / 0.15, 0, 1) * 100
             + 20 * np.clip((seller_base - 5) / 15, 0, 1) * 100 + 15 * 100 * ~brand_registered
             + 10 * np.clip((above - 0.02) / 0.08, 0, 1) * 100) / 100
    level = np.where(score > 60, "high", np.where(score >= 30, "medium", "low"))
    return dict(seller_base=seller_base, market_pos=market_pos, hijack_p=hijack_p, hijack_score=np.round(score, 1),
                hijack_level=level)


def _key_items(base: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Key items: the top 15% by revenue, and always the first SKU."""
    n = len(base)
    revenue = base * price
    key = revenue >= np.quantile(revenue, 0.85) if n else np.zeros(0, bool)
    if n:
        key[0] = True
    return key


def sku_params(cfg: GeneratorConfig, T: int) -> pd.DataFrame:
    """The generator's ground truth per SKU (one row each: demand level and shape, elasticity, prices,
    costs, supply, rank recovery), drawn from the seed alone; public for the closed-loop market."""
    # the steps draw from one stream in this order; reordering them changes every dataset
    rng = _rng(cfg.seed, "products")
    n = cfg.n_skus
    c = _catalog_draws(rng, n)
    dem = _demand_draws(rng, c["cls"])
    resp = _category_response_draws(rng, c["cat"])
    supply = _supply_draws(rng, c["is_new"], T)
    comp = _competition_draws(rng, c["ptype"], c["margin"], c["brand_registered"])
    cat, ptype, cls = c["cat"], c["ptype"], c["cls"]
    return pd.DataFrame(dict(
        cat=cat, category=np.array(list(CATEGORIES))[cat], ptype=ptype, product_type=np.array(PRODUCT_TYPES)[ptype],
        brand_registered=c["brand_registered"], cls=cls, intended_class=np.array(DEMAND_CLASSES)[cls],
        price=c["price"], unit_cost=c["unit_cost"], fee_rate=c["fee"], margin=c["margin"], base=dem["base"],
        p_occ=dem["p_occ"], size_cv=dem["size_cv"],
        trend=rng.normal(0.08, 0.2, n), weekly_amp=rng.uniform(0.5, 1.5, n), yearly_amp=resp["yearly_amp"],
        yearly_peak=resp["yearly_peak"], event_response=rng.lognormal(0, 0.3, n), elasticity=resp["elasticity"],
        return_rate=resp["return_rate"], dominant_reason=resp["dominant_reason"], supplier=supply["supplier"],
        case_pack=supply["case_pack"], moq=supply["moq"], is_new=c["is_new"], launch_idx=supply["launch_idx"],
        launch_before=supply["launch_before"], seller_base=comp["seller_base"], market_pos=comp["market_pos"],
        hijack_p=comp["hijack_p"], hijack_score=comp["hijack_score"], hijack_level=comp["hijack_level"],
        is_key_item=_key_items(dem["base"], c["price"]),
        safety_days=rng.uniform(0, 10, n), cycle_days=rng.uniform(20, 45, n), air_ok=rng.random(n) < 0.3,
        peak_prep=rng.random(n) < 0.5, recovery_tau=rng.uniform(5, 10, n), conversion=rng.uniform(0.06, 0.18, n),
    ))


def _titles_and_brands(sp: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    rng = np.random.default_rng([seed, 100])
    titles, brands, keywords = [], [], []
    for i, (c, pt) in enumerate(zip(sp["category"], sp["ptype"])):
        nouns = CATEGORIES[c]["nouns"]
        noun = nouns[rng.integers(len(nouns))]
        adj = ADJECTIVES[rng.integers(len(ADJECTIVES))]
        var = VARIANTS[rng.integers(len(VARIANTS))]
        brands_for_type = OWN_BRANDS if pt in (1, 2) else OTHER_BRANDS
        brand = brands_for_type[rng.integers(len(brands_for_type))]
        if pt == 3:
            brand = OWN_BRANDS[rng.integers(len(OWN_BRANDS))]
            var = "Bundle"
        title = " ".join(x for x in (brand, adj, noun, var) if x)
        if i == 2:
            title, noun = 'Bamboo Cutting Board 3-Pack <Large> & "Chef" edition', "Cutting Board"
        titles.append(title)
        brands.append(brand)
        kws = [noun.lower(), f"{adj.lower()} {noun.lower()}", f"{noun.lower()} {c.split()[0].lower()}"]
        keywords.append(sorted(kws[: 2 + int(rng.random() < 0.5)]))
    return np.array(titles, dtype=object), np.array(brands, dtype=object), keywords


# --------------------------------------------------------------------------------------------------
# demand, price, simulation
# --------------------------------------------------------------------------------------------------

def _price_matrix(sp: pd.DataFrame, T: int, seed: int) -> np.ndarray:
    """(T, N) listed price: piecewise-constant multipliers, changes about every 21 days."""
    rng = _rng(seed, "price")
    n = len(sp)
    change = rng.random((T, n)) < 1 / 21
    change[:, rng.random(n) < 0.1] = False  # some SKUs never change price
    regime = np.cumsum(change, axis=0)
    mult_choices = np.array([0.8, 0.85, 0.9, 0.95, 1.0, 1.0, 1.0, 1.05, 1.1, 1.15, 1.2])
    mult = mult_choices[rng.integers(0, len(mult_choices), (int(regime.max()) + 1, n))]
    mult[0] = 1.0
    m = np.take_along_axis(mult, regime, axis=0)
    base = sp["price"].to_numpy()
    return np.maximum(np.floor(base * m) + 0.99, 0.99)


def expected_demand(sp: pd.DataFrame, days: np.ndarray, uplift: np.ndarray, price: np.ndarray) -> np.ndarray:
    """(T, N) expected demand λ = base·trend·weekly·yearly·event·(price/base_price)^elasticity·launch ramp."""
    T = len(days)
    t = np.arange(T)[:, None]
    years_from_end = (t - (T - 1)) / 365.0
    dow = ((days.astype("datetime64[D]").astype(np.int64) + 3) % 7)[:, None]  # 1970-01-01 was a Thursday
    doy = (days - days.astype("datetime64[Y]")).astype(np.int64)[:, None]
    lam = sp["base"].to_numpy()[None, :] * np.exp(sp["trend"].to_numpy()[None, :] * years_from_end)
    lam = lam * (1 + sp["weekly_amp"].to_numpy()[None, :] * (DOW_PROFILE[dow] - 1))
    lam = lam * (1 + sp["yearly_amp"].to_numpy()[None, :]
                 * np.cos(2 * np.pi * (doy - sp["yearly_peak"].to_numpy()[None, :]) / 365.25))
    lam = lam * (1 + uplift[:, None] * sp["event_response"].to_numpy()[None, :])
    lam = lam * (price / sp["price"].to_numpy()[None, :]) ** sp["elasticity"].to_numpy()[None, :]
    age = t - sp["launch_idx"].to_numpy()[None, :]
    ramp = np.where(sp["is_new"].to_numpy()[None, :], 1 - 0.7 * np.exp(-np.maximum(age, 0) / 20), 1.0)
    lam = np.where(age >= 0, lam * ramp, 0.0)
    return lam.astype(np.float64)


def latent_demand(sp: pd.DataFrame, lam: np.ndarray, seed: int) -> np.ndarray:
    """(T, N) demand draws before the post-stockout rank penalty."""
    rng = _rng(seed, "demand")
    T, n = lam.shape
    p = sp["p_occ"].to_numpy()[None, :]
    p_t = np.minimum(0.95, p * np.sqrt(np.maximum(lam, 1e-9) / sp["base"].to_numpy()[None, :]))
    p_t = np.where(p >= 1, 1.0, p_t)
    occurs = rng.random((T, n)) < p_t
    size_mean = lam / p_t
    cv = sp["size_cv"].to_numpy()[None, :]
    shape = 1 / cv**2
    g = rng.gamma(np.broadcast_to(shape, (T, n)), 1.0) / shape
    cls = sp["cls"].to_numpy()[None, :]
    intermittent = cls >= 2
    mu = np.where(intermittent, np.maximum(size_mean - 1, 0) * np.where(cls == 3, g, 1.0), size_mean * g)
    d = rng.poisson(mu) + intermittent.astype(np.int64)
    return np.where(occurs & (lam > 0), d, 0).astype(np.int64)


def _supplier_tables(sp: pd.DataFrame) -> pd.DataFrame:
    used = sorted(set(sp["supplier"].tolist()))
    rows = []
    for s in used:
        name, country, sea, sd, prod = SUPPLIERS[s]
        if country == "US":
            rows.append((s, name, "truck", prod, sea, sd, sea, 0.0, 0.0, 0.0))
            continue
        cny = country == "CN"
        rows.append((s, name, "sea", prod, sea, sd, sea, 21.0 if cny else 0.0, 6.0 if cny else 0.0, 8.0))
        rows.append((s, name, "air", 2 + s % 2, 6 + s % 3, 1.2, 6 + s % 3, 21.0 if cny else 0.0, 0.0, 0.0))
        if s == 1:
            rows.append((s, name, "rail", prod, 22, 3.0, 22, 21.0, 0.0, 0.0))
        rows.append((s, name, "express", 1, 4, 0.8, 4, 21.0 if cny else 0.0, 0.0, 0.0))
    out = pd.DataFrame(rows, columns=["supplier_idx", "supplier", "mode", "production_days_mean",
                                      "transit_mean_days", "transit_sd_days", "quoted_transit_days",
                                      "cny_closure_days", "pre_cny_rush_delay_days", "peak_delay_days"])
    out.insert(3, "lead_time_mean_days", out["production_days_mean"] + out["transit_mean_days"])
    out["disruption_prob"] = np.where(out["mode"].isin(["sea", "rail"]), DISRUPTION_PROB, 0.0)
    return out


class _Shipper:
    """Places purchase orders: draws order -> ship -> receive for some SKUs (vectorized) and books the arrival.

    Holds the arrivals matrix (day x SKU) and the list of orders placed so far.
    """

    def __init__(self, sp: pd.DataFrame, lt: pd.DataFrame, days_ext: np.ndarray, lrng: np.random.Generator):
        self.sup = sp["supplier"].to_numpy()
        self.domestic = np.array([SUPPLIERS[s][1] == "US" for s in self.sup])
        self.china = np.array([SUPPLIERS[s][1] == "CN" for s in self.sup])
        self.ltk = {(r.supplier_idx, r.mode): r for r in lt.itertuples()}
        self.supcal = cal.supply_calendar(days_ext)
        self.H = len(days_ext)
        self.lrng = lrng
        self.arrivals = np.zeros((self.H, len(sp)), dtype=np.int64)
        self.orders: list[tuple] = []

    def param(self, field_name: str, modes: np.ndarray, sups: np.ndarray) -> np.ndarray:
        return np.array([getattr(self.ltk[(s, MODES[m])], field_name) for s, m in zip(sups, modes)], dtype=float)

    def place(self, idx: np.ndarray, t: int, mode: np.ndarray, qty: np.ndarray) -> None:
        if len(idx) == 0:
            return
        lrng, supcal, H = self.lrng, self.supcal, self.H
        s = self.sup[idx]
        pm = self.param("production_days_mean", mode, s)
        prod = np.maximum(1, np.round(lrng.normal(pm, np.maximum(pm / 4, 0.5)))).astype(np.int64)
        ship = t + prod
        cn = self.china[idx]
        rel = supcal["closure_release"][np.clip(ship, 0, H - 1)]
        closed = cn & (rel >= 0)
        ship = np.where(closed, rel + lrng.integers(0, 7, len(idx)), ship)
        mu = self.param("transit_mean_days", mode, s)
        sd = self.param("transit_sd_days", mode, s)
        quoted = self.param("quoted_transit_days", mode, s).astype(np.int64)
        transit = np.maximum(np.round(lrng.normal(mu, sd)), np.round(0.8 * mu))
        shipc = np.clip(ship, 0, H - 1)
        is_sea = mode == MODES.index("sea")
        transit += np.where(is_sea & cn & supcal["pre_cny_rush"][shipc], lrng.integers(3, 10, len(idx)), 0)
        transit += np.where(is_sea & supcal["peak_congestion"][shipc], lrng.integers(4, 13, len(idx)), 0)
        # rolled containers / customs holds: a few slow shipments are very late
        slow_mode = is_sea | (mode == MODES.index("rail"))
        transit += np.where(slow_mode & (lrng.random(len(idx)) < DISRUPTION_PROB), lrng.integers(10, 26, len(idx)), 0)
        recv = ship + transit.astype(np.int64)
        eta = ship + quoted
        ok = recv < H
        np.add.at(self.arrivals, (recv[ok], idx[ok]), qty[ok])
        self.orders.append((idx, np.full(len(idx), t), mode, qty, ship, eta, recv))


@dataclass
class _SimState:
    """Per-SKU state the day loop carries from one day to the next."""

    on_hand: np.ndarray
    on_order: np.ndarray
    ads: np.ndarray  # the seller's running estimate of daily sales (exponential smoothing)
    shift: np.ndarray  # log-rank shift after stockouts
    hij: np.ndarray  # hijackers on the listing
    air_out_until: np.ndarray  # no new air order before this day


def _opening_stock(sp: pd.DataFrame, lam: np.ndarray, T: int, shipper: _Shipper, sea_mode: np.ndarray,
                   L_plan: np.ndarray) -> _SimState:
    """Stock at the start of history; new products get their launch stock on launch day (ordered by sea
    one plan lead time earlier)."""
    n = len(sp)
    case, moq, safety = sp["case_pack"].to_numpy(), sp["moq"].to_numpy(), sp["safety_days"].to_numpy()
    launch = sp["launch_idx"].to_numpy()
    new = np.flatnonzero(sp["is_new"].to_numpy())
    lam_mean = lam[:, :].mean(axis=0) if T else np.zeros(n)
    ads = np.maximum(lam_mean, 0.05)
    if len(new):
        q0 = np.maximum(_round_up(ads[new] * (30 + safety[new] + 30), case[new]), moq[new])
        lead = L_plan[new].astype(np.int64)
        shipper.arrivals[launch[new], new] += q0
        shipper.orders.append((new, launch[new] - lead, sea_mode[new], q0, launch[new] - lead + 10, launch[new],
                               launch[new]))
    on_hand = np.where(launch == 0, np.round(ads * (L_plan * 0.6 + safety + 10)), 0).astype(np.int64)
    on_order = np.zeros(n, dtype=np.int64)
    for o in shipper.orders:
        on_order[o[0]] += o[3]
    return _SimState(on_hand=on_hand, on_order=on_order, ads=ads, shift=np.zeros(n), hij=np.zeros(n, dtype=np.int64),
                     air_out_until=np.full(n, -1))


def _sell_day(st: _SimState, latent: np.ndarray, live: np.ndarray, rng: np.random.Generator,
              decay: np.ndarray, hijack_p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One day's sales from on-hand stock, then the rank shift, the smoothed ADS and hijack episodes.

    Returns (units sold, demand, in stock).
    """
    alpha = 1 / 21
    n = len(live)
    instock = (st.on_hand > 0) & live
    penal = np.exp(-GAMMA_RANK_DEMAND * st.shift) * np.where(st.hij > 0, HIJACK_SALES_FACTOR, 1.0)
    d = np.where(instock, rng.binomial(latent, penal), latent)
    u = np.minimum(d, st.on_hand)
    u = np.where(instock, u, 0)
    st.on_hand -= u
    oos = live & ~instock
    st.shift = np.where(oos, np.minimum(st.shift + SHIFT_PER_OOS_DAY, SHIFT_MAX), st.shift * decay)
    st.ads = np.where(instock, (1 - alpha) * st.ads + alpha * np.maximum(u, d * (u < d)), st.ads)
    # hijack episodes: more likely when stock is low or out
    low = live & ((st.on_hand < 7 * st.ads) | oos)
    enter = live & (st.hij == 0) & (rng.random(n) < hijack_p * (1 + 3 * low))
    leave = (st.hij > 0) & (rng.random(n) < HIJACK_EXIT_PER_DAY)
    st.hij = np.where(enter, 1 + rng.poisson(0.7, n), np.where(leave, 0, st.hij))
    return u, d, instock


def _weekly_review(st: _SimState, t: int, live: np.ndarray, peak_season: bool, sp: pd.DataFrame,
                   shipper: _Shipper, sea_mode: np.ndarray, L_plan: np.ndarray) -> None:
    """Monday review: order by the plan mode when the stock position is below the reorder point."""
    safety, case, moq = sp["safety_days"].to_numpy(), sp["case_pack"].to_numpy(), sp["moq"].to_numpy()
    prep = np.where(sp["peak_prep"].to_numpy() & peak_season, 1.5, 1.0)
    pos = st.on_hand + st.on_order
    cover_days = L_plan + 7 + safety
    need = live & (pos < st.ads * cover_days * prep)
    idx = np.flatnonzero(need)
    if len(idx):
        q = st.ads[idx] * (cover_days[idx] + sp["cycle_days"].to_numpy()[idx]) * prep[idx] - pos[idx]
        q = np.maximum(_round_up(np.maximum(q, 1), case[idx]), moq[idx])
        m = sea_mode[idx].copy()
        rail = (shipper.sup[idx] == 1) & (shipper.lrng.random(len(idx)) < 0.08)
        m[rail] = MODES.index("rail")
        shipper.place(idx, t, m, q)
        st.on_order[idx] += q


def _expedite(st: _SimState, t: int, live: np.ndarray, air_ok: np.ndarray, case: np.ndarray,
              shipper: _Shipper) -> None:
    """Daily check: air freight when stock plus what lands within 12 days covers < 5 days."""
    soon = shipper.arrivals[t + 1: t + 13].sum(axis=0)
    need_air = live & air_ok & (st.air_out_until < t) & (st.on_hand + soon < st.ads * 5)
    idx = np.flatnonzero(need_air)
    if len(idx):
        q = np.maximum(_round_up(st.ads[idx] * 30, case[idx]), case[idx])
        m = np.where(shipper.lrng.random(len(idx)) < 0.1, MODES.index("express"), MODES.index("air"))
        shipper.place(idx, t, m, q)
        st.on_order[idx] += q
        st.air_out_until[idx] = t + 21


def _simulate(sp: pd.DataFrame, lat: np.ndarray, lam: np.ndarray, T: int, days_ext: np.ndarray,
              lt: pd.DataFrame, seed: int) -> dict:
    """Day loop, vectorized over SKUs: arrivals, sales, rank shift, reorders, hijack episodes."""
    rng = _rng(seed, "sim")
    n = len(sp)
    shipper = _Shipper(sp, lt, days_ext, _rng(seed, "leadtime"))
    dow = ((days_ext.astype("datetime64[D]").astype(np.int64) + 3) % 7)
    md = (days_ext.astype("datetime64[M]").astype(int) % 12) + 1
    mday = (days_ext - days_ext.astype("datetime64[M]")).astype(int) + 1
    peak_season = (md == 8) & (mday >= 15) | (md == 9) | (md == 10)  # peak prep: mid-August to October
    sea_mode = np.where(shipper.domestic, MODES.index("truck"), MODES.index("sea"))
    L_plan = (shipper.param("production_days_mean", sea_mode, shipper.sup)
              + shipper.param("quoted_transit_days", sea_mode, shipper.sup))
    launch = sp["launch_idx"].to_numpy()
    air_ok = sp["air_ok"].to_numpy() & ~shipper.domestic
    decay = np.exp(-1 / sp["recovery_tau"].to_numpy())
    hijack_p = sp["hijack_p"].to_numpy()
    case = sp["case_pack"].to_numpy()
    st = _opening_stock(sp, lam, T, shipper, sea_mode, L_plan)

    units_m = np.zeros((T, n), dtype=np.int32)
    demand_m = np.zeros((T, n), dtype=np.int32)
    instock_m = np.zeros((T, n), dtype=bool)
    onhand_m = np.zeros((T, n), dtype=np.int32)
    shift_m = np.zeros((T, n), dtype=np.float32)
    hij_m = np.zeros((T, n), dtype=np.int8)
    for t in range(T):
        arr = shipper.arrivals[t]
        st.on_hand += arr
        st.on_order -= arr
        live = t >= launch
        u, d, instock = _sell_day(st, lat[t], live, rng, decay, hijack_p)
        units_m[t], demand_m[t], instock_m[t], onhand_m[t] = u, d, instock, st.on_hand
        shift_m[t], hij_m[t] = st.shift, st.hij
        if dow[t] == 0:
            _weekly_review(st, t, live, peak_season[t], sp, shipper, sea_mode, L_plan)
        _expedite(st, t, live, air_ok, case, shipper)

    return dict(units=units_m, demand=demand_m, in_stock=instock_m, on_hand=onhand_m, shift=shift_m,
                hijackers=hij_m, orders=shipper.orders)


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------

def _split_channels(sp: pd.DataFrame, sim: dict, seed: int) -> dict:
    """Series = SKU x channel. Every SKU sells on amazon_us; about 20% also on one other channel."""
    rng = _rng(seed, "channels")
    n = len(sp)
    has_sec = rng.random(n) < 0.2
    sec_ch = rng.integers(1, 4, n)
    share = rng.uniform(0.1, 0.35, n)
    sec = np.flatnonzero(has_sec)
    d, u = sim["demand"], sim["units"]
    d_sec = rng.binomial(d[:, sec], share[sec]).astype(np.int32)
    u_sec = np.minimum(d_sec, u[:, sec])
    d_pri, u_pri = d.copy(), u.copy()
    d_pri[:, sec] -= d_sec
    u_pri[:, sec] = np.minimum(d_pri[:, sec], u[:, sec] - u_sec)
    return dict(sku=np.concatenate([np.arange(n), sec]), channel=np.concatenate([np.zeros(n, int), sec_ch[sec]]),
                demand=np.concatenate([d_pri, d_sec], axis=1), units=np.concatenate([u_pri, u_sec], axis=1),
                share=share, has_sec=has_sec, sec_ch=sec_ch)


def _series_long(ser: dict, launch: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (series index, day index) of the long sales frame, sorted by sku, channel, date."""
    S = len(ser["sku"])
    order = np.lexsort((ser["channel"], ser["sku"]))
    start = launch[ser["sku"][order]]
    lengths = T - start
    s_idx = np.repeat(order, lengths)
    offs = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    t_idx = np.repeat(start, lengths) + offs
    return s_idx, t_idx


def _cat(values: np.ndarray, categories) -> pd.Categorical:
    return pd.Categorical.from_codes(values, categories=list(categories))


def _snapshot_days(T: int, daily_tail: int = 28) -> np.ndarray:
    weekly = np.arange(T - 1, -1, -7)
    daily = np.arange(max(T - daily_tail, 0), T)
    return np.union1d(weekly, daily)


def _sales_tables(sp: pd.DataFrame, ser: dict, sim: dict, lam: np.ndarray, price: np.ndarray, skus: np.ndarray,
                  start: np.datetime64, T: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sales table (SKU x channel x day) and the truth beside it: uncensored and expected demand."""
    s_idx, t_idx = _series_long(ser, sp["launch_idx"].to_numpy(), T)
    sku_of = ser["sku"][s_idx]
    ch_of = ser["channel"][s_idx]
    units = ser["units"][t_idx, s_idx]
    dem = ser["demand"][t_idx, s_idx]
    instock = sim["in_stock"][t_idx, sku_of]
    p = price[t_idx, sku_of]
    srng = _rng(seed, "channels")
    conv = sp["conversion"].to_numpy()[sku_of]
    sessions = srng.poisson(dem / conv * np.where(instock, 1.0, 0.5))
    sessions = np.maximum(sessions, units)
    date_col = _dates(start, t_idx)
    sku_col = _cat(sku_of, skus)
    ch_col = _cat(ch_of, CHANNELS)
    sales = pd.DataFrame({
        "date": date_col, "sku": sku_col, "channel": ch_col, "units": units.astype(np.int64),
        "revenue": np.round(units * p, 2), "in_stock": instock, "price": p, "sessions": sessions.astype(np.int64)})
    lam_sku = lam[t_idx, sku_of]
    share_of = np.where(ch_of == 0, 1 - np.where(ser["has_sec"], ser["share"], 0)[sku_of], ser["share"][sku_of])
    demand = pd.DataFrame({
        "date": date_col, "sku": sku_col, "channel": ch_col, "demand": dem.astype(np.int64),
        "expected_demand": np.round(lam_sku * share_of, 3), "units": units.astype(np.int64),
        "in_stock": instock, "censored": dem > units})
    return sales, demand


def _demand_stats(demand: np.ndarray, launch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ADI and CV² of the true (uncensored) demand after launch, per SKU."""
    D = demand.astype(np.float64)
    live = np.arange(len(D))[:, None] >= launch[None, :]
    nz = (D > 0) & live
    n_nz = nz.sum(0)
    n_live = live.sum(0)
    adi = np.where(n_nz > 0, n_live / np.maximum(n_nz, 1), np.inf)
    mean_nz = np.where(n_nz > 0, (D * nz).sum(0) / np.maximum(n_nz, 1), 0)
    var_nz = np.where(n_nz > 1, ((D - mean_nz) ** 2 * nz).sum(0) / np.maximum(n_nz - 1, 1), 0)
    cv2 = np.where(mean_nz > 0, var_nz / np.maximum(mean_nz, 1e-9) ** 2, 0)
    return adi, cv2


def _products_table(sp: pd.DataFrame, skus: np.ndarray, titles: np.ndarray, brands: np.ndarray,
                    start: np.datetime64, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The products table and the supplier SKU codes (the supplier feed reuses them)."""
    n = len(sp)
    prng = _rng(seed, "feed")
    sup_prefix = np.array([SUPPLIERS[s][0].split()[0][:3].upper() for s in sp["supplier"]], dtype=object)
    sup_sku = np.array([f"{pfx}-{k}" for pfx, k in zip(sup_prefix, prng.integers(1000, 9999, n))], dtype=object)
    launch_dates = np.where(sp["is_new"].to_numpy(), sp["launch_idx"].to_numpy(), -sp["launch_before"].to_numpy())
    products = pd.DataFrame({
        "sku": skus, "title": titles, "brand": brands, "category": sp["category"].to_numpy(),
        "product_type": sp["product_type"].to_numpy(), "brand_registered": sp["brand_registered"].to_numpy(),
        "unit_cost": sp["unit_cost"].to_numpy(), "price": sp["price"].to_numpy(), "fee_rate": sp["fee_rate"].to_numpy(),
        "supplier": _SUPPLIER_NAMES[sp["supplier"].to_numpy()], "moq": sp["moq"].to_numpy(),
        "case_pack": sp["case_pack"].to_numpy(), "is_key_item": sp["is_key_item"].to_numpy(),
        "launch_date": _dates(start, launch_dates), "supplier_sku": sup_sku})
    return products, sup_sku


def _location_split(n: int, irng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each SKU's primary location (70% the first) and its stock share per location (30% use 2-3)."""
    n_loc = np.where(irng.random(n) < 0.3, irng.integers(2, 4, n), 1)
    prim = np.where(irng.random(n) < 0.7, 0, irng.integers(1, 3, n))
    loc_share = np.zeros((n, 3))
    loc_share[np.arange(n), prim] = 1.0
    for i in np.flatnonzero(n_loc > 1):
        others = [k for k in range(3) if k != prim[i]][: n_loc[i] - 1]
        w = irng.dirichlet(np.ones(n_loc[i]))
        w.sort()
        loc_share[i, prim[i]] = w[-1]
        loc_share[i, others] = w[:-1][::-1]
    return prim, loc_share


def _shipment_tables(sp: pd.DataFrame, orders: list[tuple], skus: np.ndarray, prim: np.ndarray,
                     start: np.datetime64, T: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipments table (one row per order, received into the SKU's primary location) and its truth."""
    cols = [np.concatenate([x[k] for x in orders]).astype(np.int64) for k in range(7)]
    order = np.lexsort((cols[0], cols[1]))  # by order date, then SKU
    o_sku, o_ord, o_mode, o_qty, o_ship, o_eta, o_recv = (c[order] for c in cols)
    freight_rate = np.array([0.06, 0.30, 0.12, 0.04, 0.45])
    received = o_recv <= T - 1
    shipped = o_ship <= T - 1
    shipments = pd.DataFrame({
        "shipment_id": [f"PO-{k + 1:06d}" for k in range(len(o_sku))], "sku": skus[o_sku],
        "supplier": _SUPPLIER_NAMES[sp["supplier"].to_numpy()[o_sku]], "mode": np.array(MODES)[o_mode],
        "qty": o_qty, "order_date": _dates(start, o_ord),
        "ship_date": pd.Series(_dates(start, o_ship)).where(shipped).to_numpy(),
        "eta": _dates(start, o_eta),
        "received_date": pd.Series(_dates(start, o_recv)).where(received).to_numpy(),
        "location": np.array(LOCATIONS)[prim[o_sku]],
        "freight_cost": np.round(o_qty * sp["unit_cost"].to_numpy()[o_sku] * freight_rate[o_mode], 2)})
    truth = pd.DataFrame({
        "shipment_id": shipments["shipment_id"], "true_received_date": _dates(start, o_recv),
        "lead_time_days": o_recv - o_ord, "late_days": o_recv - o_eta})
    return shipments, truth


def _inventory_snapshots(on_hand: np.ndarray, launch: np.ndarray, prim: np.ndarray, loc_share: np.ndarray,
                         skus: np.ndarray, start: np.datetime64, T: int, irng: np.random.Generator) -> pd.DataFrame:
    """Weekly end-of-day stock split over the SKU's locations; the primary takes the rounding remainder."""
    snaps = np.arange(T - 1, -1, -7)[::-1]
    oh = on_hand[snaps]  # (K, n)
    rows_t, rows_i, rows_l, rows_q = [], [], [], []
    for loc in range(3):
        has = loc_share[:, loc] > 0
        if not has.any():
            continue
        q = np.floor(oh[:, has] * loc_share[has, loc]).astype(np.int64)
        rest = sum(np.floor(oh[:, has] * loc_share[has, k]).astype(np.int64) for k in range(3) if k != loc)
        q = np.where(prim[has] == loc, oh[:, has] - rest, q)
        tt, ii = np.meshgrid(snaps, np.flatnonzero(has), indexing="ij")
        keep = tt >= launch[ii]
        rows_t.append(tt[keep])
        rows_i.append(ii[keep])
        rows_l.append(np.full(keep.sum(), loc))
        rows_q.append(q[keep])
    it, ii, il, iq = (np.concatenate(x) for x in (rows_t, rows_i, rows_l, rows_q))
    iq = np.maximum(iq, 0)
    reserved = irng.binomial(iq, 0.06)
    return pd.DataFrame({"as_of": _dates(start, it), "sku": skus[ii], "location": np.array(LOCATIONS)[il],
                         "on_hand": iq, "reserved": reserved})


def _sku_truth(sp: pd.DataFrame, skus: np.ndarray, ser: dict, sim: dict, launch_date: pd.Series,
               hij_rate: np.ndarray, T: int) -> pd.DataFrame:
    """The hidden per-SKU parameters, with the demand class measured on the generated demand."""
    launch = sp["launch_idx"].to_numpy()
    adi, cv2 = _demand_stats(sim["demand"], launch)
    return pd.DataFrame({
        "sku": skus, "category": sp["category"], "product_type": sp["product_type"],
        "demand_class": _classify(adi, cv2), "intended_class": sp["intended_class"],
        "adi": np.round(adi, 4), "cv2": np.round(cv2, 4),
        "base_level": np.round(sp["base"], 4), "occurrence_prob": np.round(sp["p_occ"], 4),
        "size_cv": np.round(sp["size_cv"], 4), "trend_per_year": np.round(sp["trend"], 4),
        "weekly_amplitude": np.round(sp["weekly_amp"], 4), "yearly_amplitude": np.round(sp["yearly_amp"], 4),
        "yearly_peak_doy": sp["yearly_peak"], "event_response": np.round(sp["event_response"], 4),
        "elasticity": np.round(sp["elasticity"], 4), "base_price": sp["price"],
        "margin": np.round(sp["margin"], 4), "hijack_propensity": np.round(sp["hijack_p"], 6),
        "hijack_score_ref": sp["hijack_score"], "hijack_level_ref": sp["hijack_level"],
        "hijacked_day_share": np.round(hij_rate, 4), "competing_sellers": sp["seller_base"],
        "market_price_ratio": np.round(sp["market_pos"], 4),
        "return_rate": np.round(sp["return_rate"], 4),
        "dominant_return_reason": np.array(RETURN_REASONS)[sp["dominant_reason"].to_numpy()],
        "is_new": sp["is_new"], "launch_date": launch_date,
        "safety_days": np.round(sp["safety_days"], 2), "air_freight_allowed": sp["air_ok"],
        "recovery_tau_days": np.round(sp["recovery_tau"], 2), "conversion": np.round(sp["conversion"], 4),
        "secondary_channel": np.where(ser["has_sec"], np.array(CHANNELS, dtype=object)[ser["sec_ch"]], ""),
        "secondary_share": np.where(ser["has_sec"], np.round(ser["share"], 4), 0.0),
        "stockout_days": (~sim["in_stock"] & (np.arange(T)[:, None] >= launch[None, :])).sum(0),
    })


def _in_schema_order(tables: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame]) -> None:
    """Columns in schema order first, then extras; categoricals become plain strings (in place)."""
    for name, t in TABLES.items():
        df = tables[name]
        cols = [c.name for c in t.columns if c.name in df.columns]
        tables[name] = df[cols + [c for c in df.columns if c not in cols]]
    for frames in (tables, truth):
        for name, df in frames.items():
            frames[name] = _plain_strings(df)


def generate_dataset(cfg: GeneratorConfig) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Generate every table of the contract and the ground truth behind it (see docs/sample-data.md)."""
    T = cfg.n_days
    end = np.datetime64(cfg.end_date, "D")
    start = end - np.timedelta64(T - 1, "D")
    days = start + np.arange(T).astype("timedelta64[D]")
    days_ext = start + np.arange(T + 400).astype("timedelta64[D]")
    prime = {int(d[:4]): np.datetime64(d, "D") for d in cfg.prime_day}
    events = cal.events_frame(start, end + np.timedelta64(365, "D"), prime)
    uplift = cal.demand_uplift(days, events)

    sp = sku_params(cfg, T)
    n = len(sp)
    skus = np.array([f"SKU-{i + 1:04d}" if n < 10_000 else f"SKU-{i + 1:05d}" for i in range(n)], dtype=object)
    titles, brands, keywords = _titles_and_brands(sp, cfg.seed)
    price = _price_matrix(sp, T, cfg.seed)
    lam = expected_demand(sp, days, uplift, price)
    lat = latent_demand(sp, lam, cfg.seed)
    lt = _supplier_tables(sp)
    sim = _simulate(sp, lat, lam, T, days_ext, lt, cfg.seed)
    del lat
    launch = sp["launch_idx"].to_numpy()
    ser = _split_channels(sp, sim, cfg.seed)

    tables: dict[str, pd.DataFrame] = {}
    truth: dict[str, pd.DataFrame] = {}
    tables["sales"], truth["demand"] = _sales_tables(sp, ser, sim, lam, price, skus, start, T, cfg.seed)
    tables["products"], sup_sku = _products_table(sp, skus, titles, brands, start, cfg.seed)
    irng = _rng(cfg.seed, "inventory")  # one stream: location split first, then reserved units
    prim, loc_share = _location_split(n, irng)
    tables["shipments"], truth["shipments"] = _shipment_tables(sp, sim["orders"], skus, prim, start, T)
    truth["lead_time"] = lt.drop(columns="supplier_idx")
    inv = _inventory_snapshots(sim["on_hand"], launch, prim, loc_share, skus, start, T, irng)
    # supplier feed (dropship suppliers) and its inventory rows
    feed, feed_inv, truth["supplier_feed"] = _supplier_feed(sp, skus, sup_sku, _SUPPLIER_NAMES, end, cfg.seed)
    if len(feed_inv):
        inv = pd.concat([inv, feed_inv], ignore_index=True)
    tables["inventory"] = inv.sort_values(["as_of", "sku", "location"], kind="stable").reset_index(drop=True)
    tables["supplier_feed"] = feed
    tables["ads"], truth["ad_params"] = _ads(sp, skus, sim, price, uplift, start, T, cfg)
    tables["offers"], hij_rate = _offers(sp, skus, sim, price, ser, start, T, cfg.seed)
    tables["keyword_ranks"], truth["keywords"] = _keyword_ranks(sp, skus, keywords, sim, start, T, cfg.seed)
    present = sorted(set(ser["channel"].tolist()))
    tables["account_health"] = _account_health(present, start, T, cfg.seed)
    tables["returns"] = _returns(sp, skus, ser, start, T, cfg.seed)
    tables["events"] = events
    truth["sku_params"] = _sku_truth(sp, skus, ser, sim, tables["products"]["launch_date"], hij_rate, T)
    _in_schema_order(tables, truth)
    return tables, truth


def _plain_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Categoricals (used while building) become plain object strings, as the loader returns them.

    Cheap: every cell points at one of a few shared string objects.
    """
    out = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = pd.Series(np.asarray(s.cat.categories, dtype=object)[s.cat.codes.to_numpy()], index=df.index, name=c)
        out[c] = s
    return pd.DataFrame(out, index=df.index)


def _supplier_feed(sp, skus, sup_sku, sup_names, end, seed):
    """Every-4-hours stock readings for up to 3 dropship suppliers (2-3 SKUs each) over 14 days.

    Planted: the second supplier's feed stops 72 h before the end (stale); one SKU of the first
    supplier is listed (inventory on_hand) above its latest supplier_stock (oversell); one SKU of the
    third supplier changes supplier_sku 5 days before the end (code change).
    """
    rng = _rng(seed, "feed")
    sup = sp["supplier"].to_numpy()
    cands = [s for s in sorted(set(sup.tolist())) if SUPPLIERS[s][1] != "US"][:3]
    cols = ["timestamp", "sku", "supplier", "supplier_stock", "supplier_sku"]
    if not cands:
        return pd.DataFrame(columns=cols), pd.DataFrame(), pd.DataFrame()
    end_ts = np.datetime64(str(end), "h") + np.timedelta64(20, "h")
    ts = end_ts - np.arange(14 * 6)[::-1].astype("timedelta64[h]") * 4
    frames, inv_rows, truth_rows = [], [], []
    for k, s in enumerate(cands):
        its = np.flatnonzero(sup == s)[:3]
        for j, i in enumerate(its):
            daily = max(float(sp["base"].iloc[i]), 0.5)
            steps = -rng.poisson(daily / 6, len(ts))
            steps[rng.random(len(ts)) < 0.03] += rng.integers(200, 500)
            stock = np.maximum(rng.integers(150, 600) + np.cumsum(steps), 0)
            code = np.full(len(ts), sup_sku[i], dtype=object)
            issue = ""
            keep = np.ones(len(ts), dtype=bool)
            if k == 1:
                keep = ts <= end_ts - np.timedelta64(72 + 20, "h")
                issue = "stale feed"
            listed = int(stock[keep][-1])
            if k == 0 and j == 0:
                stock[-3:] = [9, 6, 4]
                listed = 60
                issue = "oversell"
            prod_code = sup_sku[i]
            if k == 2 and j == 0:
                code[ts > end_ts - np.timedelta64(5 * 24, "h")] = f"{sup_sku[i]}-B"
                issue = "supplier sku changed"
            frames.append(pd.DataFrame({"timestamp": ts[keep].astype("datetime64[ns]"), "sku": skus[i],
                                        "supplier": sup_names[s], "supplier_stock": stock[keep].astype(np.int64),
                                        "supplier_sku": code[keep]}))
            inv_rows.append((np.datetime64(end, "ns"), skus[i], DROPSHIP_LOCATION, listed, 0))
            truth_rows.append((skus[i], sup_names[s], issue, listed, int(stock[keep][-1]), prod_code))
    feed = pd.concat(frames, ignore_index=True).sort_values(["timestamp", "sku"], kind="stable").reset_index(drop=True)
    inv = pd.DataFrame(inv_rows, columns=["as_of", "sku", "location", "on_hand", "reserved"])
    inv["as_of"] = inv["as_of"].astype("datetime64[ns]")
    tr = pd.DataFrame(truth_rows, columns=["sku", "supplier", "planted_issue", "listed_on_hand",
                                           "latest_supplier_stock", "product_supplier_sku"])
    return feed, inv, tr


def _ads(sp, skus, sim, price, uplift, start, T, cfg):
    """Campaign x SKU x day rows over the last ``ads_days`` days.

    Expected ad sales (USD/day) = a·(1 − exp(−spend/b))·(1 + event uplift); orders ~ Poisson(that / price).
    """
    rng = _rng(cfg.seed, "ads")
    n = len(sp)
    W = min(T, cfg.ads_days)
    t0 = T - W
    adv = np.flatnonzero(rng.random(n) < 0.6)
    k = rng.integers(1, 5, len(adv))
    c_sku = np.repeat(adv, k)
    C = len(c_sku)
    c_no = np.arange(C) - np.repeat(np.cumsum(k) - k, k)
    c_type = rng.choice(3, C, p=[0.65, 0.2, 0.15])
    c_type[c_no == 0] = 0  # the first campaign of every advertised SKU is Sponsored Products
    # TARGETINGS = auto, broad, phrase, exact, product, brand
    targ_code = np.where(c_type == 0, rng.integers(0, 4, C),
                         np.where(c_type == 1, np.where(rng.random(C) < 0.5, 5, 3), 4))
    targeting = np.array(TARGETINGS, dtype=object)[targ_code]
    base = sp["base"].to_numpy()[c_sku]
    pr = sp["price"].to_numpy()[c_sku]
    a = 0.35 * base * pr / np.repeat(k, k) * rng.uniform(0.5, 1.5, C)
    acos = rng.uniform(0.15, 0.45, C)
    b = np.maximum(a * acos, 1.0)
    budget0 = b * rng.uniform(0.7, 1.6, C)
    bid = np.round(np.clip(pr * rng.uniform(0.02, 0.06, C), 0.2, 4.0), 2)
    names = np.array([f"{skus[s]}-{['SP', 'SB', 'SD'][ty]}-{tg}-{j + 1}" for s, ty, tg, j in
                      zip(c_sku, c_type, targeting, c_no)], dtype=object)
    if C == 0:
        cols = [c.name for c in TABLES["ads"].columns]
        return pd.DataFrame(columns=cols), pd.DataFrame()

    # Matrices are campaign x day so that selecting live cells yields campaign-major rows directly.
    # budget regimes: multiplier lognormal(0, 0.5) changing about every 3 weeks
    change = rng.random((C, W)) < 1 / 21
    regime = np.cumsum(change, axis=1)
    del change
    mult = rng.lognormal(0, 0.5, (C, int(regime.max()) + 1))
    mult[:, 0] = 1.0
    budget = np.round(budget0[:, None] * np.take_along_axis(mult, regime, axis=1), 2)
    del regime, mult
    instock = sim["in_stock"][t0:, c_sku].T
    spend = budget * rng.uniform(0.55, 1.0, (C, W))
    spend[(c_type == 0)[:, None] & ~instock] *= 0.02  # SP pauses itself when the listing cannot sell
    spend = np.round(spend, 2)
    clicks = np.floor(spend / (bid[:, None] * rng.uniform(0.7, 1.0, (C, W)))).astype(np.int64)
    impressions = clicks + rng.poisson(clicks * (1 / 0.004 - 1) + 1e-9)
    p_t = price[t0:, c_sku].T
    exp_sales = a[:, None] * (1 - np.exp(-spend / b[:, None])) * (1 + uplift[None, t0:])
    orders = np.minimum(rng.poisson(exp_sales / p_t), clicks)
    del exp_sales
    orders[~instock] = 0
    # ad-attributed orders cannot exceed the SKU's units that day (campaigns of a SKU are contiguous)
    first = np.cumsum(k) - k
    tot = np.add.reduceat(orders, first, axis=0)  # (advertised SKUs, W)
    u_adv = sim["units"][t0:, adv].T
    scale = np.where(tot > u_adv, u_adv / np.maximum(tot, 1), 1.0)
    orders = np.floor(orders * np.repeat(scale, k, axis=0)).astype(np.int64)
    del tot, u_adv, scale, instock
    live = np.arange(t0, T)[None, :] >= sp["launch_idx"].to_numpy()[c_sku][:, None]
    cc = np.repeat(np.arange(C), live.sum(1))
    tt = np.nonzero(live)[1]
    ad_orders = orders[live]
    ads = pd.DataFrame({
        "date": _dates(start, t0 + tt), "sku": _cat(c_sku[cc], skus),
        "channel": _cat(np.zeros(len(cc), dtype=np.int64), ["amazon_us"]),
        "campaign": _cat(cc, names), "ad_type": _cat(c_type[cc], ["SP", "SB", "SD"]),
        "impressions": impressions[live], "clicks": clicks[live], "spend": spend[live],
        "ad_orders": ad_orders, "ad_sales": np.round(ad_orders * p_t[live], 2),
        "daily_budget": budget[live], "targeting": _cat(targ_code[cc], TARGETINGS), "bid": bid[cc]})
    params = pd.DataFrame({"campaign": names, "sku": skus[c_sku], "ad_type": np.array(["SP", "SB", "SD"])[c_type],
                           "targeting": targeting, "a_max_sales_usd": np.round(a, 4),
                           "b_spend_scale_usd": np.round(b, 4), "base_budget_usd": np.round(budget0, 2),
                           "bid": bid})
    return ads, params


def _offers(sp, skus, sim, price, ser, start, T, seed):
    """Listing snapshots (weekly over history, daily over the last 28 days) per SKU x channel."""
    rng = _rng(seed, "offers")
    snaps = _snapshot_days(T)
    n = len(sp)
    launch = sp["launch_idx"].to_numpy()
    series_order = np.lexsort((ser["channel"], ser["sku"]))
    tt, ss = np.meshgrid(snaps, series_order, indexing="ij")  # rows sorted by date, sku, channel
    tt, ss = tt.ravel(), ss.ravel()
    i = ser["sku"][ss]
    ch = ser["channel"][ss]
    keep = tt >= launch[i]
    tt, ss, i, ch = tt[keep], ss[keep], i[keep], ch[keep]
    m = len(tt)
    on_amazon = ch == 0
    hij = sim["hijackers"][tt, i].astype(np.int64) * on_amazon
    instock = sim["in_stock"][tt, i]
    ours = price[tt, i]
    base_sellers = np.where(on_amazon, sp["seller_base"].to_numpy()[i], 1)
    median = np.round(sp["price"].to_numpy()[i] * sp["market_pos"].to_numpy()[i] * rng.uniform(0.98, 1.02, m), 2)
    seller_count = base_sellers + hij
    u = rng.random(m)
    winner = np.where(hij > 0, np.where(u < 0.8, "other", np.where(instock, "self", "other")),
                      np.where(instock, np.where((base_sellers > 1) & (u < 0.1), "other", "self"),
                               np.where(base_sellers > 1, "other", "none")))
    hijacker_price = np.round(ours * rng.uniform(0.85, 0.95, m), 2)
    comp_price = np.round(median * rng.uniform(0.88, 0.98, m), 2)
    lowest = np.where(hij > 0, np.minimum(hijacker_price, comp_price), comp_price)
    lowest = np.where(seller_count > 1, lowest, np.nan)
    other_price = np.where(hij > 0, hijacker_price, comp_price)
    bb = np.where(winner == "self", ours, np.where(winner == "other", other_price, np.nan))
    offers = pd.DataFrame({"date": _dates(start, tt), "sku": _cat(i, skus), "channel": _cat(ch, CHANNELS),
                           "seller_count": seller_count, "buybox_winner": pd.Categorical(winner, BUYBOX),
                           "buybox_price": bb, "lowest_competitor_price": lowest, "market_median_price": median})
    live = np.arange(T)[:, None] >= launch[None, :]
    hij_rate = ((sim["hijackers"] > 0) & live).sum(0) / np.maximum(live.sum(0), 1)
    return offers, hij_rate


def _keyword_ranks(sp, skus, keywords, sim, start, T, seed):
    """organic_rank = round(r0 · exp(shift + ε)), ε ~ N(0, 0.12); empty when beyond 300."""
    rng = _rng(seed, "ranks")
    snaps = _snapshot_days(T)
    launch = sp["launch_idx"].to_numpy()
    k_sku = np.concatenate([np.full(len(kw), i) for i, kw in enumerate(keywords)]).astype(np.int64)
    k_kw = np.array([w for kw in keywords for w in kw], dtype=object)
    kw_names, kw_code = np.unique(k_kw, return_inverse=True)
    k_pos = np.concatenate([np.arange(len(kw)) for kw in keywords]).astype(np.int64)
    K = len(k_sku)
    r0 = np.where(k_pos == 0, rng.uniform(8, 80, K), np.where(k_pos == 1, rng.uniform(3, 30, K), rng.uniform(1, 12, K)))
    tt, kk = np.meshgrid(snaps, np.arange(K), indexing="ij")
    tt, kk = tt.ravel(), kk.ravel()
    keep = tt >= launch[k_sku[kk]]
    tt, kk = tt[keep], kk[keep]
    shift = sim["shift"][tt, k_sku[kk]]
    rank = np.maximum(1, np.round(r0[kk] * np.exp(shift + rng.normal(0, 0.12, len(tt)))))
    rank = pd.array(np.where(rank > 300, np.nan, rank), dtype="Int64")
    # rows come out sorted by date, sku, keyword: tt is date-major, keywords are sorted within a SKU
    kr = pd.DataFrame({"date": _dates(start, tt), "sku": _cat(k_sku[kk], skus),
                       "keyword": _cat(kw_code[kk], kw_names), "organic_rank": rank})
    truth = pd.DataFrame({"sku": skus[k_sku], "keyword": k_kw, "base_rank": np.round(r0, 2)})
    return kr, truth


def _account_health(channels, start, T, seed):
    """Weekly per channel; rare breaches; the last amazon_us week has ODR 0.8% (target < 0.5%)."""
    rng = _rng(seed, "health")
    weeks = np.arange(T - 1, -1, -7)[::-1]
    frames = []
    for c in channels:
        m = len(weeks)
        odr = np.clip(rng.normal(0.0025, 0.0008, m), 0.0002, None)
        odr = np.where(rng.random(m) < 0.04, rng.uniform(0.006, 0.012, m), odr)
        cancel = np.clip(rng.normal(0.004, 0.0015, m), 0, None)
        cancel = np.where(rng.random(m) < 0.03, rng.uniform(0.011, 0.02, m), cancel)
        late = np.clip(rng.normal(0.009, 0.003, m), 0, None)
        late = np.where(rng.random(m) < 0.03, rng.uniform(0.022, 0.04, m), late)
        rating = np.clip(rng.normal(4.82, 0.04, m), 0, 5)
        rating = np.where(rng.random(m) < 0.03, rng.uniform(4.5, 4.68, m), rating)
        # the final week: only the planted amazon_us ODR breach
        odr[-1] = ODR_FINAL_BREACH if c == 0 else min(odr[-1], 0.003)
        cancel[-1], late[-1], rating[-1] = min(cancel[-1], 0.006), min(late[-1], 0.012), max(rating[-1], 4.75)
        frames.append(pd.DataFrame({"date": _dates(start, weeks), "channel": CHANNELS[c], "odr": np.round(odr, 4),
                                    "cancel_rate": np.round(cancel, 4), "late_shipment_rate": np.round(late, 4),
                                    "rating": np.round(rating, 2)}))
    return pd.concat(frames, ignore_index=True).sort_values(["date", "channel"], kind="stable").reset_index(drop=True)


def _returns(sp, skus, ser, start, T, seed):
    """Returned units ~ Binomial(units sold, return_rate), dated 2 + Geometric(0.12) days after the sale.

    Reasons ~ Multinomial(0.5·category weights + 0.5·SKU's dominant reason).
    """
    rng = _rng(seed, "returns")
    u = ser["units"]
    rate = sp["return_rate"].to_numpy()[ser["sku"]]
    r = rng.binomial(u, rate[None, :])
    tt, ss = np.nonzero(r)
    cnt = r[tt, ss]
    i = ser["sku"][ss]
    w = _category_values("reasons", sp["cat"].to_numpy(), dtype=float)
    w = w / w.sum(1, keepdims=True)
    dom = np.zeros_like(w)
    dom[np.arange(len(sp)), sp["dominant_reason"].to_numpy()] = 1.0
    pv = 0.5 * w + 0.5 * dom
    split = rng.multinomial(cnt, pv[i])  # (m, reasons)
    lag = 2 + rng.geometric(0.12, len(tt)) - 1
    rt = tt + lag
    mm, rr = np.nonzero(split)
    day = rt[mm]
    keep = day <= T - 1
    mm, rr, day = mm[keep], rr[keep], day[keep]
    r_sku, r_ch = i[mm], ser["channel"][ss[mm]]
    reason_names = sorted(RETURN_REASONS)
    r_code = np.argsort(np.argsort(RETURN_REASONS))[rr]  # reason code in alphabetical order
    order = np.lexsort((r_code, r_ch, r_sku, day))
    return pd.DataFrame({"date": _dates(start, day[order]), "sku": _cat(r_sku[order], skus),
                         "channel": _cat(r_ch[order], CHANNELS), "units": split[mm, rr].astype(np.int64)[order],
                         "reason": _cat(r_code[order], reason_names)})


# --------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------

def _to_arrow(df: pd.DataFrame, for_csv: bool, date_cols: set[str], ts_cols: set[str]):
    import pyarrow as pa

    cols = {}
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            arr = pa.array(np.asarray(s.cat.categories, dtype=object)).take(pa.array(s.cat.codes.to_numpy()))
        elif pd.api.types.is_datetime64_any_dtype(s):
            arr = pa.array(s.to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"), from_pandas=True)
            if c in date_cols:
                arr = arr.cast(pa.date32()) if for_csv else arr
            elif c in ts_cols and for_csv:
                arr = pa.array(s.dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy(dtype=object), type=pa.string())
        else:
            arr = pa.array(s, from_pandas=True)
        cols[c] = arr
    return pa.table(cols)


def _write_table(df: pd.DataFrame, path: Path, file_format: str, schema_table=None) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    date_cols = {c.name for c in schema_table.columns if c.kind == "date"} if schema_table else \
        {c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])}
    ts_cols = {c.name for c in schema_table.columns if c.kind == "timestamp"} if schema_table else set()
    with atomic_path(path) as tmp:
        # In chunks of a fixed size: bounded memory for multi-million-row tables, same bytes every run.
        writer = None
        for lo in range(0, max(len(df), 1), WRITE_CHUNK_ROWS):
            tbl = _to_arrow(df.iloc[lo:lo + WRITE_CHUNK_ROWS], file_format == "csv", date_cols, ts_cols)
            if writer is None:
                schema = tbl.schema
                writer = (pacsv.CSVWriter(str(tmp), schema, write_options=pacsv.WriteOptions(quoting_style="needed"))
                          if file_format == "csv" else pq.ParquetWriter(str(tmp), schema))
            writer.write_table(tbl.cast(schema))
        writer.close()


def write_sample_dataset(out_dir: Path, cfg: GeneratorConfig | None = None, file_format: str = "csv",
                         include_truth: bool = True) -> Path:
    """Write every table as NAME.csv / NAME.parquet (atomically) and the truth under out_dir/truth/."""
    if file_format not in ("csv", "parquet"):
        raise InputError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")
    cfg = cfg or GeneratorConfig()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a directory")
    tables, truth = generate_dataset(cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    other = "parquet" if file_format == "csv" else "csv"
    for name, df in tables.items():
        _write_table(df, out_dir / f"{name}.{file_format}", file_format, TABLES[name])
        stale = out_dir / f"{name}.{other}"
        if stale.exists():  # the loader would otherwise see two versions of the table
            stale.unlink()
    if include_truth:
        tdir = out_dir / "truth"
        tdir.mkdir(exist_ok=True)
        for name, df in truth.items():
            _write_table(df, tdir / f"{name}.{file_format}", file_format)
    return out_dir
