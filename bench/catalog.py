"""`plantdata bench catalog`: search latency over a catalog of N datasets, against a raw DuckDB baseline.

A synthetic catalog (3 versions per dataset, 20 columns, classes, grades, quality and PII rows per version)
is written through the real schema and store. Each query is timed as the CLI runs it: open the current
snapshot read-only, run the search with its effective classes and grades, close. The baseline is the
bare ILIKE over dataset names and descriptions on an already open connection, measured in the same run.
"""

from __future__ import annotations

import random
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.synthetic_catalog import DOMAINS, WORDS, fill
from catalog.queries import search
from catalog.store import CatalogStore

QUERIES = 200


def run_catalog_bench(datasets: int, folder: Path, seed: int = 7) -> dict[str, Any]:
    folder = folder / "catalog"
    shutil.rmtree(folder, ignore_errors=True)
    store = CatalogStore(folder)
    started = time.perf_counter()
    fill(store, datasets)
    built = time.perf_counter() - started
    rng = random.Random(seed)
    queries = [
        (rng.choice(WORDS), rng.choice([None, None, 1, 2, 3]), rng.choice([None, None, *DOMAINS]))
        for _ in range(QUERIES)
    ]
    ours, hits = _time(lambda q: len(search(store, *q)), queries)
    path = store.current()
    assert path is not None
    with duckdb.connect(str(path), read_only=True) as con:
        raw, _ = _time(
            lambda q: len(
                con.execute(
                    "SELECT name FROM datasets WHERE name ILIKE $1 OR description ILIKE $1", [f"%{q[0]}%"]
                ).fetchall()
            ),
            queries,
        )
    p95, raw_p95 = _p95(ours), _p95(raw)
    return {
        "datasets": datasets,
        "queries": len(queries),
        "search_p50_ms": round(statistics.median(ours), 2),
        "search_p95_ms": round(p95, 2),
        "raw_ilike_p95_ms": round(raw_p95, 2),
        "ratio_p95": round(p95 / raw_p95, 2),
        "target_p95_ms": 20,
        "mean_hits": round(sum(hits) / len(hits), 1),
        "catalog_mb": round(path.stat().st_size / 2**20, 1),
        "build_s": round(built, 2),
    }


def _time(run: Any, queries: list[tuple[str, int | None, str | None]]) -> tuple[list[float], list[int]]:
    run(queries[0])  # warm the file cache once
    times, hits = [], []
    for query in queries:
        started = time.perf_counter()
        hits.append(run(query))
        times.append((time.perf_counter() - started) * 1000)
    return times, hits


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]
