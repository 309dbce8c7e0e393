"""The plant layout: ISA-95 hierarchy and equipment with nominal ratings."""

from __future__ import annotations

import math

import numpy as np

from demo_plant.model import Equipment, HierarchyNode

ENTERPRISE = ("ENT-1", "Nordwerk Industrie GmbH")
SITE = ("SITE-WN", "Werk Nord")

# (area id, name, production?, lines); line = (id, name, units); unit = (id, name, equipment roles)
# A role "pump:cooling_water" adds a pump and its drive motor; "tank:..." adds the item alone.
_Unit = tuple[str, str, tuple[str, ...]]
_Line = tuple[str, str, tuple[_Unit, ...]]
_LAYOUT: tuple[tuple[str, str, bool, tuple[_Line, ...]], ...] = (
    (
        "A-10",
        "Utilities",
        False,
        (
            (
                "L-11",
                "Cooling water",
                (
                    (
                        "U-111",
                        "Cooling water pump station",
                        ("tank:cooling_basin", "pump:cooling_water", "pump:cooling_water"),
                    ),
                    ("U-112", "Process cooling", ("heat_exchanger:process_cooler", "pump:process_cooling")),
                ),
            ),
            (
                "L-12",
                "Compressed air and ventilation",
                (
                    (
                        "U-121",
                        "Compressor station",
                        ("compressor:screw", "compressor:screw", "pressure_vessel:air_receiver"),
                    ),
                    ("U-122", "Hall ventilation", ("fan:supply_air",)),
                ),
            ),
        ),
    ),
    (
        "A-20",
        "Processing",
        True,
        (
            (
                "L-21",
                "Mixing line 1",
                (
                    ("U-211", "Batch mixing 1", ("mixer:batch", "pressure_vessel:reactor", "pump:transfer")),
                    ("U-212", "Product cooling 1", ("heat_exchanger:product_cooler", "pump:product_cooling")),
                ),
            ),
            (
                "L-22",
                "Mixing line 2",
                (
                    ("U-221", "Batch mixing 2", ("mixer:batch", "pressure_vessel:reactor", "pump:transfer")),
                    ("U-222", "Intermediate storage", ("tank:buffer", "pump:storage")),
                ),
            ),
        ),
    ),
    (
        "A-30",
        "Packaging",
        True,
        (
            (
                "L-31",
                "Filling line",
                (
                    ("U-311", "Container conveying", ("conveyor:container",)),
                    ("U-312", "Filling station", ("pump:filling",)),
                ),
            ),
        ),
    ),
)
# appended to lines in turn when more tags are requested than the base plant can carry
_EXTRA_UNIT = ("Booster station", ("tank:buffer", "pump:storage"))

_PREFIX = {
    "pump": "P",
    "motor": "M",
    "compressor": "C",
    "heat_exchanger": "E",
    "tank": "TK",
    "pressure_vessel": "V",
    "fan": "F",
    "mixer": "MX",
    "conveyor": "CV",
}
EQUIPMENT_TYPE = {
    "pump": "centrifugal_pump",
    "motor": "induction_motor",
    "compressor": "screw_compressor",
    "heat_exchanger": "plate_heat_exchanger",
    "tank": "tank",
    "pressure_vessel": "pressure_vessel",
    "fan": "fan",
    "mixer": "agitator",
    "conveyor": "belt_conveyor",
}
_DRIVEN = {"pump", "compressor", "fan", "mixer", "conveyor"}
_NAMES = {
    "cooling_basin": "Cooling water basin",
    "cooling_water": "Cooling water pump",
    "process_cooler": "Process cooling heat exchanger",
    "process_cooling": "Process cooling water pump",
    "screw": "Screw compressor",
    "air_receiver": "Compressed air receiver",
    "supply_air": "Supply air fan",
    "batch": "Batch mixer agitator",
    "reactor": "Mixing vessel",
    "transfer": "Transfer pump",
    "product_cooler": "Product cooler",
    "product_cooling": "Product cooling pump",
    "buffer": "Buffer tank",
    "storage": "Storage transfer pump",
    "container": "Container conveyor",
    "filling": "Filler feed pump",
}
# pump roles: nominal flow m3/h, shut-off head m, suction pressure bar(g)
_PUMPS = {
    "cooling_water": (160.0, 48.0, 1.15),
    "process_cooling": (90.0, 38.0, 1.45),
    "transfer": (30.0, 42.0, 0.85),
    "product_cooling": (35.0, 30.0, 0.95),
    "storage": (45.0, 36.0, 0.75),
    "filling": (14.0, 32.0, 0.65),
}
_MOTOR_SIZES = (4.0, 5.5, 7.5, 11.0, 15.0, 18.5, 22.0, 30.0, 37.0, 45.0, 55.0, 75.0, 90.0, 110.0, 132.0, 160.0)


def base_capacity(candidates: dict[str, tuple[str, ...]]) -> tuple[int, int]:
    """(tags, tags per extra unit) the layout can carry."""
    total = 0
    for _, _, _, lines in _LAYOUT:
        for _, _, units in lines:
            for _, _, roles in units:
                total += sum(_role_tags(r, candidates) for r in roles)
    return total, sum(_role_tags(r, candidates) for r in _EXTRA_UNIT[1])


def _role_tags(role: str, candidates: dict[str, tuple[str, ...]]) -> int:
    eq_type = role.split(":", maxsplit=1)[0]
    return len(candidates[eq_type]) + (len(candidates["motor"]) if eq_type in _DRIVEN else 0)


def build_layout(
    rng: np.random.Generator, extra_units: int
) -> tuple[tuple[HierarchyNode, ...], tuple[Equipment, ...], tuple[str, ...]]:
    """Hierarchy nodes, equipment (in register order) and the ids of the production lines."""
    nodes = [
        HierarchyNode(ENTERPRISE[0], "", "enterprise", ENTERPRISE[1]),
        HierarchyNode(SITE[0], ENTERPRISE[0], "site", SITE[1]),
    ]
    equipment: list[Equipment] = []
    production: list[str] = []
    lines_flat = [(a, line) for a in _LAYOUT for line in a[3]]
    extra_by_line: dict[str, int] = {}
    for k in range(extra_units):
        line_id = lines_flat[k % len(lines_flat)][1][0]
        extra_by_line[line_id] = extra_by_line.get(line_id, 0) + 1
    counters: dict[tuple[str, str], int] = {}
    for area_id, area_name, is_production, lines in _LAYOUT:
        nodes.append(HierarchyNode(area_id, SITE[0], "area", area_name))
        area_no = int(area_id.split("-")[1]) // 10
        for line_id, line_name, units in lines:
            nodes.append(HierarchyNode(line_id, area_id, "line", line_name))
            if is_production:
                production.append(line_id)
            unit_specs = list(units)
            for j in range(extra_by_line.get(line_id, 0)):
                unit_specs.append((f"{line_id.replace('L-', 'U-')}{len(units) + j + 1}", *_EXTRA_UNIT))
            for unit_id, unit_name, roles in unit_specs:
                nodes.append(HierarchyNode(unit_id, line_id, "unit", unit_name))
                for role in roles:
                    equipment.extend(
                        _make_items(
                            role, area_no, area_id=area_id, line_id=line_id, unit_id=unit_id, counters=counters, rng=rng
                        )
                    )
    return tuple(nodes), tuple(equipment), tuple(production)


def _next_id(eq_type: str, area_no: int, counters: dict[tuple[str, str], int]) -> str:
    prefix = _PREFIX[eq_type]
    key = (prefix, str(area_no))
    counters[key] = counters.get(key, 0) + 1
    return f"{prefix}-{area_no * 100 + counters[key]}"


def _make_items(
    role_spec: str,
    area_no: int,
    *,
    area_id: str,
    line_id: str,
    unit_id: str,
    counters: dict[tuple[str, str], int],
    rng: np.random.Generator,
) -> list[Equipment]:
    eq_type, role = role_spec.split(":")
    node_id = _next_id(eq_type, area_no, counters)
    rating = _rating(eq_type, role, rng)
    number = counters[(_PREFIX[eq_type], str(area_no))]
    name = f"{_NAMES[role]} {number}"
    safety = eq_type == "pressure_vessel"
    items = [Equipment(node_id, eq_type, role, name, area_id, line_id, unit_id, safety, None, rating)]
    if eq_type in _DRIVEN:
        motor_id = _next_id("motor", area_no, counters)
        items.append(
            Equipment(
                motor_id,
                "motor",
                f"drive_{eq_type}",
                f"Drive motor {node_id}",
                area_id,
                line_id,
                unit_id,
                False,
                node_id,
                _motor_rating(eq_type, rating),
            )
        )
    return items


def _rating(eq_type: str, role: str, rng: np.random.Generator) -> dict[str, float]:
    f = float(rng.uniform(0.9, 1.1))
    if eq_type == "pump":
        q, h0, ps = _PUMPS[role]
        q_nom, h0 = round(q * f, 1), round(h0 * float(rng.uniform(0.95, 1.05)), 1)
        # head at nominal flow is 80 % of shut-off head; best efficiency at nominal flow
        shaft = q_nom * 0.8 * h0 * 9.81 / 3600.0 / 0.76
        return {"q_nom": q_nom, "h0": h0, "p_suct": ps, "eta": 0.76, "shaft_kw": shaft, "rpm": 2950.0}
    if eq_type == "compressor":
        return {"shaft_kw": round(40.0 * f, 1), "fad": round(380.0 * f, 0), "p_lo": 7.0, "p_hi": 7.8, "rpm": 2970.0}
    if eq_type == "fan":
        return {"shaft_kw": round(9.0 * f, 1), "rpm": 1480.0}
    if eq_type == "mixer":
        return {"shaft_kw": round(14.0 * f, 1), "rpm": 90.0}
    if eq_type == "conveyor":
        return {"shaft_kw": round(4.5 * f, 1), "rpm": 1460.0}
    if eq_type == "heat_exchanger":
        return {"eff": round(0.62 * f, 3), "dp_nom": round(0.35 * f, 3)}
    if eq_type == "pressure_vessel" and role == "air_receiver":
        return {"p_max": 11.0, "volume_m3": 5.0}
    if eq_type == "pressure_vessel":
        return {"p_max": 4.0, "volume_m3": 6.3}
    return {"height_m": round(5.0 * f, 2)}


def _motor_rating(load_type: str, load: dict[str, float]) -> dict[str, float]:
    need = load["shaft_kw"] * 1.2
    p_r = next((s for s in _MOTOR_SIZES if s >= need), math.ceil(need))
    sync = 3000.0 if load_type in {"pump", "compressor"} else 1500.0
    i_r = p_r * 1000.0 / (math.sqrt(3) * 400.0 * 0.87 * 0.93)
    return {"p_rated": p_r, "i_rated": round(i_r, 1), "sync_rpm": sync, "slip": 0.017 if sync > 2000 else 0.027}
