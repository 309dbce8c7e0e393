"""bench pipeline runs every stage from a fresh CSV to a published catalog version (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.pipeline import STAGES
from catalog.queries import show_dataset
from catalog.store import CatalogStore
from config.layout import Layout
from pipelines.cli import main


def test_bench_pipeline_times_each_stage_and_publishes_a_catalog_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANTDATA_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["bench", "pipeline", "--rows", "3000", "--repeats", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["rows"] == report["rows_out"] == report["catalog_rows"] == 3000
    assert report["rows_quarantined"] == 0
    assert set(report["stages_s"]) == set(report["ratios"]) == set(STAGES)
    assert all(report["stages_s"][s] >= 0 for s in STAGES) and report["duckdb_copy_s"] > 0
    assert report["total_s"] > 0 and report["ratio"] > 0 and report["peak_rss_mb"] > 0
    assert isinstance(report["within_target"], bool) and report["gx_import_s"] > 0
    home = Layout(tmp_path).root / "bench" / "ingest" / "pipeline-home"
    shown = show_dataset(CatalogStore(Layout(home).catalog()), "historian")
    assert shown["version"] == report["catalog_version"] == 1
    assert shown["row_count"] == 3000
