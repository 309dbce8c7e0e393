"""Alarm journal derived from the true (pre-export) signals: limit crossings with hysteresis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from demo_plant.arrays import Array
from demo_plant.dynamics import Signal
from demo_plant.model import MeasurementPoint, Plant
from demo_plant.sampling import Samples
from demo_plant.timebase import Timebase

HEADER = ("timestamp", "tag", "alarm_type", "priority", "state", "message")
_WORDS = {"HIHI": "HIGH HIGH", "HI": "HIGH", "LO": "LOW", "LOLO": "LOW LOW", "DEV": "DEVIATION"}
_BASE_PRIORITY = {"HIHI": 1, "LOLO": 1, "HI": 2, "LO": 2, "DEV": 3}
_SMOOTH_S = 30
_ON_DELAY_S = 30
_OFF_DELAY_S = 180
_STATE_ORDER = {"RTN": 0, "ACTIVE": 1, "ACK": 2}


@dataclass(frozen=True)
class AlarmEvent:
    ts: int
    tag: str
    alarm_type: str
    priority: int
    state: str
    message: str


def _moving_average(x: Array, w: int) -> Array:
    if w <= 1:
        return x
    c = np.concatenate([[0.0], np.cumsum(x)])
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - w, 0)
    out: Array = (c[idx] - c[lo]) / (idx - lo)
    return out


def _hysteresis(on: Array, off: Array) -> Array:
    ev = np.where(on, 1, np.where(off, -1, 0))
    idx = np.where(ev != 0, np.arange(len(ev)), -1)
    idx = np.maximum.accumulate(idx)
    state: Array = (idx >= 0) & (ev[np.maximum(idx, 0)] == 1)
    return state


def _runs(state: Array, ts: Array) -> tuple[Array, Array]:
    """(start, end) sample indices of alarm episodes; episodes closer than the off-delay are merged."""
    d = np.diff(np.concatenate([[0], state.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    if len(starts) > 1:
        split = ts[starts[1:]] - ts[np.minimum(ends[:-1], len(ts) - 1)] >= _OFF_DELAY_S
        starts = starts[np.concatenate([[True], split])]
        ends = ends[np.concatenate([split, [True]])]
    return starts, ends


def _priority(p: MeasurementPoint, alarm_type: str) -> int:
    prio = _BASE_PRIORITY[alarm_type] + (1 if p.kind == "LEVEL" else 0)
    return max(1, prio - 1) if p.safety_related else min(prio, 4)


def detect(
    plant: Plant, samples: Samples, signals: dict[str, Signal], *, grid_t: Array, tb: Timebase, rng: np.random.Generator
) -> list[AlarmEvent]:
    """ACTIVE / ACK / RTN events for every limit a tag crosses (smoothed 30 s, 30 s on-delay)."""
    events: list[AlarmEvent] = []
    for i, p in enumerate(plant.points):
        a = p.alarms
        blk = samples.block(i)
        ts, x = samples.ts[blk], samples.value[blk]
        if len(ts) < 2:
            continue
        w = max(1, round(_SMOOTH_S / int(samples.period[i])))
        xs = _moving_average(x, w)
        checks: list[tuple[str, float, Array, bool]] = []
        for name, lim, high in (
            ("HIHI", a.hihi, True),
            ("HI", a.hi, True),
            ("LO", a.lo, False),
            ("LOLO", a.lolo, False),
        ):
            if lim is not None:
                checks.append((name, lim, xs, high))
        sp = signals[p.tag].setpoint
        if a.deviation is not None and sp is not None:
            sps = _moving_average(np.interp(ts.astype(float), grid_t.astype(float), sp), w)
            checks.append(("DEV", a.deviation, np.abs(xs - sps), True))
        for name, lim, y, high in checks:
            on, off = (y >= lim, y < lim - a.deadband) if high else (y <= lim, y > lim + a.deadband)
            starts, ends = _runs(_hysteresis(on, off), ts)
            for s, e in zip(starts, ends, strict=True):
                t_end = int(ts[e]) if e < len(ts) else tb.t1
                if t_end - int(ts[s]) < _ON_DELAY_S:
                    continue
                events.extend(
                    _events(
                        p,
                        name,
                        lim=lim,
                        value=float(x[s]),
                        t_on=int(ts[s]),
                        t_off=int(ts[e]) if e < len(ts) else None,
                        tb=tb,
                        rng=rng,
                    )
                )
    events.sort(key=lambda ev: (ev.ts, ev.tag, ev.alarm_type, _STATE_ORDER[ev.state]))
    return events


def _events(
    p: MeasurementPoint,
    alarm_type: str,
    *,
    lim: float,
    value: float,
    t_on: int,
    t_off: int | None,
    tb: Timebase,
    rng: np.random.Generator,
) -> list[AlarmEvent]:
    prio = _priority(p, alarm_type)
    unit = p.unit
    shown = f"{value:.{p.decimals}f} {unit}"
    what = f"{p.name} {_WORDS[alarm_type]}: {shown} (limit {lim:g} {unit})"
    if alarm_type == "DEV":
        what = f"{p.name} {_WORDS[alarm_type]} from setpoint: {shown} (limit +/-{lim:g} {unit})"
    out = [AlarmEvent(t_on, p.tag, alarm_type, prio, "ACTIVE", what)]
    t_ack = t_on + 15 + int(rng.exponential(150.0))
    if t_ack < tb.t1:
        out.append(AlarmEvent(t_ack, p.tag, alarm_type, prio, "ACK", f"{what} acknowledged"))
    if t_off is not None:
        back = f"{p.name} {_WORDS[alarm_type]} returned to normal"
        out.append(AlarmEvent(t_off, p.tag, alarm_type, prio, "RTN", back))
    return out


def write_alarms(events: list[AlarmEvent], tb: Timebase, out_dir: Path) -> list[Path]:
    """One file per local day, `alarms_YYYY-MM-DD.csv`, naive local timestamps."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ts = np.array([e.ts for e in events], dtype=np.int64)
    stamps = tb.format_local(ts) if len(ts) else pl.Series([], dtype=pl.String)
    frame = pl.DataFrame(
        {
            "timestamp": stamps,
            "tag": [e.tag for e in events],
            "alarm_type": [e.alarm_type for e in events],
            "priority": pl.Series([e.priority for e in events], dtype=pl.Int64),
            "state": [e.state for e in events],
            "message": [e.message for e in events],
        },
        schema={
            "timestamp": pl.String,
            "tag": pl.String,
            "alarm_type": pl.String,
            "priority": pl.Int64,
            "state": pl.String,
            "message": pl.String,
        },
    )
    paths = []
    for day in tb.local_days:
        mask = (ts >= day.start) & (ts < day.end)
        path = out_dir / f"alarms_{day.day.isoformat()}.csv"
        frame.filter(pl.Series(mask, dtype=pl.Boolean)).write_csv(path)
        paths.append(path)
    return paths
