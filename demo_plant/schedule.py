"""The MES production schedule and the resulting run state of each production line."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from demo_plant.arrays import Array
from demo_plant.model import Order
from demo_plant.timebase import Timebase

# product name, quantity unit, nominal rate per hour
_MIXING = (
    ("Kühlschmierstoff-Emulsion KSE 5", "kg", 1800.0),
    ("Hydrauliköl HLP 46", "kg", 2200.0),
    ("Korrosionsschutz Überzug KS-2", "kg", 1500.0),
    ("Entfetter Spezialreiniger Größe 3", "kg", 2000.0),
    ("Kühlmittel-Konzentrat Frostschutz", "kg", 1900.0),
)
_FILLING = (
    ("Gebinde 5 l Kühlmittel", "pcs", 600.0),
    ("Kanister 20 l Hydrauliköl", "pcs", 240.0),
    ("Flasche 1 l Spezialöl", "pcs", 1500.0),
    ("Fass 200 l Schmierölmischung", "pcs", 30.0),
    ("Kühlmittelpumpe KMP-40 Servicepaket", "pcs", 120.0),
)


def products_for(line_id: str) -> tuple[tuple[str, str, float], ...]:
    return _MIXING if line_id.startswith("L-2") else _FILLING


def _round5(seconds: float) -> int:
    return round(seconds / 300.0) * 300


def build_schedule(lines: tuple[str, ...], tb: Timebase, rng: np.random.Generator) -> list[Order]:
    """Orders back to back with changeovers; the last order per line is released but not started."""
    drafts: list[dict[str, object]] = []
    for line_id in lines:
        products = products_for(line_id)
        t = _round5(tb.t0 - float(rng.uniform(0.5, 2.0)) * 3600)
        while t < tb.t1:
            name, unit, rate = products[int(rng.integers(len(products)))]
            dur = _round5(float(rng.uniform(2.0, 6.0)) * 3600)
            planned = round(rate * dur / 3600 / 10) * 10
            scrap = round(float(rng.uniform(0.3, 2.5)), 2)
            end = t + dur
            if end <= tb.t1 and rng.random() < 0.06:
                status, run_end = "CANCELLED", _round5(t + dur * float(rng.uniform(0.2, 0.6)))
                end, produced = run_end, rate * (run_end - t) / 3600 * float(rng.uniform(0.8, 0.95))
            elif end <= tb.t1:
                status, run_end, produced = "COMPLETED", end, planned * float(rng.uniform(0.94, 1.02))
            else:
                status, run_end = "IN_PROGRESS", tb.t1
                produced = rate * (tb.t1 - t) / 3600 * float(rng.uniform(0.9, 0.99))
            drafts.append(
                dict(
                    line_id=line_id,
                    product=name,
                    unit=unit,
                    rate_per_h=rate,
                    planned_qty=float(planned),
                    produced_qty=_qty(produced, unit),
                    scrap_rate=scrap,
                    start=t,
                    end=end if status != "IN_PROGRESS" else None,
                    status=status,
                    run_end=run_end,
                )
            )
            t = run_end + _round5(float(rng.uniform(0.25, 1.0)) * 3600) if status != "IN_PROGRESS" else tb.t1
        name, unit, rate = products[int(rng.integers(len(products)))]
        dur = _round5(float(rng.uniform(2.0, 6.0)) * 3600)
        start = max(t, _round5(tb.t1 + 1800))
        drafts.append(
            dict(
                line_id=line_id,
                product=name,
                unit=unit,
                rate_per_h=rate,
                planned_qty=float(round(rate * dur / 3600 / 10) * 10),
                produced_qty=0.0,
                scrap_rate=0.0,
                start=start,
                end=None,
                status="RELEASED",
                run_end=start,
            )
        )
    drafts.sort(key=lambda d: (d["start"], d["line_id"]))
    year = tb.start.year % 100
    return [Order(order_id=f"FA{year:02d}-{100401 + i:06d}", **d) for i, d in enumerate(drafts)]  # type: ignore[arg-type]


def _qty(value: float, unit: str) -> float:
    return round(value, 1) if unit == "kg" else float(round(value))


def with_scrap(orders: list[Order], order_id: str, scrap: float) -> list[Order]:
    return [dataclasses.replace(o, scrap_rate=scrap) if o.order_id == order_id else o for o in orders]


def line_running(
    orders: list[Order],
    lines: tuple[str, ...],
    t: Array,
    rng: np.random.Generator,
    keep: Sequence[tuple[int, int]] = (),
) -> dict[str, Array]:
    """1.0 while a line runs an order, 0.0 during changeovers and a few short jams (never inside `keep`)."""
    state: dict[str, Array] = {line: np.zeros(len(t)) for line in lines}
    for o in orders:
        if o.line_id not in state or o.run_end <= o.start:
            continue
        run = (t >= o.start) & (t < o.run_end)
        state[o.line_id][run] = 1.0
        if rng.random() < 0.35:
            jam = int(rng.uniform(o.start + 1800, max(o.start + 1801, o.run_end - 1800)))
            jam_end = jam + int(rng.uniform(4, 12) * 60)
            if not any(jam < k1 and jam_end > k0 for k0, k1 in keep):
                state[o.line_id][(t >= jam) & (t < jam_end)] = 0.0
    return state
