"""Plain data types shared by the generator modules."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HierarchyNode:
    """A non-equipment ISA-95 node: enterprise, site, area, line or unit."""

    node_id: str
    parent_id: str
    level: str
    name: str


@dataclass(frozen=True)
class Equipment:
    """One equipment item with its nominal ratings (physical parameters of the mechanism model)."""

    node_id: str
    eq_type: str
    role: str
    name: str
    area_id: str
    line_id: str
    unit_id: str
    safety_related: bool
    drives: str | None = None
    rating: dict[str, float] = field(default_factory=dict, hash=False, compare=False)

    @property
    def tag_prefix(self) -> str:
        return self.node_id.replace("-", "")


@dataclass(frozen=True)
class AlarmLimits:
    """Process alarm limits of a tag (not in the register; used to derive the alarm journal)."""

    lolo: float | None = None
    lo: float | None = None
    hi: float | None = None
    hihi: float | None = None
    deviation: float | None = None
    deadband: float = 0.0


@dataclass(frozen=True)
class MeasurementPoint:
    """A measuring point (historian tag) on an equipment item."""

    node_id: str
    equipment_id: str
    tag: str
    kind: str
    unit: str
    low: float
    high: float
    decimals: int
    name: str
    alarms: AlarmLimits
    safety_related: bool


@dataclass(frozen=True)
class Plant:
    """The asset register: hierarchy, equipment and measuring points."""

    hierarchy: tuple[HierarchyNode, ...]
    equipment: tuple[Equipment, ...]
    points: tuple[MeasurementPoint, ...]
    production_lines: tuple[str, ...]

    def equipment_by_id(self) -> dict[str, Equipment]:
        return {e.node_id: e for e in self.equipment}

    def point_index(self) -> dict[str, int]:
        return {p.tag: i for i, p in enumerate(self.points)}

    def tags_of(self, equipment_id: str) -> list[str]:
        return [p.tag for p in self.points if p.equipment_id == equipment_id]


@dataclass(frozen=True)
class Order:
    """A production order of the MES schedule (UTC instants)."""

    order_id: str
    line_id: str
    product: str
    unit: str
    rate_per_h: float
    planned_qty: float
    produced_qty: float
    scrap_rate: float
    start: int
    end: int | None
    status: str
    run_end: int


@dataclass(frozen=True)
class Fault:
    """An injected equipment fault (ground truth)."""

    fault_id: str
    equipment_id: str
    fault_type: str
    start: int
    end: int
    description: str
    tags: tuple[str, ...] = ()
