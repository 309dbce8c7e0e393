"""What the CLI (and later the web UI) asks the catalog: read-only queries on the current snapshot."""

from __future__ import annotations

from typing import Any

import duckdb

from catalog.errors import CatalogError
from catalog.store import CatalogStore


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def list_datasets(store: CatalogStore) -> list[dict[str, Any]]:
    """Every dataset at its latest version with its row count and row-weighted quality."""
    with store.reader() as con:
        return _rows(
            con,
            """
            SELECT d.name, v.version, v.row_count, v.partitions, v.published_at, d.source_kind, d.source_system,
                   d.owner, q.overall, q.grade
            FROM datasets d
            JOIN versions v ON v.dataset = d.name
                AND v.version = (SELECT max(version) FROM versions WHERE dataset = d.name)
            LEFT JOIN (SELECT dataset, version, round(avg(overall), 2) AS overall, max(grade) AS grade
                       FROM (SELECT DISTINCT dataset, version, partition_key, overall, grade FROM quality_scores)
                       GROUP BY ALL) q ON q.dataset = d.name AND q.version = v.version
            ORDER BY d.name
            """,
            [],
        )


def show_dataset(store: CatalogStore, name: str, version: int | None = None) -> dict[str, Any]:
    """A dataset version with its schema and profile, source files, lineage and quality scores."""
    with store.reader() as con:
        chosen = con.execute(
            "SELECT coalesce(?, max(version)) FROM versions WHERE dataset = ?", [version, name]
        ).fetchone()
        if chosen is None or chosen[0] is None:
            known = [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY 1").fetchall()]
            raise CatalogError(f"no dataset {name!r} in the catalog; datasets: {known}")
        number = int(chosen[0])
        args = [name, number]
        details = _rows(
            con,
            "SELECT * FROM datasets d JOIN versions v ON v.dataset = d.name WHERE d.name = ? AND v.version = ?",
            args,
        )
        if not details:
            raise CatalogError(f"dataset {name!r} has no version {number}")
        return {
            **details[0],
            "columns": _rows(
                con, "SELECT * EXCLUDE (dataset, version) FROM columns WHERE dataset = ? AND version = ?", args
            ),
            "source_files": _rows(
                con,
                "SELECT file, uri, sha256, partition_key FROM source_files "
                "WHERE dataset = ? AND version = ? ORDER BY file",
                args,
            ),
            "lineage": _rows(
                con,
                "SELECT from_kind, from_id, to_kind, to_id, columns FROM lineage_edges "
                "WHERE dataset = ? AND version = ?",
                args,
            ),
            "quality": _rows(
                con,
                "SELECT partition_key, dimension, score, overall, grade FROM quality_scores "
                "WHERE dataset = ? AND version = ? ORDER BY partition_key, dimension",
                args,
            ),
        }
