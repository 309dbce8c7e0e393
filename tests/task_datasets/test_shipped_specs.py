"""Every shipped spec builds on the demo plant (and SKAB), its Croissant file validates with mlcroissant, and each
split loads with the four readers with the manifest's row counts.

The expert labels come from the demo's ground truth published as label releases (what `plantdata annotate demo`
publishes after Label Studio, without the server): the builder reads releases, not Label Studio.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from annotation.dataset import SCHEMA
from catalog.labels import LabelsPublication, publish_labels
from catalog.store import CatalogStore
from config.layout import Layout
from demo_plant import generate
from pipelines.run import run_all
from task_datasets.build import build
from task_datasets.croissant import validate
from task_datasets.readers import READERS, load_with
from tests.conftest import REPO

SPECS = sorted([*REPO.glob("demo_plant/datasets/*.yaml"), *REPO.glob("examples/skab/datasets/*.yaml")])
SKAB_SOURCES = REPO / "examples" / "skab" / "sources.yaml"


def _skab_data() -> Path:
    """Where SKAB's recordings are: SKAB_DIR, else beside the repository (the sources file's own default)."""
    return Path(os.environ.get("SKAB_DIR") or SKAB_SOURCES.parent / "../../../shared/data/skab").resolve()


def _labels(rows: list[dict[str, object]]) -> pa.Table:
    full = [{name: row.get(name) for name in SCHEMA.names} for row in rows]
    return pa.Table.from_pylist(full, schema=SCHEMA)


def _publish_pump_faults(store: CatalogStore, layout: Layout, faults: list[dict[str, str]]) -> None:
    """Consensus segments of P-101's faults over 4-hour windows of the first day."""
    rows = []
    for hour in range(0, 24, 4):
        start = datetime(2024, 3, 30, hour, tzinfo=UTC)
        end = start + timedelta(hours=4)
        segments = []
        for fault in (f for f in faults if f["equipment_id"] == "P-101"):
            lo = max(start, datetime.fromisoformat(fault["start_utc"].replace("Z", "+00:00")))
            hi = min(end, datetime.fromisoformat(fault["end_utc"].replace("Z", "+00:00")))
            if lo < hi:
                segments.append({"start": lo.timestamp(), "end": hi.timestamp(), "label": fault["fault_type"]})
        keys = {"equipment_id": "P-101", "start": start.isoformat(), "end": end.isoformat(), "channels": []}
        rows.append(
            {
                "task_key": f"t{hour}",
                "row_keys": json.dumps(keys),
                "consensus_segments": json.dumps(segments),
                "consensus_method": "unanimous",
                "task_agreement": 1.0,
            }
        )
    _publish(store, layout, "pump_faults", "historian", _labels(rows))


def _publish_work_order_failures(store: CatalogStore, layout: Layout) -> None:
    release = layout.releases("work_orders") / "v1"
    orders = duckdb.sql(
        "SELECT wo_id, coalesce(failure_mode, 'no_failure') FROM read_parquet(?) ORDER BY wo_id LIMIT 30",
        params=[[str(p) for p in sorted(release.glob("*/*.parquet"))]],
    ).fetchall()
    rows = [
        {"task_key": wo, "row_keys": json.dumps({"wo_id": wo}), "consensus_label": mode, "consensus_method": "majority"}
        for wo, mode in orders
    ]
    _publish(store, layout, "work_order_failures", "work_orders", _labels(rows))


def _publish(store: CatalogStore, layout: Layout, project: str, dataset: str, table: pa.Table) -> None:
    progress = {"tasks": table.num_rows, "annotated_tasks": table.num_rows, "annotators": 2, "alpha": 0.8}
    publication = LabelsPublication(f"labels_{project}", project, "test labels", dataset, 1, table, progress)
    publish_labels(store, layout, publication, run_id="test")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    layout = Layout(tmp_path_factory.mktemp("shipped") / "home")
    generate(layout.root / "demo", days=2, tags=200, min_period_s=30, max_period_s=60)
    with pytest.MonkeyPatch.context() as patch:  # the sources files name their exports under ${PLANTDATA_HOME}
        patch.setenv("PLANTDATA_HOME", str(layout.root))
        with_skab = [SKAB_SOURCES] if _skab_data().is_dir() else []  # a clone elsewhere has no SKAB beside it
        for sources in [REPO / "demo_plant" / "sources.yaml", *with_skab]:
            outcomes = run_all(sources, layout.root)
            assert all(o.success for o in outcomes), [(o.source, o.error, o.problems) for o in outcomes]
    store = CatalogStore(layout.catalog())
    faults = json.loads((layout.root / "demo" / "ground_truth" / "faults.json").read_text(encoding="utf-8"))
    _publish_pump_faults(store, layout, faults)
    _publish_work_order_failures(store, layout)
    return layout


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_a_shipped_spec_builds_validates_and_loads_with_every_reader(
    demo: Layout, spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if spec.is_relative_to(SKAB_SOURCES.parent) and not _skab_data().is_dir():
        pytest.skip(f"SKAB's recordings are not at {_skab_data()}: set SKAB_DIR to build its spec")
    monkeypatch.setenv("PLANTDATA_HOME", str(demo.root))
    result = build(spec, demo)
    manifest = json.loads((result.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["splits"]["disjoint"] and {f["split"] for f in manifest["files"]} == {"train", "validation", "test"}
    assert validate(result.folder / "croissant.json") == []
    for entry in manifest["files"]:
        for reader in READERS:
            loaded = load_with(reader, result.folder, entry["split"])
            rows = len(loaded) if isinstance(loaded, pl.DataFrame) else int(getattr(loaded, "num_rows", 0) or 0)
            if isinstance(loaded, duckdb.DuckDBPyRelation):
                rows = len(loaded.fetchall())
            assert rows == entry["rows"], (reader, entry["split"])
    if manifest["labels"]["projects"]:
        assert "expert_consensus" in manifest["labels"]["provenance"]
