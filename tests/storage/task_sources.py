"""Released sources for task-dataset builds on a data root on object storage, and machines that share that root."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from catalog.releases import ReleaseRoot
from catalog.store import CatalogStore
from config.layout import Layout
from tests.task_datasets.releases import DAYS, _readings, _register, verdict


def machine(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Layout:
    """A machine working on the data root `url`: its own cache (and so its own working folder and catalog cache)."""
    monkeypatch.setenv("PLANTDATA_HOME", url)
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / f"cache{name}"))
    return Layout.at(url)


def publish_sources(layout: Layout, tmp_path: Path) -> None:
    """Release `hist` (two days) and `register` on the store, judged by the gate and listed in the catalog."""
    store = CatalogStore.of(layout)
    releases = ReleaseRoot.of(layout)
    parts = {"hist": {f"day={d}": _readings(d) for d in DAYS}, "register": {"file=register.csv": _register()}}
    with store.publication() as con:
        for (dataset, tables), grade in zip(parts.items(), (2, 1), strict=True):
            staging = tmp_path / "staging" / dataset
            for part, table in tables.items():
                (staging / part).mkdir(parents=True, exist_ok=True)
                pq.write_table(table, staging / part / "part-0.parquet")
                verdict(layout, dataset, part.partition("=")[2])
            location = releases.place(staging, dataset, 1)
            con.execute(
                "INSERT INTO datasets VALUES (?, 'fixture', 'historian_long', 'historian', 'ops', NULL, now())",
                [dataset],
            )
            con.execute("INSERT INTO versions VALUES (?, 1, now(), 'r', 1, 1, 'x', ?)", [dataset, location])
            con.execute(
                "INSERT INTO security_grades VALUES (?, 1, ?, 'general', ?)",
                [dataset, grade, json.dumps([f"grade {grade}: fixture rule"])],
            )
            con.execute(
                "INSERT INTO quality_scores (dataset, version, partition_key, run_id, evaluated_at, dimension, score, "
                "overall, grade, rows) VALUES (?, 1, 'k', 'r', 'now', 'completeness', 90.0, 90, 'B', 10)",
                [dataset],
            )
