"""MES export of production orders: semicolon-delimited, decimal comma, cp1252."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from demo_plant.model import Order
from demo_plant.timebase import Timebase

HEADER = (
    "order_id",
    "line_id",
    "product",
    "planned_qty",
    "produced_qty",
    "scrap_rate",
    "start_time",
    "end_time",
    "status",
)


def _num(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}".replace(".", ",")


def _qty(x: float, unit: str) -> str:
    return _num(x, 1) if unit == "kg" and x != round(x) else str(round(x))


def _time(ts: int | None, tb: Timebase) -> str:
    return "" if ts is None else dt.datetime.fromtimestamp(ts, tb.tz).strftime("%d.%m.%Y %H:%M")


def write_orders(orders: list[Order], tb: Timebase, path: Path) -> None:
    lines = [";".join(HEADER)]
    for o in orders:
        lines.append(
            ";".join(
                (
                    o.order_id,
                    o.line_id,
                    o.product,
                    _qty(o.planned_qty, o.unit),
                    _qty(o.produced_qty, o.unit),
                    _num(o.scrap_rate, 2),
                    _time(o.start, tb),
                    _time(o.end, tb),
                    o.status,
                )
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
