"""The demo plant's ground truth as the simulated experts' oracle: what a perfect expert would answer.

Read from what the generator wrote beside the exports (faults.json, and the raw CMMS and QMS exports before
any masking), never from a release or a labels dataset.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from annotation.labels import Segment
from annotation.projects import ProjectSpec, TaskKind
from annotation.simulate import Answer

NO_FAILURE = "no_failure"
# the part a failure mode points at, as a maintenance expert would name it
COMPONENT = {
    "bearing_wear": "bearing",
    "lubrication_failure": "bearing",
    "seal_leak": "mechanical_seal",
    "misalignment": "coupling",
    "cavitation": "impeller",
    "blockage": "impeller",
    "overload": "motor",
    "electrical_fault": "motor",
}


class DemoOracle:
    """Answers for the demo's three projects from its ground truth under `<demo>/`."""

    def __init__(self, demo: Path) -> None:
        self.faults = json.loads((demo / "ground_truth" / "faults.json").read_text(encoding="utf-8"))
        self.failure_modes: dict[str, str | None] = {}
        for line in (demo / "cmms" / "work_orders.jsonl").read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the demo's planted broken line
            if isinstance(record, dict) and "wo_id" in record:
                self.failure_modes[str(record["wo_id"])] = record.get("failure_mode")
        self.inspections: dict[str, bool] = {}
        with (demo / "quality" / "inspections.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                self.inspections[row["inspection_id"]] = _consistent(row)

    def answer(self, spec: ProjectSpec, data: dict[str, Any], row_keys: dict[str, Any]) -> Answer | None:
        if spec.kind is TaskKind.SENSOR_FAULTS:
            return self._segments(row_keys)
        if spec.kind is TaskKind.WORK_ORDER_FAILURE:
            wo_id = str(row_keys.get("wo_id"))
            if wo_id not in self.failure_modes:
                return None
            mode = self.failure_modes[wo_id] or NO_FAILURE
            return Answer(choice=mode, component=COMPONENT.get(mode))
        inspection = str(row_keys.get("inspection_id"))
        if inspection not in self.inspections:
            return None
        return Answer(choice="accept" if self.inspections[inspection] else "reject")

    def _segments(self, row_keys: dict[str, Any]) -> Answer:
        start, end = _epoch(row_keys["start"]), _epoch(row_keys["end"])
        spans = []
        for fault in self.faults:
            if fault["equipment_id"] != row_keys.get("equipment_id"):
                continue
            lo, hi = max(start, _epoch(fault["start_utc"])), min(end, _epoch(fault["end_utc"]))
            if lo < hi:
                spans.append(Segment(lo, hi, str(fault["fault_type"])))
        return Answer(segments=tuple(spans))


def _consistent(row: dict[str, str]) -> bool:
    """A record is right when its PASS/FAIL agrees with the value against its limits."""
    try:
        inside = float(row["lower_spec"]) <= float(row["measured_value"]) <= float(row["upper_spec"])
    except ValueError:
        return False
    return inside == (row["result"].strip().upper() == "PASS")


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
