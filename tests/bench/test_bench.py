"""The benchmarks run and measure what they say (no timing is asserted: speed belongs to `make bench`)."""

from __future__ import annotations

from pathlib import Path

from bench.ingest import run_ingest_bench


def test_ingest_bench_ingests_every_row_and_reports_both_sides(tmp_path: Path) -> None:
    result = run_ingest_bench(5000, tmp_path)
    assert result["rows"] == result["rows_out"] == 5000
    assert result["rows_quarantined"] == 0
    assert result["plantdata_s"] > 0 and result["duckdb_copy_s"] > 0
    assert abs(result["ratio"] - result["plantdata_s"] / result["duckdb_copy_s"]) < 0.01 * result["ratio"] + 0.01
    assert {"peak_rss_mb", "discover_s", "standardise_s"} <= set(result)
