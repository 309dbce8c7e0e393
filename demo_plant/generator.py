"""Orchestrates the demo plant: one call writes every export and the ground truth."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from demo_plant import alarms, defect_plan, faults, ground_truth, inspections, mes, register, schedule
from demo_plant.cmms import WorkOrderHistory
from demo_plant.defect_plan import STUCK_S, plan_defects
from demo_plant.errors import DemoArgumentError
from demo_plant.historian import HistorianWriter
from demo_plant.machines import PlantModel, grid
from demo_plant.personnel import write_roster
from demo_plant.rng import stream
from demo_plant.sampling import draw_periods, sample
from demo_plant.timebase import Timebase

_STALE = (("historian", "historian_*.csv"), ("alarms", "alarms_*.csv"))
MAX_PERIOD_S = STUCK_S // 2  # the planted stuck value must span two readings of its tag
MAX_DEFECTS = 100.0


@dataclass(frozen=True)
class DemoPlant:
    """What `generate` wrote."""

    out_dir: Path
    files: list[Path]
    historian_rows: int
    alarm_events: int
    production_orders: int
    work_orders: int
    tags: int
    equipment: int


def required_kinds() -> dict[str, tuple[str, ...]]:
    """Measuring points that must exist whatever the tag budget (fault signals, the degF tag)."""
    out = dict(faults.REQUIRED_KINDS)
    for eq_id, kinds in defect_plan.REQUIRED_KINDS.items():
        out[eq_id] = out.get(eq_id, ()) + kinds
    return out


def check_arguments(*, days: int, tags: int, min_period_s: int, max_period_s: int, defects: float = 1.0) -> None:
    """Raise `DemoArgumentError` naming the limit and the reason for an argument `generate` cannot work with."""
    if not 0 <= defects <= MAX_DEFECTS:
        raise DemoArgumentError(
            "defects", f"must be between 0 (a clean plant) and {MAX_DEFECTS:g} (times the usual defect rates)", defects
        )
    if days < 1:
        raise DemoArgumentError("days", "must be at least 1: the plant runs for whole local days", days)
    equipment, needed = register.minimum_tags(required_kinds())
    if tags < needed:
        raise DemoArgumentError(
            "tags",
            f"must be at least {needed}: the demo plant needs one measuring point per equipment ({equipment}) "
            f"plus {needed - equipment} more for its injected faults and planted export defects",
            tags,
        )
    if min_period_s < 1:
        raise DemoArgumentError("min_period_s", "must be at least 1: sampling periods are whole seconds", min_period_s)
    if max_period_s < min_period_s:
        raise DemoArgumentError(
            "max_period_s", f"must not be below the shortest sampling period ({min_period_s} s)", max_period_s
        )
    if max_period_s > MAX_PERIOD_S:
        raise DemoArgumentError(
            "max_period_s",
            f"must be at most {MAX_PERIOD_S} s: the planted stuck value lasts {STUCK_S // 60} minutes and must "
            "span at least two readings of its tag",
            max_period_s,
        )


def generate(
    out_dir: Path,
    *,
    days: int = 2,
    tags: int = 200,
    min_period_s: int = 1,
    max_period_s: int = 10,
    start: dt.date = dt.date(2024, 3, 30),
    timezone: str = "Europe/Berlin",
    seed: int = 7,
    defects: float = 1.0,
) -> DemoPlant:
    """Write the raw exports of one plant under `out_dir`; same arguments give byte-identical files.

    `defects` is the intensity of the planted export defects: 1 the usual rates, 5 five times as many, 0 a clean
    plant (no gaps, stuck values, spikes, duplicates, malformed rows, unit mix-ups or late exports).

    Raises `DemoArgumentError` (before touching `out_dir`) for arguments the plant cannot be built with.
    """
    check_arguments(days=days, tags=tags, min_period_s=min_period_s, max_period_s=max_period_s, defects=defects)
    out_dir = Path(out_dir)
    for sub, pattern in _STALE:
        for old in sorted((out_dir / sub).glob(pattern)):
            old.unlink()
    tb = Timebase(start, days, timezone)
    plant = register.build_plant(tags, stream(seed, "layout"), required_kinds())
    orders = schedule.build_schedule(plant.production_lines, tb, stream(seed, "schedule"))
    fault_list = faults.with_tags(faults.plan_faults(tb, orders, stream(seed, "faults")), plant)
    overload = faults.get(fault_list, "motor_overload")
    overload_order = faults.overload_order(fault_list, orders)
    orders = schedule.with_scrap(orders, overload_order, 6.85)
    t = grid(tb)
    running = schedule.line_running(
        orders, plant.production_lines, t, stream(seed, "jams"), keep=[(overload.start - 1800, overload.end + 600)]
    )
    signals = PlantModel(plant, tb, running, fault_list, stream(seed, "process")).simulate()
    plan = plan_defects(plant, fault_list, tb, stream(seed, "defects"), defects)
    periods = draw_periods(plant, min_period_s, max_period_s, stream(seed, "periods"))
    protected = frozenset(plant.points[i].tag for i in plan.avoid | plan.value_tags)
    samples = sample(
        plant,
        signals,
        grid_t=t,
        tb=tb,
        periods=periods,
        rng=stream(seed, "sampling"),
        no_bad_quality=protected,
        comm_loss_rate=plan.comm_loss_rate,
    )
    events = alarms.detect(plant, samples, signals, grid_t=t, tb=tb, rng=stream(seed, "alarms"))

    files: list[Path] = []
    reg_path = out_dir / "asset_register" / "asset_register.csv"
    register.write_register(plant, reg_path)
    files.append(reg_path)
    writer = HistorianWriter(plant, tb, plan, stream(seed, "export"))
    hist_files, hist_rows, planted = writer.write(samples, out_dir / "historian", out_dir)
    for path, exported in zip(hist_files, writer.export_times(), strict=True):
        os.utime(path, (exported, exported))  # the export time, which the gate's export_latency rule reads
    files += hist_files
    mes_path = out_dir / "mes" / "production_orders.csv"
    mes.write_orders(orders, tb, mes_path)
    files.append(mes_path)
    files += alarms.write_alarms(events, tb, out_dir / "alarms")
    qi_path = out_dir / "quality" / "inspections.csv"
    inspections.write_inspections(
        inspections.build_inspections(orders, overload, overload_order, tb, stream(seed, "inspections")), qi_path
    )
    files.append(qi_path)

    first_alarm = {}
    for ev in events:
        if ev.state == "ACTIVE" and ev.tag not in first_alarm:
            first_alarm[ev.tag] = ev.ts
    history = WorkOrderHistory(plant, tb, fault_list, first_alarm, stream(seed, "cmms"), defects=defects > 0)
    wos = history.build()
    wo_path = out_dir / "cmms" / "work_orders.jsonl"
    planted += history.write(wos, wo_path, out_dir)
    roster_path = out_dir / "cmms" / "personnel_roster.csv"
    write_roster(roster_path)
    files += [wo_path, roster_path]

    gt = out_dir / "ground_truth"
    ground_truth.write_faults(fault_list, tb, gt / "faults.json")
    ground_truth.write_defects(planted, gt / "defects.json")
    ground_truth.write_personal_data(history.pd.as_json(), gt / "personal_data.json")
    files += [gt / "faults.json", gt / "defects.json", gt / "personal_data.json"]
    return DemoPlant(
        out_dir, files, hist_rows, len(events), len(orders), len(wos), len(plant.points), len(plant.equipment)
    )
