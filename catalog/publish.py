"""Publish a gated source into the catalog as a new dataset version, with profiles, lineage and quality."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from catalog.classify import Suggestion, facts_for, suggest
from catalog.errors import CatalogError
from catalog.store import CatalogStore
from ingest.config import SourceConfig
from ingest.layout import Layout
from ingest.manifest import read_manifests
from quality import history

NUMERIC = ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "DECIMAL", "HUGEINT", "TINYINT")


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str
    nulls: int
    distinct_approx: int
    min: str | None
    max: str | None
    q25: str | None
    q50: str | None
    q75: str | None
    rows: int
    histogram: str | None


@dataclass(frozen=True)
class PublishedVersion:
    dataset: str
    version: int
    row_count: int
    new: bool


def publish_source(
    store: CatalogStore, source: SourceConfig, layout: Layout, run_id: str, actor: str = "plantdata"
) -> PublishedVersion:
    """Publish `gated/<source>` as the next version of dataset `source.name` (unchanged content: no new version)."""
    files = sorted(layout.gated(source.name).glob("*/part-*.parquet"))
    if not files:
        raise CatalogError(f"{source.name}: nothing passed the quality gate yet, so there is nothing to publish")
    content = _content_sha(files)
    unchanged = _unchanged(store, source.name, content)
    if unchanged is not None:
        return unchanged
    paths = [str(f) for f in files]
    profile = _profile(paths)  # reads the data outside the catalog transaction
    register = _register_files(source, layout)
    suggestion = suggest(facts_for(paths, source.kind.value, source.system.value, register))
    with store.publication() as con:
        latest = con.execute(
            "SELECT version, content_sha256, row_count FROM versions WHERE dataset = ? ORDER BY version DESC LIMIT 1",
            [source.name],
        ).fetchone()
        if latest is not None and latest[1] == content:
            return PublishedVersion(source.name, int(latest[0]), int(latest[2]), new=False)
        version = int(latest[0]) + 1 if latest else 1
        now = datetime.now(UTC)
        con.execute(
            "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, NULL, ?) ON CONFLICT (name) DO UPDATE SET "
            "description = excluded.description, source_kind = excluded.source_kind, "
            "source_system = excluded.source_system, owner = excluded.owner",
            [
                source.name,
                source.description or source.kind.value,
                source.kind.value,
                source.system.value,
                source.owner,
                now,
            ],
        )
        rows = profile[0].rows if profile else 0
        con.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [source.name, version, now, run_id, rows, len(files), content, str(layout.gated(source.name))],
        )
        con.executemany(
            "INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    source.name,
                    version,
                    c.name,
                    c.type,
                    c.nulls,
                    c.distinct_approx,
                    c.min,
                    c.max,
                    c.q25,
                    c.q50,
                    c.q75,
                    c.histogram,
                ]
                for c in profile
            ],
        )
        _lineage(con, source, version, layout)
        _classification(con, source.name, version, suggestion)
        _quality(con, source.name, version, layout)
        con.execute(
            "INSERT INTO audit_log VALUES (?, ?, 'publish', ?, ?, ?)",
            [now, actor, source.name, version, json.dumps({"run_id": run_id, "rows": rows, "files": len(files)})],
        )
    return PublishedVersion(source.name, version, rows, new=True)


def _unchanged(store: CatalogStore, dataset: str, content: str) -> PublishedVersion | None:
    """The latest version when its content is the same: publishing again would add nothing."""
    if store.current() is None:
        return None
    with store.reader() as con:
        found = con.execute(
            "SELECT version, row_count FROM versions WHERE dataset = ? AND content_sha256 = ? "
            "AND version = (SELECT max(version) FROM versions WHERE dataset = ?)",
            [dataset, content, dataset],
        ).fetchone()
    return PublishedVersion(dataset, int(found[0]), int(found[1]), new=False) if found else None


def _content_sha(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.parent.name.encode() + b"/" + path.name.encode())
        with path.open("rb") as handle:
            while chunk := handle.read(8 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _profile(paths: list[str]) -> list[ColumnProfile]:
    """DuckDB's SUMMARIZE per column; numeric columns also get a 10-bin equal-width histogram (JSON)."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        summary = con.execute(
            "SELECT column_name, column_type, count, null_percentage, approx_unique, min, max, q25, q50, q75 "
            "FROM (SUMMARIZE SELECT * FROM read_parquet(?, hive_partitioning = false))",
            [paths],
        ).fetchall()
        rows: list[ColumnProfile] = []
        for name, type_, count, null_pct, distinct, low, high, q25, q50, q75 in summary:
            nulls = round(float(count or 0) * float(null_pct or 0) / 100.0)
            histogram = _histogram(con, paths, name) if str(type_).startswith(NUMERIC) else None
            rows.append(
                ColumnProfile(
                    str(name),
                    str(type_),
                    int(nulls),
                    int(distinct or 0),
                    _text(low),
                    _text(high),
                    _text(q25),
                    _text(q50),
                    _text(q75),
                    int(count or 0),
                    histogram,
                )
            )
        return rows
    finally:
        con.close()


def _histogram(con: duckdb.DuckDBPyConnection, paths: list[str], column: str) -> str | None:
    ident = '"' + column.replace('"', '""') + '"'
    found = con.execute(
        f"SELECT histogram(v, equi_width_bins(lo, hi, 10, false)) FROM "
        f"(SELECT {ident}::DOUBLE AS v FROM read_parquet(?, hive_partitioning = false)), "
        f"(SELECT min({ident})::DOUBLE AS lo, max({ident})::DOUBLE AS hi "
        f"FROM read_parquet(?, hive_partitioning = false) WHERE isfinite({ident}::DOUBLE)) "
        "WHERE isfinite(v) GROUP BY lo, hi",
        [paths, paths],
    ).fetchone()
    if not found or found[0] is None:
        return None
    return json.dumps({str(k): int(v) for k, v in dict(found[0]).items()})


def _classification(con: duckdb.DuckDBPyConnection, dataset: str, version: int, suggestion: Suggestion) -> None:
    con.executemany(
        "INSERT INTO classifications VALUES (?, ?, ?, ?, ?)",
        [[dataset, version, axis, value, reason] for axis, (value, reason) in sorted(suggestion.classes.items())],
    )
    con.execute(
        "INSERT INTO security_grades VALUES (?, ?, ?, ?, ?)",
        [dataset, version, int(suggestion.grade), suggestion.grade.gbt_43697, json.dumps(suggestion.reasons)],
    )


def _register_files(source: SourceConfig, layout: Layout) -> list[str]:
    if source.register_source is None:
        return []
    return [str(p) for p in sorted(layout.gated(source.register_source).glob("*/part-*.parquet"))]


def _lineage(con: duckdb.DuckDBPyConnection, source: SourceConfig, version: int, layout: Layout) -> None:
    mapping = json.dumps(source.columns) if source.columns else None
    for manifest in read_manifests(layout, source.name):
        key = manifest["key"]
        standardised = f"standardised/{source.name}/{source.partitioning}={key}"
        gated = f"gated/{source.name}/{source.partitioning}={key}"
        for file in manifest["files"]:
            con.execute(
                "INSERT INTO source_files VALUES (?, ?, ?, ?, ?, ?)",
                [source.name, version, file["name"], file["uri"], file["sha256"], key],
            )
            con.execute(
                "INSERT INTO lineage_edges VALUES (?, ?, 'source_file', ?, 'standardised', ?, ?)",
                [source.name, version, f"{file['uri']}@{file['sha256'][:12]}", standardised, mapping],
            )
        con.execute(
            "INSERT INTO lineage_edges VALUES (?, ?, 'standardised', ?, 'gated', ?, NULL)",
            [source.name, version, standardised, gated],
        )
        con.execute(
            "INSERT INTO lineage_edges VALUES (?, ?, 'gated', ?, 'dataset_version', ?, NULL)",
            [source.name, version, gated, f"{source.name}@{version}"],
        )


def _quality(con: duckdb.DuckDBPyConnection, dataset: str, version: int, layout: Layout) -> None:
    for evaluation in history.latest(layout, dataset):
        for dimension, score in evaluation.scores.items():
            con.execute(
                "INSERT INTO quality_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    dataset,
                    version,
                    evaluation.key,
                    evaluation.run_id,
                    evaluation.evaluated_at,
                    dimension,
                    score,
                    evaluation.overall,
                    evaluation.grade,
                ],
            )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
