"""Where the historian export defects go: tags and local times, chosen before sampling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo_plant.model import Fault, Plant
from demo_plant.timebase import Timebase

UNKNOWN_TAG = "P901.FLOW"
# exported in degF whatever the seed, so a static sources file can declare it (demo_plant/sources.yaml)
UNIT_MIXUP_EQUIPMENT, UNIT_MIXUP_KIND = "P-103", "BRG_TEMP_DE"
REQUIRED_KINDS: dict[str, tuple[str, ...]] = {UNIT_MIXUP_EQUIPMENT: (UNIT_MIXUP_KIND,)}
STUCK_S = 75 * 60  # how long the planted stuck value lasts


@dataclass(frozen=True)
class Spike:
    tag: int
    ts: int
    outside: bool


@dataclass(frozen=True)
class DefectPlan:
    """Tags are indices into plant.points; times are UTC instants."""

    tag_gap: tuple[int, int, int]
    plant_gap: tuple[int, int]
    stuck: tuple[int, int, int]
    unit_mixup: int
    spikes: tuple[Spike, ...]
    duplicates: tuple[int, ...]
    out_of_order: tuple[int, ...]
    non_numeric: tuple[tuple[int, str], ...]
    missing_column: int
    unknown_tag: int
    avoid: frozenset[int]

    @property
    def value_tags(self) -> frozenset[int]:
        """Tags whose values carry a planted effect (no other defect may touch them)."""
        return frozenset({self.tag_gap[0], self.stuck[0], self.unit_mixup, *(s.tag for s in self.spikes)})


def plan_defects(plant: Plant, faults: list[Fault], tb: Timebase, rng: np.random.Generator) -> DefectPlan:
    fault_eq = {f.equipment_id for f in faults} | {"M-101", "M-103", "MX-201"}
    eligible = [i for i, p in enumerate(plant.points) if p.equipment_id not in fault_eq]
    if len(eligible) < 8:
        raise ValueError("too few tags outside the faulty equipment to plant export defects")
    taken: set[int] = set()

    def pick(cands: list[int]) -> int:
        free = [i for i in cands if i not in taken] or [i for i in eligible if i not in taken]
        choice = int(free[int(rng.integers(len(free)))])
        taken.add(choice)
        return choice

    pts = plant.points
    eq = plant.equipment_by_id()
    utilities = [i for i in eligible if eq[pts[i].equipment_id].area_id == "A-10" and pts[i].kind != "SPEED"]
    stuck_tag = pick(utilities)
    mixup = next(i for i, p in enumerate(pts) if p.equipment_id == UNIT_MIXUP_EQUIPMENT and p.kind == UNIT_MIXUP_KIND)
    taken.add(mixup)
    gap_tag = pick(eligible)
    spike_tags = [pick([i for i in eligible if pts[i].unit != "degC" or j % 2]) for j in range(4)]
    last = tb.days - 1
    second = min(1, last)

    def at(day: int, hour: int, minute: int) -> int:
        return tb.at_local(day, hour, minute + int(rng.integers(0, 9)), int(rng.integers(0, 60)))

    gap_start = tb.at_local(0, 9, 20 + int(rng.integers(0, 9)))
    plant_gap_start = tb.at_local(0, 13, 5 + int(rng.integers(0, 9)))
    stuck_start = tb.at_local(second, 14, int(rng.integers(0, 9)))
    return DefectPlan(
        tag_gap=(gap_tag, gap_start, gap_start + 35 * 60),
        plant_gap=(plant_gap_start, plant_gap_start + 5 * 60),
        stuck=(stuck_tag, stuck_start, stuck_start + STUCK_S),
        unit_mixup=mixup,
        spikes=(
            Spike(spike_tags[0], at(0, 10, 30), False),
            Spike(spike_tags[1], at(0, 20, 10), True),
            Spike(spike_tags[2], at(second, 5, 20), False),
            Spike(spike_tags[3], at(second, 17, 40), True),
        ),
        duplicates=(at(0, 6, 12), at(0, 16, 47), at(second, 11, 33)),
        out_of_order=(at(0, 7, 41), at(0, 18, 22), at(second, 8, 54)),
        non_numeric=((at(0, 11, 7), "#N/A"), (at(second, 19, 16), "ERR")),
        missing_column=at(0, 12, 21),
        unknown_tag=at(0, 15, 2),
        avoid=frozenset(i for i, p in enumerate(pts) if p.equipment_id in fault_eq) | frozenset(taken),
    )
