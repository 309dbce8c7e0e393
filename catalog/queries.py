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


EFFECTIVE = """
    WITH latest AS (SELECT dataset, max(version) AS version FROM versions GROUP BY dataset),
    last_override AS (
        SELECT DISTINCT ON (dataset, axis) dataset, axis, value, actor, reason FROM overrides
        ORDER BY dataset, axis, happened_at DESC
    ),
    classes AS (
        SELECT c.dataset, c.axis, COALESCE(o.value, c.value) AS value,
               CASE WHEN o.value IS NULL THEN c.reason ELSE 'override by ' || o.actor || ': ' || o.reason END AS why
        FROM classifications c JOIN latest USING (dataset, version)
        LEFT JOIN last_override o ON o.dataset = c.dataset AND o.axis = c.axis
    ),
    grades AS (
        SELECT g.dataset, COALESCE(o.value::INTEGER, g.grade) AS grade, g.reasons,
               o.actor AS override_actor, o.reason AS override_reason
        FROM security_grades g JOIN latest USING (dataset, version)
        LEFT JOIN last_override o ON o.dataset = g.dataset AND o.axis = 'grade'
    )
"""
GBT = "CASE g.grade WHEN 1 THEN 'general' WHEN 2 THEN 'important' WHEN 3 THEN 'core' END"


def list_datasets(store: CatalogStore) -> list[dict[str, Any]]:
    """Every dataset at its latest version: rows, quality, effective classes and grade."""
    with store.reader() as con:
        return _rows(
            con,
            EFFECTIVE
            + f"""
            SELECT d.name, v.version, v.row_count, v.partitions, v.published_at, d.source_kind, d.source_system,
                   d.owner, q.overall, q.grade AS quality_grade,
                   (SELECT value FROM classes c WHERE c.dataset = d.name AND axis = 'domain') AS domain,
                   (SELECT value FROM classes c WHERE c.dataset = d.name AND axis = 'data_type') AS data_type,
                   (SELECT value FROM classes c WHERE c.dataset = d.name AND axis = 'scenario') AS scenario,
                   g.grade AS security_grade, {GBT} AS gbt_43697
            FROM datasets d
            LEFT JOIN grades g ON g.dataset = d.name
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
            "pii": _rows(
                con,
                "SELECT * EXCLUDE (dataset, version) FROM pii_reports WHERE dataset = ? AND version = ? "
                "ORDER BY column_name, entity_type",
                args,
            ),
            "access": _rows(
                con,
                "SELECT principal, access, reason FROM access_policies WHERE dataset = ? AND version = ?",
                args,
            ),
            "classification": _rows(
                con, EFFECTIVE + "SELECT axis, value, why FROM classes WHERE dataset = ? ORDER BY axis", [name]
            ),
            "security": _rows(
                con,
                EFFECTIVE + f"SELECT g.grade, {GBT} AS gbt_43697, g.reasons, g.override_actor, g.override_reason "
                "FROM grades g WHERE g.dataset = ?",
                [name],
            ),
        }


def search(store: CatalogStore, text: str, grade: int | None = None, domain: str | None = None) -> list[dict[str, Any]]:
    """Datasets whose name, description, owner or column names contain `text` (case-insensitive)."""
    pattern = f"%{text}%"
    with store.reader() as con:
        found = {
            row[0]
            for row in con.execute(
                "SELECT DISTINCT d.name FROM datasets d LEFT JOIN columns c ON c.dataset = d.name "
                "WHERE d.name ILIKE ? OR d.description ILIKE ? OR d.owner ILIKE ? OR c.name ILIKE ?",
                [pattern] * 4,
            ).fetchall()
        }
    return [
        d
        for d in list_datasets(store)
        if d["name"] in found
        and (grade is None or d["security_grade"] == grade)
        and (domain is None or d["domain"] == domain)
    ]


def lineage(store: CatalogStore, name: str) -> list[dict[str, Any]]:
    """The latest version's lineage edges, from export files to the dataset version."""
    with store.reader() as con:
        return _rows(
            con,
            "SELECT from_kind, from_id, to_kind, to_id FROM lineage_edges WHERE dataset = ? "
            "AND version = (SELECT max(version) FROM versions WHERE dataset = ?) "
            "ORDER BY CASE from_kind WHEN 'source_file' THEN 0 WHEN 'standardised' THEN 1 ELSE 2 END, from_id",
            [name, name],
        )
