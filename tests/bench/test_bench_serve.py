"""`plantdata bench serve` end to end at a small size: a real server process, clients and a publisher at once."""

from __future__ import annotations

from pathlib import Path

from bench.serve import run_serve_bench


def test_serve_bench_runs_clients_against_a_publishing_catalog_without_errors(tmp_path: Path) -> None:
    result = run_serve_bench(datasets=60, folder=tmp_path, clients=4, seconds=4, think_ms=20)
    assert result["errors"] == 0, result["first_errors"]
    assert result["publications_during_run"] >= 1  # the publisher really wrote versions while clients read
    assert result["search_p95_ms"] is not None and result["page_p95_ms"] is not None
    assert result["baseline_healthz_p95_ms"] is not None
    assert result["requests"] > 10
