"""The generated period: UTC instants, local days and local wall-clock formatting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from demo_plant.arrays import Array

_BUCKET_S = 900  # every time-zone transition in use falls on a quarter hour


@dataclass(frozen=True)
class LocalDay:
    """One local calendar day and its UTC bounds [start, end)."""

    day: dt.date
    start: int
    end: int


@dataclass(frozen=True)
class Timebase:
    """Period of `days` local days starting at local midnight of `start` in `timezone`.

    All instants are integer seconds since the Unix epoch (UTC).
    """

    start: dt.date
    days: int
    timezone: str
    t0: int = field(init=False)
    t1: int = field(init=False)
    local_days: tuple[LocalDay, ...] = field(init=False)
    _offsets: Array = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be >= 1")
        tz = ZoneInfo(self.timezone)
        bounds = [self.local_midnight(self.start + dt.timedelta(days=i), tz) for i in range(self.days + 1)]
        days = tuple(LocalDay(self.start + dt.timedelta(days=i), bounds[i], bounds[i + 1]) for i in range(self.days))
        t0, t1 = bounds[0], bounds[-1]
        n_buckets = (t1 - t0) // _BUCKET_S + 2
        offsets = np.array(
            [_utc_offset(t0 + b * _BUCKET_S, tz) for b in range(n_buckets)],
            dtype=np.int64,
        )
        object.__setattr__(self, "t0", t0)
        object.__setattr__(self, "t1", t1)
        object.__setattr__(self, "local_days", days)
        object.__setattr__(self, "_offsets", offsets)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def duration(self) -> int:
        return self.t1 - self.t0

    @staticmethod
    def local_midnight(day: dt.date, tz: ZoneInfo) -> int:
        return int(dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz).timestamp())

    def utc_offset(self, ts: Array) -> Array:
        """UTC offset in seconds for each instant (vectorised; instants must lie in the period)."""
        idx = np.clip((np.asarray(ts, dtype=np.int64) - self.t0) // _BUCKET_S, 0, len(self._offsets) - 1)
        return self._offsets[idx]

    def local_seconds(self, ts: Array) -> Array:
        """Naive local wall-clock time as seconds since 1970-01-01 00:00 (local)."""
        ts = np.asarray(ts, dtype=np.int64)
        return ts + self.utc_offset(ts)

    def local_hour(self, ts: Array) -> Array:
        """Fractional local hour of day in [0, 24)."""
        return (self.local_seconds(ts) % 86400) / 3600.0

    def at_local(self, day_index: int, hour: int, minute: int = 0, second: int = 0) -> int:
        """UTC instant of a local wall-clock time on the `day_index`-th day of the period."""
        day = dt.datetime.combine(self.start + dt.timedelta(days=day_index), dt.time(0, 0))
        local = day + dt.timedelta(hours=hour, minutes=minute, seconds=second)
        return int(local.replace(tzinfo=self.tz).timestamp())

    def day_index_of(self, ts: int) -> int:
        for i, d in enumerate(self.local_days):
            if d.start <= ts < d.end:
                return i
        raise ValueError(f"instant {ts} outside the period")

    def spring_forward_gaps(self) -> list[tuple[int, int, int]]:
        """Local wall-clock gaps inside the period as (utc_instant, local_gap_start, local_gap_end) seconds."""
        gaps = []
        for b in np.flatnonzero(np.diff(self._offsets) > 0):
            t = self.t0 + int(b + 1) * _BUCKET_S
            if self.t0 <= t < self.t1:
                before, after = int(self._offsets[b]), int(self._offsets[b + 1])
                gaps.append((t, t + before, t + after))
        return gaps

    def format_local(self, ts: Array, fmt: str = "%Y-%m-%d %H:%M:%S") -> pl.Series:
        """Format instants as naive local time strings (vectorised, via a table of distinct seconds)."""
        local = self.local_seconds(ts)
        if len(local) == 0:
            return pl.Series([], dtype=pl.String)
        lo = int(local.min())
        span = int(local.max()) - lo + 1
        if span <= 4 * len(local) + 1024:
            table = format_naive(np.arange(lo, lo + span, dtype=np.int64), fmt)
            return table.gather(pl.Series(local - lo))
        return format_naive(local, fmt)

    def iso_utc(self, ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def iso_local(self, ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, self.tz).isoformat(timespec="seconds")


def format_naive(seconds: Array, fmt: str) -> pl.Series:
    """Format naive seconds-since-epoch as strings."""
    millis = pl.Series(np.asarray(seconds, dtype=np.int64) * 1000)
    return millis.cast(pl.Datetime("ms")).dt.strftime(fmt)


def _utc_offset(ts: int, tz: ZoneInfo) -> int:
    off = dt.datetime.fromtimestamp(ts, tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0
