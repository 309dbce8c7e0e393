"""A small task-dataset version folder (Parquet per split + manifest.json) following the shared contract exactly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from config.commit import commit_parquet

ROWS = {"train": 6, "validation": 2, "test": 3}
CLASSES = ["bearing_wear", "normal"]


def _split_table(split: str, rows: int) -> pa.Table:
    start = {"train": 0, "validation": 100, "test": 200}[split]
    labels = [CLASSES[(i + start) % 2] for i in range(rows)]
    return pa.table(
        {
            "window_id": pa.array([f"{split}-{i:03d}" for i in range(rows)]),
            "window_start": pa.array(
                [1_767_225_600_000_000 + (start + i) * 3_600_000_000 for i in range(rows)], pa.timestamp("us", "UTC")
            ),
            "unit": pa.array(
                [f"P-{(i % 2) + (1 if split == 'train' else 3)}" for i in range(rows)]
            ).dictionary_encode(),
            "vibration_rms": pa.array([None if i == 4 else 0.5 + 0.25 * i for i in range(rows)], pa.float64()),
            "temperature_max": pa.array([40.0 + i for i in range(rows)], pa.float32()),
            "samples": pa.array([None if i == 4 else 60 + i for i in range(rows)], pa.int32()),  # nulls: a sensor gap
            "window": pa.array([[0.1 * i, 0.2 * i, 0.3 * i] for i in range(rows)], pa.list_(pa.float64())),
            "running": pa.array([i % 3 != 0 for i in range(rows)]),
            "fault_class": pa.array(labels),
            "label_source": pa.array(["expert_consensus" if i % 2 else "work_orders" for i in range(rows)]),
        }
    )


def build_version(
    root: Path, name: str = "pump_fault", version: int = 1, rename: dict[str, str] | None = None
) -> tuple[Path, dict[str, Any]]:
    """Write data/<split>.parquet and manifest.json as core's builder does; return the folder and the manifest.

    `rename` renames feature columns (to try names that are awkward in an IRI).
    """
    rename = rename or {}
    version_dir = root / name / f"v{version}"
    files = []
    balance: dict[str, dict[str, int]] = {}
    for split, rows in ROWS.items():
        table = _split_table(split, rows)
        table = table.rename_columns([rename.get(n, n) for n in table.column_names])
        path = version_dir / "data" / f"{split}.parquet"
        commit_parquet(path, table)
        data = path.read_bytes()
        files.append(
            {
                "split": split,
                "path": f"data/{split}.parquet",
                "sha256": hashlib.sha256(data).hexdigest(),
                "rows": rows,
                "bytes": len(data),
            }
        )
        labels = table.column("fault_class").to_pylist()
        balance[split] = {cls: labels.count(cls) for cls in CLASSES}
    schema_types = {rename.get(f.name, f.name): str(f.type) for f in _split_table("train", 1).schema}
    roles = {
        "window_id": "key",
        "window_start": "time",
        "unit": "group",
        "fault_class": "target",
        "label_source": "label_provenance",
    }
    manifest: dict[str, Any] = {
        "name": name,
        "version": version,
        "title": "Pump fault diagnosis from sensor windows",
        "description": "One-hour vibration and temperature windows of the demo plant's pumps, labelled by fault class.",
        "task": "classification",
        "scenario": "operation_maintenance",
        "license": "Apache-2.0",
        "spec_sha256": "ab" * 32,
        "code_version": "6f54382",
        "content_sha256": hashlib.sha256("".join(sorted(f["sha256"] for f in files)).encode()).hexdigest(),
        "files": files,
        "schema": [
            {"name": col, "type": typ, "role": roles.get(col, "feature"), "description": f"the {col} column"}
            for col, typ in schema_types.items()
        ],
        "target": {"column": "fault_class", "kind": "class", "classes": CLASSES},
        "sources": [
            {"dataset": "historian", "version": 3, "partitions": [{"key": "2026-01-01", "sha256": "cd" * 32}]},
            {"dataset": "work_orders", "version": 2, "partitions": [{"key": "2026-01", "sha256": "ef" * 32}]},
        ],
        "labels": {
            "precedence": ["expert_consensus", "work_orders", "rule"],
            "provenance": {"expert_consensus": 5, "work_orders": 6},
            "projects": [{"project": "pump_windows", "version": 2, "agreement": 0.8125, "annotators": 3}],
        },
        "splits": {
            "method": "time+group",
            "group_by": "unit",
            "gap": "P1D",
            "boundaries": {"train_end": "2026-01-01T06:00:00Z", "test_start": "2026-01-09T08:00:00Z"},
            "class_balance": balance,
            "disjoint": True,
            "adversarial_auc": 0.5417,
        },
        "baseline": {"model": "RandomForestClassifier", "metric": "macro_f1", "value": 0.6667, "split": "test"},
        "quality": {"overall": 0.9312, "grade": "A", "dimensions": {"completeness": 0.98, "validity": 0.9}},
        "security": {"grade": "2", "reasons": ["historian v3 is grade 2: process parameters of a production line"]},
        "classification": {
            "data_type": "time_series",
            "modality": "time_series",
            "domain": "operation_maintenance",
            "source_systems": ["historian", "cmms"],
            "scenario": "operation_maintenance",
        },
        "personal_data": {"present": False, "treatment": "technician names masked in work orders", "columns": []},
    }
    text = json.dumps(manifest, indent=2, sort_keys=True)
    (version_dir / "manifest.json").write_text(text, encoding="utf-8")
    return version_dir, manifest


@pytest.fixture
def version(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    return build_version(tmp_path / "datasets")


FACTS = {
    "motivation": "Diagnose <pump> faults early & cheaply.",
    "date_published": "2026-01-10",
    "biases": ["Pumps P-1 and P-2 only in train."],
    "annotator_demographics": "Three maintenance technicians of the plant.",
}


@pytest.fixture
def read_table() -> Any:
    return pq.read_table
