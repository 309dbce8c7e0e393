"""Small released sources for builder tests: Parquet releases, the gate's verdicts and catalog rows, no demo run.

Two pumps (P-1, P-2) with one vibration tag each, one reading a minute for two days; P-1 vibrates high on the
afternoon of each day. A spec labels windows by a threshold rule and splits them by time.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from catalog.store import CatalogStore
from config.layout import Layout
from quality import history
from quality.evaluate import PartitionEvaluation, RuleResult

DAYS = ("2024-01-01", "2024-01-02")
START = datetime(2024, 1, 1, tzinfo=UTC)

SPEC = """
name: test_pumps
title: Test pump faults
description: Hourly windows of two pumps' vibration.
task: classification
scenario: operation_maintenance
license: Apache-2.0
sources:
  readings: {dataset: hist, version: latest}
  register: {dataset: register, version: latest}
examples:
  kind: windows
  readings: readings
  asset_register: register
  equipment: [P-1, P-2]
  signals: [VIB]
  window: PT1H
  resample: PT5M
  aggregates: AGGREGATES
target: {column: fault, kind: class, classes: [normal, high_vibration]}
labels:
  precedence: [rule]
  rule: {signal: VIB, above: THRESHOLD, label: high_vibration, default: normal}
splits:
  method: time
  gap: PT2H
  validation: 2024-01-01T20:00:00Z
  test: 2024-01-02T06:00:00Z
baseline: {model: random_forest, metric: macro_f1}
"""


def write_spec(folder: Path, threshold: float = 5.0, aggregates: str = "[mean, max]", extra: str = "") -> Path:
    path = folder / "spec.yaml"
    text = SPEC.replace("THRESHOLD", str(threshold)).replace("AGGREGATES", aggregates)
    path.write_text(textwrap.dedent(text).lstrip() + extra, encoding="utf-8")
    return path


def _readings(day: str) -> pa.Table:
    first = START + timedelta(days=DAYS.index(day))
    ts, tags, values = [], [], []
    for minute in range(24 * 60):
        at = first + timedelta(minutes=minute)
        for tag in ("P1.VIB", "P2.VIB"):
            high = tag == "P1.VIB" and 12 <= at.hour < 16
            ts.append(at)
            tags.append(tag)
            values.append((8.0 if high else 2.0) + (minute % 7) * 0.1)
    return pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "tag": tags,
            "value": pa.array(values, pa.float64()),
            "quality_class": ["good"] * len(ts),
            "equipment_id": ["P-1" if t.startswith("P1") else "P-2" for t in tags],
        }
    )


def _register() -> pa.Table:
    rows = [
        ("U-1", None, "unit", None),
        ("P-1", "U-1", "equipment", None),
        ("P-2", "U-1", "equipment", None),
        ("P-1.VIB", "P-1", "measurement_point", "P1.VIB"),
        ("P-2.VIB", "P-2", "measurement_point", "P2.VIB"),
    ]
    names = ("node_id", "parent_id", "level", "tag")
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


def verdict(layout: Layout, source: str, key: str, passed: bool = True) -> None:
    """The gate's evaluation of one partition: passed, or failed by an error-severity partition rule."""
    result = RuleResult(
        "row_count", "completeness", "partition", "error", "rows arrived", 10, 0 if passed else 10, passed=passed
    )
    stamp = f"2024-02-0{1 + len(history.runs(layout, source, key))}T00:00:00"
    history.save(layout, PartitionEvaluation(source, key, f"run{stamp[9]}", stamp, 10, [result], {"accuracy": 99.0}))


def publish_fixture(layout: Layout, grades: tuple[int, int] = (2, 1)) -> None:
    """Release `hist` (two day partitions, grade grades[0]) and `register` (grade grades[1]), judged and listed."""
    store = CatalogStore(layout.catalog())
    releases = {"hist": {f"day={d}": _readings(d) for d in DAYS}, "register": {"file=register.csv": _register()}}
    with store.publication() as con:
        for (dataset, parts), grade in zip(releases.items(), grades, strict=True):
            folder = layout.releases(dataset) / "v1"
            for part, table in parts.items():
                (folder / part).mkdir(parents=True, exist_ok=True)
                pq.write_table(table, folder / part / "part-0.parquet")
                verdict(layout, dataset, part.partition("=")[2])
            con.execute(
                "INSERT INTO datasets VALUES (?, 'fixture', 'historian_long', 'historian', 'ops', NULL, now())",
                [dataset],
            )
            con.execute("INSERT INTO versions VALUES (?, 1, now(), 'r', 1, 1, 'x', ?)", [dataset, str(folder)])
            con.execute(
                "INSERT INTO security_grades VALUES (?, 1, ?, 'general', ?)",
                [dataset, grade, json.dumps([f"grade {grade}: fixture rule"])],
            )
            con.execute(
                "INSERT INTO quality_scores (dataset, version, partition_key, run_id, evaluated_at, dimension, score, "
                "overall, grade, rows) VALUES (?, 1, 'k', 'r', 'now', 'completeness', ?, 90, 'B', 10)",
                [dataset, 90.0 if dataset == "hist" else 99.0],
            )
