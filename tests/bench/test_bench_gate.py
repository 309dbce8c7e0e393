"""`plantdata bench gate` at a small size: what it reports is consistent (not how fast it is)."""

from pathlib import Path

from bench.gate import run_gate_bench


def test_gate_bench_reports_evaluation_and_output_against_the_raw_copy(tmp_path: Path) -> None:
    result = run_gate_bench(20_000, tmp_path, repeats=1)
    assert result["rows"] == 20_000
    assert result["gate_s"] >= result["evaluate_s"] > 0 and result["publish_s"] > 0
    assert abs(result["gate_s"] - result["evaluate_s"] - result["publish_s"]) < 0.01
    assert abs(result["ratio"] - result["gate_s"] / result["duckdb_copy_s"]) < 0.05 * result["ratio"] + 0.01
    assert result["peak_rss_mb"] > 0 and result["gx_import_s"] > 0
    gated = list((tmp_path / "ingest" / "gate-home" / "gated" / "historian").rglob("*.parquet"))
    assert gated, "the gate published the partitions it judged"
