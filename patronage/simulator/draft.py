"""What every part of the simulated company shares: constants, the spec, small draw helpers,
and the ``Draft`` that carries the random streams and the tables drawn so far from one
dataset's module to the next (always in the same order, so the same seed gives the same files)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd

BRAND_HANDLE = "acme_support"
PLATFORMS = ("twitter", "instagram", "forum")
ACCOUNT_OWNERS = tuple(f"owner-{i:02d}" for i in range(1, 9))
# Assigned US area codes, so that generated numbers are valid and normalise to E.164.
AREA_CODES = (206, 212, 305, 312, 404, 415, 503, 512, 602, 617, 702, 713, 720, 786, 919)

# Each concept is one idea; its phrasings are how different people ask for it.
IDEA_CONCEPTS: dict[str, list[str]] = {
    "dark-mode": [
        "Add a dark mode to the app",
        "Please give us a dark mode theme in the app",
        "Dark theme for the mobile app would be great",
        "App needs a dark mode for night use",
    ],
    "gift-cards": [
        "Sell digital gift cards",
        "Please offer gift cards I can send by email",
        "Digital gift cards for birthdays",
        "Gift card option at checkout please",
    ],
    "express-shipping": [
        "Offer express next day shipping",
        "Next-day express delivery option please",
        "I would pay more for express shipping next day",
    ],
    "loyalty-points": [
        "Start a loyalty points program",
        "Reward points for repeat purchases",
        "Loyalty program with points per order",
        "Give loyal customers reward points",
    ],
    "order-tracking": [
        "Live order tracking on a map",
        "Let me track my order live",
        "Real-time order tracking in the app",
    ],
    "eco-packaging": [
        "Use recyclable packaging",
        "Plastic-free recyclable packaging please",
        "Switch to eco friendly packaging",
        "Less plastic in the packaging, more recyclable boxes",
    ],
    "subscription": [
        "Subscribe and save on regular orders",
        "A subscription for monthly refills",
        "Monthly subscription with a discount",
    ],
    "pickup-points": [
        "Pick up orders at a local store",
        "Click and collect pickup points",
        "Let me collect my order at a pickup point",
    ],
    "size-guide": [
        "Better size guide with measurements",
        "Add a detailed size guide",
        "Size guide with real measurements per product",
    ],
    "wishlist-sharing": [
        "Share my wishlist with friends",
        "Shareable wishlists for family",
        "Let me send my wishlist link to friends",
    ],
}


@dataclass(frozen=True)
class SampleSpec:
    """What to generate.

    Attributes:
        customers: Number of CRM customers.
        seed: Seed of every random draw: the same spec gives the same files.
        as_of: Cut-off date of the exports; orders after it exist only in ground truth.
        history_days: How far back signups and orders go.
        holdout_days: Days after ``as_of`` simulated for ground truth (who really leaves).
    """

    customers: int = 600
    seed: int = 7
    as_of: date = date(2026, 10, 31)
    history_days: int = 730
    holdout_days: int = 180


def name_pools(seed: int) -> tuple[list[str], list[str], list[str]]:
    from faker import Faker

    faker = Faker("en_US")
    faker.seed_instance(seed)
    first = sorted({faker.first_name() for _ in range(600)})
    last = sorted({faker.last_name() for _ in range(900)})
    cities = sorted({faker.city() for _ in range(120)})
    return first, last, cities


def simulate_purchases(
    rng: np.random.Generator, birth: np.ndarray, end: float, lam: np.ndarray, p_drop: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised BG/NBD draws: all customers advance one purchase per round.

    Returns the customer index and day of every purchase (the first at birth), and each
    customer's dropout day (``inf`` while still alive at ``end``).
    """
    n = len(birth)
    cust_idx = [np.arange(n)]
    days = [birth.copy()]
    current = birth.copy()
    alive = np.ones(n, dtype=bool)
    dropout = np.full(n, np.inf)
    while alive.any():
        idx = np.flatnonzero(alive)
        # Dropout happens right after a purchase; the customer is then silent for good.
        drops = rng.random(len(idx)) < p_drop[idx]
        dropped = idx[drops]
        dropout[dropped] = current[dropped] + rng.exponential(1.0 / lam[dropped])
        alive[dropped] = False
        idx = idx[~drops]
        nxt = current[idx] + rng.exponential(1.0 / lam[idx])
        beyond = nxt > end
        alive[idx[beyond]] = False
        idx, nxt = idx[~beyond], nxt[~beyond]
        current[idx] = nxt
        cust_idx.append(idx)
        days.append(nxt)
    return np.concatenate(cust_idx), np.concatenate(days), dropout


def serial_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + 1..n zero-padded to ``width`` digits (``C000001``…), built as arrays."""
    numbers = np.strings.zfill(np.arange(1, n + 1).astype("U"), width)
    return np.strings.add(prefix, numbers)


def serial_id_column(prefix: str, n: int, width: int) -> pd.Series:
    """``serial_ids`` as an Arrow-backed text column, built by Arrow (8 M order ids in 0.5 s;
    numpy's string functions took 5 s)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "").to_pandas()


def take_text(values: np.ndarray, positions: np.ndarray) -> pd.Series:
    """``values[positions]`` as an Arrow-backed text column, taken by Arrow (a million
    customer ids onto 8 M orders: numpy's strings then pandas' conversion took 4 s)."""
    import pyarrow as pa

    return pa.array(values).take(pa.array(positions)).to_pandas()


def cumulative(p: Sequence[float]) -> np.ndarray:
    """``p`` as the cumulative table ``draw_one`` takes (normalised as ``Generator.choice`` does)."""
    cdf = np.asarray(p, dtype=float).cumsum()
    cdf /= cdf[-1]
    return cdf


def draw_one(rng: np.random.Generator, options: Sequence, cdf: np.ndarray | None = None):
    """One draw of ``rng.choice(options, p=p)`` (``cdf = cumulative(p)``), with the very same
    random numbers, without ``choice``'s checks and conversions on every call (most of the
    generator's time went there)."""
    if cdf is None:
        return options[int(rng.integers(0, len(options)))]
    return options[int(cdf.searchsorted(rng.random(), side="right"))]


class BufferedDraws:
    """Uniform draws from ``rng`` handed out one at a time from blocks of ``block``: one call of
    ``Generator.integers`` costs about 2 µs of argument checks, and the phrasebook makes a
    dozen per message. The same seed gives the same draws; they are not ``rng``'s own
    ``integers`` sequence.

    Args:
        rng: Where the blocks come from.
        block: Draws per block.
    """

    def __init__(self, rng: np.random.Generator, block: int = 8192) -> None:
        self._rng = rng
        self._block = block
        self._buffer: list[float] = []
        self._next = 0

    def random(self) -> float:
        """A float in [0, 1), as ``Generator.random()``."""
        i = self._next
        if i == len(self._buffer):
            self._buffer = self._rng.random(self._block).tolist()
            i = 0
        self._next = i + 1
        return self._buffer[i]

    def integers(self, low: int, high: int | None = None) -> int:
        """An int in [low, high) (or [0, low)), as ``Generator.integers`` with one or two
        bounds."""
        if high is None:
            low, high = 0, low
        return low + int(self.random() * (high - low))


def uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """``rng.uniform(low, high)``'s very number (numpy computes ``low + (high - low) * u`` from
    the next double ``u``), without its argument checks on every call (2.3 µs a call)."""
    low = float(low)
    return low + (float(high) - low) * rng.random()


def handle_for(first: str, last: str, rng: np.random.Generator) -> str:
    """A social handle made from a person's name (``handles_for`` of one name)."""
    return handles_for(np.array([first]), np.array([last]), rng)[0]


def handles_for(firsts: np.ndarray, lasts: np.ndarray, rng: np.random.Generator) -> list[str]:
    """A social handle per name pair (``ann_b42``, ``abrown``, ``brown.ann3``), from arrays of
    draws: one name at a time took seconds at a million people."""
    style = rng.integers(0, 3, len(firsts))
    two_digits = rng.integers(10, 99, len(firsts))
    one_digit = rng.integers(1, 9, len(firsts))
    handles = []
    for first, last, s, dd, d1 in zip(
        firsts.tolist(),
        lasts.tolist(),
        style.tolist(),
        two_digits.tolist(),
        one_digit.tolist(),
        strict=True,
    ):
        if s == 0:
            handles.append(f"{first.lower()}_{last[0].lower()}{dd}")
        elif s == 1:
            handles.append(f"{first[0].lower()}{last.lower()}")
        else:
            handles.append(f"{last.lower()}.{first.lower()}{d1}")
    return handles


def email_variant(email: str, rng: np.random.Generator) -> str:
    """How the same person's address shows up in another system."""
    local, domain = email.split("@")
    roll = rng.random()
    if roll < 0.15:
        return email.upper()
    if roll < 0.3:
        return f"{local}+support@{domain}"
    if roll < 0.4 and domain == "gmail.com":
        return f"{local.replace('.', '')}@{domain}"
    return email


def phone_variant(phone: str, rng: np.random.Generator) -> str:
    """How a number is typed into a support form: with or without country code and punctuation."""
    digits = "".join(ch for ch in phone if ch.isdigit())[-10:]
    style = rng.integers(0, 4)
    if style == 0:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if style == 1:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    if style == 2:
        return f"+1{digits}"
    return f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"


class Draft(SimpleNamespace):
    """The company while it is drawn: random streams (``rng``, ``profile_rng``, ``book``), the
    cut-off arithmetic, and every array and table the dataset modules have drawn so far."""
