"""Sample every tag at its own period from the mechanism model: noise, bursts, clipping, quality codes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo_plant.arrays import Array
from demo_plant.dynamics import Signal
from demo_plant.model import Plant
from demo_plant.timebase import Timebase

GOOD, UNCERTAIN, BAD = 192, 64, 0
_SLOW_KINDS = ("TEMP", "LEVEL", "WINDING", "OIL_TEMP")


@dataclass(frozen=True)
class Samples:
    """All historian samples grouped by tag (tag i occupies rows start[i]:start[i+1], sorted by time)."""

    ts: Array
    tag: Array
    value: Array
    quality: Array
    start: Array
    period: Array

    def block(self, i: int) -> slice:
        return slice(int(self.start[i]), int(self.start[i + 1]))


def draw_periods(plant: Plant, lo: int, hi: int, rng: np.random.Generator) -> Array:
    """Per-tag sampling period in [lo, hi] s: most tags slow-ish, temperatures and levels slowest."""
    if not 1 <= lo <= hi:
        raise ValueError("need 1 <= min_period_s <= max_period_s")
    u = rng.random(len(plant.points))
    slow = np.array([any(k in p.kind for k in _SLOW_KINDS) for p in plant.points])
    u = np.where(slow, u**0.35, u**0.6)
    return (lo + np.floor((hi - lo + 1) * u)).clip(lo, hi).astype(np.int64)


def sample(
    plant: Plant,
    signals: dict[str, Signal],
    *,
    grid_t: Array,
    tb: Timebase,
    periods: Array,
    rng: np.random.Generator,
    no_bad_quality: frozenset[str],
    comm_loss_rate: float = 0.15,
) -> Samples:
    """Sample all tags; `no_bad_quality` tags get no comm-loss episodes (they carry other planted effects), the
    others one with probability `comm_loss_rate`.

    A burst lasts a few samples (a real vibration burst outlasts one sample), so it is process behaviour, not a
    single-sample spike of the sensor."""
    tgrid = grid_t.astype(float)
    parts_ts, parts_v, parts_q = [], [], []
    for i, p in enumerate(plant.points):
        per = int(periods[i])
        ts = np.arange(tb.t0 + int(rng.integers(per)), tb.t1, per, dtype=np.int64)
        sig = signals[p.tag]
        tf = ts.astype(float)
        value = np.interp(tf, tgrid, sig.mean)
        sd = np.interp(tf, tgrid, sig.noise) if isinstance(sig.noise, np.ndarray) else sig.noise
        value = value + sd * rng.standard_normal(len(ts))
        if sig.bursts is not None:
            hit = rng.random(len(ts)) < np.interp(tf, tgrid, sig.bursts)
            size = rng.exponential(sig.burst_size, len(ts)) * hit
            value = value + np.maximum.reduce([size, np.roll(size, 1), np.roll(size, 2)])
        value = np.clip(value, p.low, p.high)
        quality = np.where(rng.random(len(ts)) < 0.001, UNCERTAIN, GOOD).astype(np.uint8)
        if p.tag not in no_bad_quality and rng.random() < comm_loss_rate and len(ts) > 10:
            # communication loss: bad quality, last good value held
            n_bad = max(2, int(rng.uniform(120, 600) / per))
            first = int(rng.integers(1, max(2, len(ts) - n_bad)))
            value[first : first + n_bad] = value[first - 1]
            quality[first : first + n_bad] = BAD
        parts_ts.append(ts)
        parts_v.append(value)
        parts_q.append(quality)
    counts = np.array([len(x) for x in parts_ts], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(counts)])
    tag = np.repeat(np.arange(len(plant.points), dtype=np.int32), counts)
    return Samples(np.concatenate(parts_ts), tag, np.concatenate(parts_v), np.concatenate(parts_q), start, periods)
