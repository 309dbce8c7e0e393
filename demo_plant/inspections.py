"""Quality inspections (QMS export) for the production orders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from demo_plant.model import Fault, Order
from demo_plant.timebase import Timebase

HEADER = (
    "inspection_id",
    "order_id",
    "timestamp",
    "characteristic",
    "measured_value",
    "lower_spec",
    "upper_spec",
    "result",
    "defect_code",
)


@dataclass(frozen=True)
class Characteristic:
    name: str
    code: str
    target: float
    tol: float
    sd: float
    decimals: int


_MIXING = (
    Characteristic("viscosity_mpas", "VISC", 48.0, 8.0, 2.5, 1),
    Characteristic("density_g_cm3", "DENS", 0.885, 0.01, 0.003, 3),
    Characteristic("ph_value", "PH", 8.6, 0.4, 0.12, 2),
)
_FILLING = (
    Characteristic("fill_level_pct", "FILL", 100.0, 1.5, 0.5, 2),
    Characteristic("cap_torque_nm", "TORQ", 2.5, 0.5, 0.15, 2),
    Characteristic("label_offset_mm", "LABEL", 0.0, 1.5, 0.4, 2),
)


def build_inspections(
    orders: list[Order], overload: Fault, overload_order: str, tb: Timebase, rng: np.random.Generator
) -> pl.DataFrame:
    """In-process checks every 1-2 h of each order's run; failures follow the scrap rate and the overload."""
    rows = []
    for o in orders:
        if o.status == "RELEASED":
            continue
        chars = _MIXING if o.unit == "kg" else _FILLING
        t = o.start + int(rng.integers(15, 40)) * 60
        while t < min(o.run_end, tb.t1):
            if t >= tb.t0:
                for c in chars:
                    value = float(rng.normal(c.target, c.sd))
                    if rng.random() < o.scrap_rate / 100.0 * 3:
                        value = c.target + float(rng.choice([-1.0, 1.0])) * c.tol * float(rng.uniform(1.05, 1.4))
                    if o.order_id == overload_order and c.code == "VISC" and overload.start <= t < overload.end + 3600:
                        value = c.target + c.tol * float(rng.uniform(1.2, 1.8))
                    rows.append((o.order_id, t, c, round(value, c.decimals)))
            t += int(rng.integers(60, 121)) * 60
    rows.sort(key=lambda r: (r[1], r[0]))
    out = []
    for k, (order_id, t, c, value) in enumerate(rows):
        lo, hi = round(c.target - c.tol, c.decimals), round(c.target + c.tol, c.decimals)
        ok = lo <= value <= hi
        code = "" if ok else f"{c.code}-{'HI' if value > hi else 'LO'}"
        out.append(
            (
                f"QI-{k + 1:06d}",
                order_id,
                tb.iso_local(t),
                c.name,
                f"{value:.{c.decimals}f}",
                f"{lo:.{c.decimals}f}",
                f"{hi:.{c.decimals}f}",
                "PASS" if ok else "FAIL",
                code or None,
            )
        )
    return pl.DataFrame(out, schema={h: pl.String for h in HEADER}, orient="row")


def write_inspections(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
