"""`plantdata bench storage` against the test's bucket: every way of reading, and the pipeline into a data root there,
is timed and compared with local files."""

from __future__ import annotations

from pathlib import Path

from bench.storage import run_storage_bench
from config.storage import open_storage


def test_the_storage_bench_times_every_reader_and_cleans_up(bucket: str, tmp_path: Path) -> None:
    result = run_storage_bench(20_000, tmp_path, 1, f"s3://{bucket}/runs")
    ratios = {key: value for key, value in result.items() if key.startswith("ratio_")}
    assert set(ratios) == {
        "ratio_duckdb_s3_fsspec_count_sum",
        "ratio_duckdb_s3_arrow_dataset_count_sum",
        "ratio_duckdb_s3_fsspec_scan_to_arrow",
        "ratio_duckdb_s3_fsspec_hive_count",
        "ratio_duckdb_s3_arrow_dataset_hive_count",
        "ratio_arrow_s3_read_table",
        "ratio_pipeline_s3_home",
        *(
            f"ratio_pipeline_s3_home_{stage}"
            for stage in ("ingest", "gate", "pii_scan", "release", "profile", "catalog")
        ),
    }
    assert all(value > 0 for value in ratios.values())
    assert result["pipeline_local_s"] > 0 and result["pipeline_s3_home_s"] > 0
    assert open_storage(f"s3://{bucket}/runs").list("") == [], "the run's objects are removed"
