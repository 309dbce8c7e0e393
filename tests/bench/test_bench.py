"""The benchmarks run and measure what they say (no timing is asserted: speed belongs to `make bench`)."""

from __future__ import annotations

from pathlib import Path

from bench.ingest import run_ingest_bench


def test_ingest_bench_ingests_every_row_and_reports_both_sides(tmp_path: Path) -> None:
    result = run_ingest_bench(5000, tmp_path, repeats=2)
    assert result["rows"] == result["rows_out"] == 5000 and result["repeats"] == 2
    assert result["rows_quarantined"] == 0
    assert result["plantdata_s"] > 0 and result["duckdb_copy_s"] > 0
    # the ratio is of the unrounded times: it lies within what the times rounded to milliseconds allow
    ours, copy = result["plantdata_s"], result["duckdb_copy_s"]
    assert (ours - 0.0005) / (copy + 0.0005) - 0.001 <= result["ratio"] <= (ours + 0.0005) / (copy - 0.0005) + 0.001
    assert {"peak_rss_mb", "discover_s", "standardise_s"} <= set(result)
    # the floor wrote every row, and its ratio is of the same COPY
    assert result["floor_rows"] == 5000 and result["floor_s"] > 0
    floor = result["floor_s"]
    low, high = (floor - 0.0005) / (copy + 0.0005), (floor + 0.0005) / (copy - 0.0005)
    assert low - 0.001 <= result["floor_ratio"] <= high + 0.001


def test_catalog_bench_searches_a_catalog_of_the_size_asked(tmp_path: Path) -> None:
    from bench.catalog import run_catalog_bench
    from catalog.queries import list_datasets
    from catalog.store import CatalogStore

    result = run_catalog_bench(300, tmp_path)
    assert result["datasets"] == 300 and result["queries"] == 200
    assert len(list_datasets(CatalogStore(tmp_path / "catalog"))) == 300
    assert 0 < result["search_p50_ms"] <= result["search_p95_ms"] and result["raw_ilike_p95_ms"] > 0
    assert result["mean_hits"] > 0, "the queries find datasets"


def test_pii_bench_texts_are_distinct_or_repeated_as_it_says() -> None:
    from bench.pii import distinct_texts, history_texts

    assert len(set(distinct_texts(500))) == 500
    history = history_texts(2000)
    assert len(history) == 2000 and len(set(history)) < len(history) / 2, "the demo's texts repeat"
