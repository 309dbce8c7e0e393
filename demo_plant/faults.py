"""Injected equipment faults: when they happen and how strongly (envelopes on the time grid)."""

from __future__ import annotations

import dataclasses

import numpy as np

from demo_plant.arrays import Array
from demo_plant.model import Fault, Order, Plant
from demo_plant.timebase import Timebase

BEARING_PUMP = "P-101"
CAVITATION_PUMP = "P-103"
OVERLOAD_MOTOR = "M-201"
OVERLOAD_LINE = "L-21"
MAINTENANCE_STOP_S = 2 * 3600

# measuring points the faults need, whatever the tag budget
REQUIRED_KINDS: dict[str, tuple[str, ...]] = {
    BEARING_PUMP: ("VIB_RMS", "BRG_TEMP_DE"),
    CAVITATION_PUMP: ("FLOW", "SUCT_PRESS", "VIB_RMS"),
    OVERLOAD_MOTOR: ("CURRENT",),
}
# kinds each fault visibly changes (ground truth lists those that are measured)
_AFFECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "bearing_wear": {BEARING_PUMP: ("VIB_RMS", "VIB_RMS_NDE", "BRG_TEMP_DE", "BRG_TEMP_NDE")},
    "cavitation": {
        CAVITATION_PUMP: ("SUCT_PRESS", "FLOW", "DISCH_PRESS", "VIB_RMS", "VIB_RMS_NDE"),
        "M-103": ("CURRENT", "POWER"),
    },
    "motor_overload": {OVERLOAD_MOTOR: ("CURRENT", "POWER", "WINDING_TEMP", "SPEED"), "MX-201": ("TORQUE",)},
}


def _minute(ts: float) -> int:
    return round(ts / 60.0) * 60


def plan_faults(tb: Timebase, orders: list[Order], rng: np.random.Generator) -> list[Fault]:
    """Bearing wear over most of the period, a cavitation episode and a motor overload during an order."""
    d = tb.duration
    wear_start = _minute(tb.t0 + d * float(rng.uniform(0.08, 0.12)))
    wear_end = _minute(tb.t0 + d * float(rng.uniform(0.66, 0.72)))
    cav_start = _minute(tb.t0 + d * float(rng.uniform(0.44, 0.48)))
    cav_end = cav_start + _minute(min(3 * 3600, 0.12 * d))
    ov_start, ov_end, order_id = _overload_window(tb, orders, rng)
    return [
        Fault(
            "F-001",
            BEARING_PUMP,
            "bearing_wear",
            wear_start,
            wear_end,
            f"Progressive drive-end bearing wear on {BEARING_PUMP}: vibration and bearing temperature rise "
            f"over hours until the bearing is replaced (pump stopped {MAINTENANCE_STOP_S // 3600} h).",
        ),
        Fault(
            "F-002",
            CAVITATION_PUMP,
            "cavitation",
            cav_start,
            cav_end,
            f"Clogged suction strainer on {CAVITATION_PUMP}: suction pressure drops, flow becomes erratic, "
            "vibration bursts; resolved by cleaning the strainer.",
        ),
        Fault(
            "F-003",
            OVERLOAD_MOTOR,
            "motor_overload",
            ov_start,
            ov_end,
            f"Overload of {OVERLOAD_MOTOR} (agitator MX-201) during order {order_id}: product viscosity too high, "
            "torque and current above rating, winding temperature rising.",
        ),
    ]


def _overload_window(tb: Timebase, orders: list[Order], rng: np.random.Generator) -> tuple[int, int, str]:
    length = 50 * 60
    target = tb.t0 + tb.duration * float(rng.uniform(0.25, 0.32))
    best: tuple[float, int, str] | None = None
    for o in orders:
        lo, hi = o.start + 1800, o.run_end - 1800 - length
        if o.line_id != OVERLOAD_LINE or o.status == "RELEASED" or hi < lo:
            continue
        lo, hi = max(lo, tb.t0 + 600), min(hi, tb.t1 - length - 600)
        if hi < lo:
            continue
        start = min(max(target, lo), hi)
        if best is None or abs(start - target) < abs(best[0] - target):
            best = (start, o.start, o.order_id)
    if best is None:
        raise ValueError("no production order long enough for the overload episode")
    start = _minute(best[0])
    return start, start + length, best[2]


def overload_order(faults: list[Fault], orders: list[Order]) -> str:
    f = next(f for f in faults if f.fault_type == "motor_overload")
    return next(o.order_id for o in orders if o.line_id == OVERLOAD_LINE and o.start <= f.start < o.run_end)


def with_tags(faults: list[Fault], plant: Plant) -> list[Fault]:
    """Attach the measured tags each fault affects."""
    measured = {(p.equipment_id, p.kind): p.tag for p in plant.points}
    out = []
    for f in faults:
        tags = [
            measured[(eq, k)] for eq, kinds in _AFFECTED[f.fault_type].items() for k in kinds if (eq, k) in measured
        ]
        out.append(dataclasses.replace(f, tags=tuple(tags)))
    return out


def get(faults: list[Fault], fault_type: str) -> Fault:
    return next(f for f in faults if f.fault_type == fault_type)


def progress(t: Array, start: int, end: int) -> Array:
    """0 before start, rising linearly to 1 at end, 0 again after end."""
    x = np.clip((t - start) / max(end - start, 1), 0.0, 1.0)
    return np.where(t < end, x, 0.0)


def window(t: Array, start: int, end: int, rise_s: float, fall_s: float) -> Array:
    """Trapezoid envelope: ramps up over `rise_s` after start, down over `fall_s` before end."""
    up = np.clip((t - start) / max(rise_s, 1.0), 0.0, 1.0)
    down = np.clip((end - t) / max(fall_s, 1.0), 0.0, 1.0)
    return np.minimum(up, down)
