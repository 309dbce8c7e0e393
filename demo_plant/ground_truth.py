"""Ground-truth files written apart from the exports: faults, planted defects, planted personal data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from demo_plant.model import Fault
from demo_plant.timebase import Timebase


@dataclass(frozen=True)
class DefectRecord:
    """One planted export defect; `lines` are 1-based physical line numbers (header = line 1)."""

    defect: str
    file: str
    lines: list[int] | None
    tag: str | None
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"defect": self.defect, "file": self.file, "lines": self.lines, "tag": self.tag, "detail": self.detail}


def _dump(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_faults(faults: list[Fault], tb: Timebase, path: Path) -> None:
    _dump(
        [
            {
                "fault_id": f.fault_id,
                "equipment_id": f.equipment_id,
                "tags": list(f.tags),
                "fault_type": f.fault_type,
                "start_utc": tb.iso_utc(f.start),
                "end_utc": tb.iso_utc(f.end),
                "description": f.description,
            }
            for f in faults
        ],
        path,
    )


def write_defects(defects: list[DefectRecord], path: Path) -> None:
    _dump([d.as_json() for d in defects], path)


def write_personal_data(personal: dict[str, list[str]], path: Path) -> None:
    _dump(personal, path)
