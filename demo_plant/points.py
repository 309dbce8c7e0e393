"""Measuring points: which tags each equipment type carries, their units, ranges and alarm limits."""

from __future__ import annotations

import math
from dataclasses import dataclass

from demo_plant.model import AlarmLimits, Equipment, MeasurementPoint


@dataclass(frozen=True)
class Kind:
    """A measured quantity: unit, decimals written to the historian and a readable name."""

    unit: str
    decimals: int
    name: str


KINDS: dict[str, Kind] = {
    "FLOW": Kind("m3/h", 2, "flow"),
    "FLOW_CW": Kind("m3/h", 2, "cooling water flow"),
    "DISCH_PRESS": Kind("bar", 3, "discharge pressure"),
    "SUCT_PRESS": Kind("bar", 3, "suction pressure"),
    "OIL_PRESS": Kind("bar", 3, "oil pressure"),
    "PRESS": Kind("bar", 3, "pressure"),
    "DP": Kind("bar", 3, "differential pressure"),
    "VIB_RMS": Kind("mm/s", 3, "vibration velocity RMS drive end"),
    "VIB_RMS_NDE": Kind("mm/s", 3, "vibration velocity RMS non-drive end"),
    "BRG_TEMP_DE": Kind("degC", 2, "bearing temperature drive end"),
    "BRG_TEMP_NDE": Kind("degC", 2, "bearing temperature non-drive end"),
    "SEAL_TEMP": Kind("degC", 2, "mechanical seal temperature"),
    "WINDING_TEMP": Kind("degC", 2, "stator winding temperature"),
    "DISCH_TEMP": Kind("degC", 2, "discharge temperature"),
    "OIL_TEMP": Kind("degC", 2, "oil temperature"),
    "TEMP": Kind("degC", 2, "temperature"),
    "TEMP_HOT_IN": Kind("degC", 2, "hot side inlet temperature"),
    "TEMP_HOT_OUT": Kind("degC", 2, "hot side outlet temperature"),
    "TEMP_COLD_IN": Kind("degC", 2, "cold side inlet temperature"),
    "TEMP_COLD_OUT": Kind("degC", 2, "cold side outlet temperature"),
    "CURRENT": Kind("A", 2, "motor current"),
    "POWER": Kind("kW", 2, "active power"),
    "SPEED": Kind("rpm", 1, "speed"),
    "LEVEL": Kind("%", 2, "level"),
    "TORQUE": Kind("%", 2, "torque"),
    "LOAD": Kind("%", 2, "belt load"),
}

# measuring points per equipment type, most important first (small plants keep only the first ones)
CANDIDATES: dict[str, tuple[str, ...]] = {
    "pump": ("FLOW", "DISCH_PRESS", "VIB_RMS", "BRG_TEMP_DE", "SUCT_PRESS", "BRG_TEMP_NDE", "VIB_RMS_NDE", "SEAL_TEMP"),
    "motor": ("CURRENT", "POWER", "WINDING_TEMP", "SPEED", "VIB_RMS", "BRG_TEMP_DE", "BRG_TEMP_NDE"),
    "compressor": ("DISCH_PRESS", "DISCH_TEMP", "FLOW", "VIB_RMS", "OIL_TEMP", "OIL_PRESS"),
    "heat_exchanger": ("TEMP_HOT_OUT", "TEMP_HOT_IN", "TEMP_COLD_IN", "TEMP_COLD_OUT", "DP", "FLOW_CW"),
    "tank": ("LEVEL", "TEMP", "PRESS"),
    "pressure_vessel": ("PRESS", "TEMP", "LEVEL"),
    "fan": ("VIB_RMS", "SPEED", "BRG_TEMP_DE", "BRG_TEMP_NDE"),
    "mixer": ("TORQUE", "SPEED", "TEMP", "VIB_RMS"),
    "conveyor": ("LOAD", "SPEED", "BRG_TEMP_DE", "VIB_RMS"),
}


def allocate(equipment: tuple[Equipment, ...], tags: int, required: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Choose `tags` measuring points: one per equipment first, then the `required` ones, then round-robin."""
    chosen = mandatory(equipment, required)
    count = sum(len(v) for v in chosen.values())
    if count > tags:
        raise ValueError(f"tags={tags} is too small; this plant needs at least {count} measuring points")
    depth = 1
    max_depth = max(len(c) for c in CANDIDATES.values())
    while count < tags and depth < max_depth:
        for e in equipment:
            cands = CANDIDATES[e.eq_type]
            if count < tags and depth < len(cands) and cands[depth] not in chosen[e.node_id]:
                chosen[e.node_id].add(cands[depth])
                count += 1
        depth += 1
    if count < tags:
        raise ValueError(f"tags={tags} exceeds what the plant layout can carry ({count})")
    return {e.node_id: [k for k in CANDIDATES[e.eq_type] if k in chosen[e.node_id]] for e in equipment}


def mandatory(equipment: tuple[Equipment, ...], required: dict[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """The points no plant goes without: each equipment's most important one, and the `required` kinds."""
    chosen: dict[str, set[str]] = {e.node_id: {CANDIDATES[e.eq_type][0]} for e in equipment}
    for eq_id, kinds in required.items():
        chosen[eq_id].update(kinds)
    return chosen


def make_point(eq: Equipment, kind: str) -> MeasurementPoint:
    """A measuring point with its physical range and alarm limits derived from the equipment ratings."""
    spec = KINDS[kind]
    low, high = _range(eq, kind)
    return MeasurementPoint(
        node_id=f"{eq.node_id}.{kind}",
        equipment_id=eq.node_id,
        tag=f"{eq.tag_prefix}.{kind}",
        kind=kind,
        unit=spec.unit,
        low=low,
        high=high,
        decimals=spec.decimals,
        name=f"{eq.node_id} {spec.name}",
        alarms=_alarms(eq, kind, low, high),
        safety_related=eq.safety_related,
    )


def _nice_ceil(x: float) -> float:
    mag = 10 ** math.floor(math.log10(x))
    for m in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if m * mag >= x:
            return float(m * mag)
    return float(10 * mag)


def _range(eq: Equipment, kind: str) -> tuple[float, float]:
    r = eq.rating
    if kind in {"FLOW", "FLOW_CW"}:
        q = r.get("q_nom") or r.get("fad") or 100.0
        return 0.0, _nice_ceil(1.5 * q)
    if kind == "SUCT_PRESS":
        return -1.0, 6.0
    if kind in {"DISCH_PRESS", "OIL_PRESS"}:
        return 0.0, 16.0
    if kind == "PRESS":
        return (-1.0, 10.0) if eq.role == "reactor" else (0.0, 16.0 if eq.eq_type == "pressure_vessel" else 1.0)
    if kind == "DP":
        return 0.0, 2.5
    if kind.startswith("VIB"):
        return 0.0, 50.0
    if kind == "WINDING_TEMP":
        return 0.0, 200.0
    if kind in {"BRG_TEMP_DE", "BRG_TEMP_NDE", "SEAL_TEMP", "DISCH_TEMP"}:
        return 0.0, 150.0
    if kind.startswith("TEMP") or kind == "OIL_TEMP":
        return -20.0, 120.0
    if kind == "CURRENT":
        return 0.0, _nice_ceil(2.0 * r["i_rated"])
    if kind == "POWER":
        return 0.0, _nice_ceil(1.5 * r["p_rated"])
    if kind == "SPEED":
        top = r.get("sync_rpm") or r.get("rpm") or 1500.0
        return 0.0, 200.0 if top < 500 else _nice_ceil(1.2 * top)
    if kind == "TORQUE":
        return 0.0, 200.0
    return 0.0, 100.0  # LEVEL, LOAD


def _alarms(eq: Equipment, kind: str, low: float, high: float) -> AlarmLimits:
    db = round(0.01 * (high - low), 3)
    if kind.startswith("VIB"):
        return AlarmLimits(hi=7.1, hihi=11.2, deadband=0.8)
    if kind in {"BRG_TEMP_DE", "BRG_TEMP_NDE"}:
        return AlarmLimits(hi=85.0, hihi=95.0, deadband=1.5)
    if kind == "SEAL_TEMP":
        return AlarmLimits(hi=90.0, deadband=1.5)
    if kind == "WINDING_TEMP":
        return AlarmLimits(hi=130.0, hihi=145.0, deadband=2.0)
    if kind == "CURRENT":
        i_r = eq.rating["i_rated"]
        return AlarmLimits(hi=round(1.05 * i_r, 1), hihi=round(1.2 * i_r, 1), deadband=round(0.02 * i_r, 2))
    if kind == "POWER":
        return AlarmLimits(hi=round(1.1 * eq.rating["p_rated"], 1), deadband=round(0.02 * eq.rating["p_rated"], 2))
    if kind == "SUCT_PRESS":
        ps = eq.rating["p_suct"]
        return AlarmLimits(lolo=round(0.3 * ps, 2), lo=round(0.5 * ps, 2), deadband=0.05)
    if kind == "FLOW" and eq.eq_type == "pump":
        return AlarmLimits(deviation=round(0.1 * eq.rating["q_nom"], 1), deadband=db)
    if kind == "DISCH_PRESS" and eq.eq_type == "compressor":
        return AlarmLimits(lo=6.3, hi=8.3, deadband=0.05)
    if kind == "PRESS" and eq.eq_type == "pressure_vessel":
        return (
            AlarmLimits(hi=8.5, hihi=9.5, deadband=0.05)
            if eq.role == "air_receiver"
            else AlarmLimits(hi=2.5, hihi=3.0, deadband=0.05)
        )
    if kind in {"DISCH_TEMP", "OIL_TEMP"}:
        return AlarmLimits(hi=100.0 if kind == "DISCH_TEMP" else 90.0, deadband=1.0)
    if kind == "LEVEL" and eq.eq_type == "tank":
        return AlarmLimits(lolo=5.0, lo=15.0, hi=90.0, hihi=95.0, deadband=1.0)
    if kind == "TORQUE":
        return AlarmLimits(hi=105.0, hihi=120.0, deadband=2.0)
    if kind == "LOAD":
        return AlarmLimits(hi=100.0, deadband=2.0)
    return AlarmLimits()
