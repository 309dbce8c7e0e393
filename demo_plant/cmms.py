"""CMMS work-order history (JSON lines) with planted personal data and two planted defects."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from demo_plant.ground_truth import DefectRecord
from demo_plant.model import Fault, Plant
from demo_plant.personnel import OFF_ROSTER, ROSTER, Person, PersonalData
from demo_plant.timebase import Timebase

HISTORY_DAYS = 90
_KEYS = (
    "wo_id",
    "equipment_id",
    "created_at",
    "closed_at",
    "wo_type",
    "priority",
    "status",
    "failure_mode",
    "technician",
    "description",
)

# repeated verbatim, as template texts are in real work-order histories
_PREVENTIVE = (
    "Quarterly lubrication of motor bearings according to PM plan. Grease quantity as specified. No findings.",
    "Monthly vibration route completed. All values within ISO 10816 zone A/B.",
    "Thermographic inspection of terminal box and cable connections. No hot spots found.",
    "Checked belt tension, alignment and coupling. OK.",
    "Wartung gemäß Wartungsplan durchgeführt. Keine Auffälligkeiten.",
)
_PREVENTIVE_BY_TYPE = {
    "compressor": "Replaced air intake filter and oil filter. Next service in 2000 operating hours.",
    "pressure_vessel": "Sicherheitsventil geprüft, Prüfprotokoll abgelegt.",
}
_FAILURE_MODES = ("bearing_wear", "seal_leak", "misalignment", "electrical_fault", "blockage", "lubrication_failure")

_Text = Callable[[str, PersonalData, np.random.Generator], str]


def _roster(rng: np.random.Generator) -> Person:
    return ROSTER[int(rng.integers(len(ROSTER)))]


def _off(rng: np.random.Generator) -> Person:
    return OFF_ROSTER[int(rng.integers(len(OFF_ROSTER)))]


def _c_bearing(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    p = _roster(rng)
    return (
        f"Replaced DE bearing on {eq} after vibration alarm. Called {pd.name(p)} ({pd.phone(p, rng)}) "
        "for alignment check."
    )


def _c_seal(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    p = _roster(rng)
    return f"Mechanical seal leaking on {eq}. Spare part ordered via {pd.name(p)}, {pd.email(p)}."


def _c_trip(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    p = _roster(rng)
    return (
        f"Motor {eq} tripped on overload. Reset by {pd.name(p)} ({pd.emp(p)}). Please call back at {pd.phone(p, rng)}."
    )


def _c_night(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    p = _roster(rng)
    return f"Night shift: {pd.name(p)} reports noisy bearing on {eq}. Mobile {pd.phone(p, rng)}."


def _c_shutdown(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    p = _roster(rng)
    return f"Coordinated shutdown window for {eq} with {pd.name(p)} (Tel. {pd.phone(p, rng)}, {pd.email(p)})."


def _c_german(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    p = _roster(rng)
    return f"Lager NDE an {eq} getauscht. Rückfragen an {pd.name(p)}, Tel. {pd.phone(p, rng)}."


def _c_contractor(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    o, p = _off(rng), _roster(rng)
    return (
        f"External service by {pd.name(o)} ({pd.email(o)}, {pd.phone(o, rng)}) on {eq}: coupling replaced. "
        f"Invoice to {pd.email(p)}."
    )


def _c_blockage(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    p = _roster(rng)
    return f"Blockage cleared on {eq}. Reported by {pd.emp(p)}, contact {pd.phone(p, rng)}."


def _i_noise(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    return f"Operator round: unusual noise reported near {eq}. Checked on site, no abnormality found."


def _i_leak(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    return f"Leak check on {eq} flange connections. Minor weeping, monitor at next round."


def _i_request(eq: str, pd: PersonalData, rng: np.random.Generator) -> str:
    p = _roster(rng)
    return f"Inspection of {eq} requested by {pd.name(p)} ({pd.emp(p)}). Result: OK."


_CORRECTIVE: tuple[_Text, ...] = (
    _c_bearing,
    _c_seal,
    _c_trip,
    _c_night,
    _c_shutdown,
    _c_german,
    _c_contractor,
    _c_blockage,
)
_INSPECTION: tuple[_Text, ...] = (_i_noise, _i_leak, _i_request)
_CORRECTIVE_MODE: dict[_Text, str] = {
    _c_bearing: "bearing_wear",
    _c_seal: "seal_leak",
    _c_trip: "overload",
    _c_night: "bearing_wear",
    _c_german: "bearing_wear",
    _c_contractor: "misalignment",
    _c_blockage: "blockage",
}


@dataclass
class _WO:
    equipment_id: str
    created: int
    closed: int | None
    wo_type: str
    priority: int
    failure_mode: str | None
    technician: str
    description: str
    status: str | None = None


def _minute(ts: float) -> int:
    return int(ts // 60) * 60


def _iso(ts: int | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WorkOrderHistory:
    """Builds ~50-150 work orders: routine history before and during the period plus the fault follow-ups."""

    def __init__(
        self,
        plant: Plant,
        tb: Timebase,
        faults: list[Fault],
        first_alarm: dict[str, int],
        rng: np.random.Generator,
        defects: bool = True,
    ) -> None:
        self.plant, self.tb, self.faults, self.first_alarm, self.rng = plant, tb, faults, first_alarm, rng
        self.defects = defects  # plant the unknown equipment id and the broken JSON line (not in a clean demo)
        self.pd = PersonalData()
        self.next_tech = 0

    def _technician(self) -> str:
        rng = self.rng
        if rng.random() < 0.1:
            return self.pd.name(_off(rng))
        p = ROSTER[self.next_tech % len(ROSTER)]
        self.next_tech += 1 + int(rng.integers(0, 3))
        return self.pd.name(p)

    def draw(self, node_id: str, eq_type: str) -> tuple[str, str, str | None, int, tuple[float, float]]:
        """One routine order's kind, text, failure mode, priority and duration range (hours)."""
        rng = self.rng
        kind = str(rng.choice(["preventive", "inspection", "corrective"], p=[0.5, 0.25, 0.25]))
        if kind == "preventive":
            pool = _PREVENTIVE + ((_PREVENTIVE_BY_TYPE[eq_type],) * 2 if eq_type in _PREVENTIVE_BY_TYPE else ())
            return kind, pool[int(rng.integers(len(pool)))], None, int(rng.integers(3, 5)), (0.5, 4)
        if kind == "inspection":
            fn = _INSPECTION[int(rng.integers(len(_INSPECTION)))]
            return kind, fn(node_id, self.pd, rng), None, int(rng.integers(2, 4)), (0.25, 2)
        fn = _CORRECTIVE[int(rng.integers(len(_CORRECTIVE)))]
        text, prio = fn(node_id, self.pd, rng), int(rng.integers(1, 3))
        mode = _CORRECTIVE_MODE.get(fn, _FAILURE_MODES[int(rng.integers(len(_FAILURE_MODES)))])
        return kind, text, mode, prio, (1, 30)

    def _routine(self, n: int) -> list[_WO]:
        rng, eqs = self.rng, self.plant.equipment
        out = []
        lo = self.tb.t0 - HISTORY_DAYS * 86400
        for _ in range(n):
            e = eqs[int(rng.integers(len(eqs)))]
            created = _minute(rng.uniform(lo, self.tb.t1 - 600))
            kind, text, mode, prio, hours = self.draw(e.node_id, e.eq_type)
            closed = created + _minute(rng.uniform(*hours) * 3600)
            out.append(_WO(e.node_id, created, closed, str(kind), prio, mode, self._technician(), text))
        return out

    def _fault_followups(self) -> list[_WO]:
        rng, pd = self.rng, self.pd
        out = []
        for f in self.faults:
            p, o = ROSTER[int(rng.integers(len(ROSTER)))], OFF_ROSTER[0]
            if f.fault_type == "bearing_wear":
                vib_tag = next((t for t in f.tags if t.endswith(".VIB_RMS")), f.tags[0])
                seen = self.first_alarm.get(vib_tag, f.start + (f.end - f.start) // 2)
                out.append(
                    _WO(
                        f.equipment_id,
                        _minute(seen + 900),
                        _minute(seen + 4500),
                        "inspection",
                        2,
                        None,
                        self._technician(),
                        f"Vibration alarm on {vib_tag}. Bearing inspection requested by {pd.name(p)}, "
                        f"{pd.phone(p, rng)}. Rising trend confirmed, replacement planned.",
                    )
                )
                jonas = ROSTER[0]
                out.append(
                    _WO(
                        f.equipment_id,
                        _minute(f.end),
                        _minute(f.end + 7200),
                        "corrective",
                        1,
                        "bearing_wear",
                        self._technician(),
                        f"Replaced DE bearing on {f.equipment_id} after vibration alarm. Called "
                        f"{pd.name(jonas)} ({pd.phone(jonas, rng, style=0)}) for alignment check.",
                    )
                )
            elif f.fault_type == "cavitation":
                out.append(
                    _WO(
                        f.equipment_id,
                        _minute(f.start + 2400),
                        _minute(f.end + 1800),
                        "corrective",
                        1,
                        "cavitation",
                        pd.name(o),
                        f"Cavitation noise and low suction pressure on {f.equipment_id}. Cleaned clogged "
                        f"suction strainer. Contractor {pd.name(o)} ({pd.email(o)}) on site, "
                        f"approved by {pd.emp(p)}.",
                    )
                )
            else:
                out.append(
                    _WO(
                        f.equipment_id,
                        _minute(f.end + 600),
                        None,
                        "inspection",
                        2,
                        "overload",
                        self._technician(),
                        f"Motor {f.equipment_id} overload, current above rating during batch. Check agitator "
                        f"gearbox and product viscosity. Contact {pd.name(p)} {pd.phone(p, rng)}.",
                        "OPEN",
                    )
                )
        return out

    def build(self) -> list[_WO]:
        n = int(np.clip(40 + 25 * self.tb.days, 50, 150))
        wos = self._routine(n - 5) + self._fault_followups()
        # make sure every roster member appears at least once
        for k, p in enumerate(ROSTER):
            if p.name not in self.pd.names:
                wos[k % len(wos)].technician = self.pd.name(p)
        # one order booked on an equipment id that is not in the register (typo: letter O for zero)
        if self.defects:
            wos[3].equipment_id = wos[3].equipment_id.replace("0", "O", 1) if "0" in wos[3].equipment_id else "P-1O1"
        wos.sort(key=lambda w: (w.created, w.equipment_id))
        for w in wos:
            if w.closed is not None and w.closed > self.tb.t1:
                w.closed = None
            if w.status is None:
                w.status = "CLOSED" if w.closed is not None else ("IN_PROGRESS" if self.rng.random() < 0.5 else "OPEN")
        return wos

    def write(self, wos: list[_WO], path: Path, rel_root: Path) -> list[DefectRecord]:
        known = {e.node_id for e in self.plant.equipment}
        lines, defects = [], []
        rel = path.relative_to(rel_root).as_posix()
        broken_at = next(i for i in range(len(wos) // 2, len(wos)) if wos[i].equipment_id in known)
        for i, w in enumerate(wos):
            rec = dict(
                zip(
                    _KEYS,
                    (
                        f"WO-{self.tb.start.year % 100:02d}-{4100 + i:06d}",
                        w.equipment_id,
                        _iso(w.created),
                        _iso(w.closed),
                        w.wo_type,
                        w.priority,
                        w.status,
                        w.failure_mode,
                        w.technician,
                        w.description,
                    ),
                    strict=True,
                )
            )
            text = json.dumps(rec, ensure_ascii=False)
            if i == broken_at and self.defects:
                # a hand-edited export: inner quotes not escaped
                text = text[:-2] + ' see photo "IMG_0042" on share"}'
                defects.append(
                    DefectRecord(
                        "broken_json",
                        rel,
                        [i + 1],
                        None,
                        "line is not valid JSON (unescaped quotes in description); "
                        "JSONL has no header, line 1 = first record",
                    )
                )
            if w.equipment_id not in known:
                defects.append(
                    DefectRecord(
                        "unknown_equipment_id",
                        rel,
                        [i + 1],
                        None,
                        f"work order references equipment {w.equipment_id!r}, not in the register",
                    )
                )
            lines.append(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return defects


def routine_texts(plant: Plant, n: int, seed: int = 7) -> list[str]:
    """`n` work-order texts drawn as the demo's routine history draws them: its templates, equipment and
    people, so their repetition is the demo's (for benchmarks at a scale the 90-day history does not reach)."""
    history = WorkOrderHistory(plant, None, [], {}, np.random.default_rng(seed))  # type: ignore[arg-type]
    eqs = plant.equipment
    picks = history.rng.integers(len(eqs), size=n)
    return [history.draw(eqs[int(i)].node_id, eqs[int(i)].eq_type)[1] for i in picks]
