"""Where the historian export defects go: tags and local times, chosen before sampling.

`intensity` scales how many defects of every kind are planted (the dose of a dose-response test of the quality
scores): x1 plants each kind's base rate per day, x5 five times as many, x0 none at all (a clean plant; only the
declared degF export stays, which `demo_plant/sources.yaml` converts back to the register's unit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from demo_plant.model import Fault, Plant
from demo_plant.timebase import Timebase

UNKNOWN_TAG = "P901.FLOW"
# exported in degF whatever the seed, so a static sources file can declare it (demo_plant/sources.yaml)
UNIT_MIXUP_EQUIPMENT, UNIT_MIXUP_KIND = "P-103", "BRG_TEMP_DE"
REQUIRED_KINDS: dict[str, tuple[str, ...]] = {UNIT_MIXUP_EQUIPMENT: (UNIT_MIXUP_KIND,)}
STUCK_S = 75 * 60  # how long a planted stuck value lasts
TAG_GAP_S = 35 * 60
PLANT_GAP_S = 5 * 60
COMM_LOSS_RATE = 0.15  # share of tags with a communication-loss episode at x1
# undeclared unit mix-ups: a register unit and the unit an exporter wrongly sends instead (scale, offset)
WRONG_UNITS: dict[str, tuple[str, float, float]] = {"degC": ("degF", 1.8, 32.0), "bar": ("psi", 14.5038, 0.0)}
# planted per local day at x1 (rounded up over the period, so a one-day demo at x1 still has every kind)
RATES: dict[str, float] = {
    "tag_gap": 0.5, "plant_gap": 0.5, "stuck": 0.5, "spike": 2.0, "duplicate": 1.5, "out_of_order": 1.5,
    "non_numeric": 1.0, "missing_column": 0.5, "unknown_tag": 0.5, "wrong_unit": 0.5, "late_export": 0.5,
}  # fmt: skip
LATE_EXPORT_S = 12 * 3600  # a late daily export arrives this long after its usual time (at noon, not 00:20)
EXPORT_DELAY_S = 20 * 60  # the usual time: this long after the local day ends


@dataclass(frozen=True)
class Spike:
    tag: int
    ts: int
    outside: bool


@dataclass(frozen=True)
class DefectPlan:
    """Tags are indices into plant.points; times are UTC instants; days are indices of the period's local days."""

    tag_gaps: tuple[tuple[int, int, int], ...]
    plant_gaps: tuple[tuple[int, int], ...]
    stuck: tuple[tuple[int, int, int], ...]
    unit_mixup: int  # declared in the sources file: every reading of this tag in degF
    wrong_units: tuple[tuple[int, int], ...]  # (tag, day): a whole day exported in another unit, undeclared
    spikes: tuple[Spike, ...]
    duplicates: tuple[int, ...]
    out_of_order: tuple[int, ...]
    non_numeric: tuple[tuple[int, str], ...]
    missing_column: tuple[int, ...]
    unknown_tag: tuple[int, ...]
    late_exports: tuple[int, ...]
    dst_rows: bool  # rows stamped with non-existent local times on a spring-forward day
    truncated_file: bool
    comm_loss_rate: float
    avoid: frozenset[int]

    @property
    def value_tags(self) -> frozenset[int]:
        """Tags whose values carry a planted effect (no other defect may touch them)."""
        return frozenset(
            {
                *(g[0] for g in self.tag_gaps),
                *(s[0] for s in self.stuck),
                self.unit_mixup,
                *(w[0] for w in self.wrong_units),
                *(s.tag for s in self.spikes),
            }
        )


def planted(kind: str, days: int, intensity: float) -> int:
    """How many defects of `kind` a period of `days` gets at `intensity` (0 at x0, at least 1 at x1)."""
    return math.ceil(RATES[kind] * days * intensity - 1e-9) if intensity > 0 else 0


def plan_defects(
    plant: Plant, faults: list[Fault], tb: Timebase, rng: np.random.Generator, intensity: float = 1.0
) -> DefectPlan:
    if intensity < 0:
        raise ValueError("the defect intensity cannot be negative")
    fault_eq = {f.equipment_id for f in faults} | {"M-101", "M-103", "MX-201"}
    eligible = [i for i, p in enumerate(plant.points) if p.equipment_id not in fault_eq]
    if len(eligible) < 8:
        raise ValueError("too few tags outside the faulty equipment to plant export defects")
    taken: set[int] = set()

    def pick(cands: list[int]) -> int:
        """A tag not carrying another value defect yet (any eligible one once all carry one)."""
        free = [i for i in cands if i not in taken] or [i for i in eligible if i not in taken] or cands or eligible
        choice = int(free[int(rng.integers(len(free)))])
        taken.add(choice)
        return choice

    pts = plant.points
    eq = plant.equipment_by_id()
    days = tb.days

    def count(kind: str) -> int:
        return planted(kind, days, intensity)

    def at(hour_lo: int = 4, hour_hi: int = 22) -> int:
        """A random local instant away from midnight and the 02:00-03:00 of a time change."""
        day = int(rng.integers(days))
        hour = int(rng.integers(hour_lo, hour_hi))
        return tb.at_local(day, hour, int(rng.integers(0, 60)), int(rng.integers(0, 60)))

    utilities = [i for i in eligible if eq[pts[i].equipment_id].area_id == "A-10" and pts[i].kind != "SPEED"]
    mixup = next(i for i, p in enumerate(pts) if p.equipment_id == UNIT_MIXUP_EQUIPMENT and p.kind == UNIT_MIXUP_KIND)
    taken.add(mixup)
    stuck = []
    for _ in range(count("stuck")):
        start = at(5, 20)
        stuck.append((pick(utilities), start, start + STUCK_S))
    tag_gaps = []
    for _ in range(count("tag_gap")):
        start = at(5, 20)
        tag_gaps.append((pick(eligible), start, start + TAG_GAP_S))
    plant_gaps = []
    for _ in range(count("plant_gap")):
        start = at(5, 20)
        plant_gaps.append((start, start + PLANT_GAP_S))
    spikes = []
    for j in range(count("spike")):
        spikes.append(Spike(pick([i for i in eligible if pts[i].unit != "degC" or j % 2]), at(), bool(j % 2)))
    convertible = [i for i in eligible if pts[i].unit in WRONG_UNITS and i != mixup]
    wrong_units: list[tuple[int, int]] = []
    pairs = [(tag, day) for day in range(days) for tag in convertible]
    for k in rng.permutation(len(pairs))[: count("wrong_unit")] if pairs else []:
        wrong_units.append(pairs[int(k)])
        taken.add(pairs[int(k)][0])
    late = sorted(int(d) for d in rng.permutation(days)[: count("late_export")])
    tokens = ("#N/A", "ERR")
    return DefectPlan(
        tag_gaps=tuple(tag_gaps),
        plant_gaps=tuple(plant_gaps),
        stuck=tuple(stuck),
        unit_mixup=mixup,
        wrong_units=tuple(sorted(wrong_units)),
        spikes=tuple(spikes),
        duplicates=tuple(at() for _ in range(count("duplicate"))),
        out_of_order=tuple(at() for _ in range(count("out_of_order"))),
        non_numeric=tuple((at(), tokens[j % 2]) for j in range(count("non_numeric"))),
        missing_column=tuple(at() for _ in range(count("missing_column"))),
        unknown_tag=tuple(at() for _ in range(count("unknown_tag"))),
        late_exports=tuple(late),
        dst_rows=intensity > 0,
        truncated_file=intensity > 0,
        comm_loss_rate=min(1.0, COMM_LOSS_RATE * intensity),
        avoid=frozenset(i for i, p in enumerate(pts) if p.equipment_id in fault_eq) | frozenset(taken),
    )
