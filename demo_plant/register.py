"""The asset register: build the plant for a tag budget and write `asset_register.csv`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl

from demo_plant.layout import EQUIPMENT_TYPE, base_capacity, build_layout
from demo_plant.model import Plant
from demo_plant.points import CANDIDATES, allocate, make_point, mandatory

COLUMNS = (
    "node_id",
    "parent_id",
    "level",
    "name",
    "equipment_type",
    "tag",
    "unit",
    "low_limit",
    "high_limit",
    "safety_related",
)


def build_plant(tags: int, rng: np.random.Generator, required: dict[str, tuple[str, ...]]) -> Plant:
    """Plant with exactly `tags` measuring points; `required` kinds are always measured."""
    capacity, per_extra = base_capacity(CANDIDATES)
    extra = math.ceil((tags - capacity) / per_extra) if tags > capacity else 0
    hierarchy, equipment, production = build_layout(rng, extra)
    chosen = allocate(equipment, tags, required)
    points = tuple(make_point(e, kind) for e in equipment for kind in chosen[e.node_id])
    return Plant(hierarchy, equipment, points, production)


def minimum_tags(required: dict[str, tuple[str, ...]]) -> tuple[int, int]:
    """(equipment, tags) of the smallest plant: its equipment count and the measuring points it needs, one per
    equipment plus the `required` kinds. The layout's shape does not depend on the random stream."""
    _, equipment, _ = build_layout(np.random.default_rng(0), 0)
    return len(equipment), sum(len(kinds) for kinds in mandatory(equipment, required).values())


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_register(plant: Plant, path: Path) -> int:
    """Write one row per node, depth first (equipment followed by its measuring points)."""
    rows: list[tuple[str, ...]] = []
    by_unit: dict[str, list[str]] = {}
    for e in plant.equipment:
        by_unit.setdefault(e.unit_id, []).append(e.node_id)
    eq_by_id = plant.equipment_by_id()
    pts_by_eq: dict[str, list[int]] = {}
    for i, p in enumerate(plant.points):
        pts_by_eq.setdefault(p.equipment_id, []).append(i)
    for node in plant.hierarchy:
        rows.append((node.node_id, node.parent_id, node.level, node.name, "", "", "", "", "", "false"))
        for eq_id in by_unit.get(node.node_id, []) if node.level == "unit" else []:
            e = eq_by_id[eq_id]
            rows.append(
                (
                    e.node_id,
                    e.unit_id,
                    "equipment",
                    e.name,
                    EQUIPMENT_TYPE[e.eq_type],
                    "",
                    "",
                    "",
                    "",
                    str(e.safety_related).lower(),
                )
            )
            for i in pts_by_eq.get(eq_id, []):
                p = plant.points[i]
                rows.append(
                    (
                        p.node_id,
                        e.node_id,
                        "measurement_point",
                        p.name,
                        "",
                        p.tag,
                        p.unit,
                        _fmt(p.low),
                        _fmt(p.high),
                        str(p.safety_related).lower(),
                    )
                )
    path.parent.mkdir(parents=True, exist_ok=True)
    blanked = [tuple(v if v != "" else None for v in row) for row in rows]
    pl.DataFrame(blanked, schema={c: pl.String for c in COLUMNS}, orient="row").write_csv(path)
    return len(rows)
