"""What the CLI (and later the web UI) asks the catalog: read-only queries on the current snapshot."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from catalog.errors import CatalogError
from catalog.listing import GBT
from catalog.store import CatalogStore


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


LISTING = """
    SELECT * EXCLUDE (search_text) FROM dataset_listing
    WHERE ($1::VARCHAR IS NULL OR search_text ILIKE $2)
      AND ($3::INTEGER IS NULL OR security_grade = $3)
      AND ($4::VARCHAR IS NULL OR domain = $4)
    ORDER BY name
    LIMIT $5
"""


def list_datasets(
    store: CatalogStore,
    text: str | None = None,
    grade: int | None = None,
    domain: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Every dataset at its latest version: rows, quality, effective classes and grade with its reasons,
    personal data found, and lineage in brief (export files in, release folder out).

    `text` keeps datasets whose name, description, owner, steward or a column name contains it
    (case-insensitive); `grade` and `domain` keep the effective grade and business domain.
    """
    with store.reader() as con:
        rows = _rows(con, LISTING, [text, f"%{text}%", grade, domain, limit])
    for row in rows:
        row["security_reasons"] = json.loads(row["security_reasons"] or "[]")
        override = row.pop("security_override")
        if override:
            row["security_reasons"].insert(0, override)
    return rows


def show_dataset(store: CatalogStore, name: str, version: int | None = None) -> dict[str, Any]:
    """A dataset version with its schema and profile, source files, lineage and quality scores."""
    with store.reader() as con:
        return details(con, name, version)


# EFFECTIVE (catalog/listing.py) for one dataset, with the dataset filter inside: over the whole catalog's versions it
# costs milliseconds per page at 10,000 datasets.
_ONE_OVERRIDE = (
    "(SELECT DISTINCT ON (axis) axis, value, actor, reason FROM overrides WHERE dataset = $1 ORDER BY axis, "
    "happened_at DESC)"
)
CLASSES_OF = f"""
    SELECT c.axis, COALESCE(o.value, c.value) AS value,
           CASE WHEN o.value IS NULL THEN c.reason ELSE 'override by ' || o.actor || ': ' || o.reason END AS why
    FROM classifications c LEFT JOIN {_ONE_OVERRIDE} o ON o.axis = c.axis
    WHERE c.dataset = $1 AND c.version = (SELECT max(version) FROM versions WHERE dataset = $1)
    ORDER BY c.axis
"""
GRADE_OF = f"""
    SELECT COALESCE(o.value::INTEGER, g.grade) AS grade, {GBT.replace("g.grade", "COALESCE(o.value::INTEGER, g.grade)")}
           AS gbt_43697, g.reasons, o.actor AS override_actor, o.reason AS override_reason
    FROM security_grades g LEFT JOIN {_ONE_OVERRIDE} o ON o.axis = 'grade'
    WHERE g.dataset = $1 AND g.version = (SELECT max(version) FROM versions WHERE dataset = $1)
"""


def details(con: duckdb.DuckDBPyConnection, name: str, version: int | None = None) -> dict[str, Any]:
    """`show_dataset` on a cursor the caller holds (one snapshot for everything a page reads)."""
    chosen = con.execute("SELECT coalesce(?, max(version)) FROM versions WHERE dataset = ?", [version, name]).fetchone()
    if chosen is None or chosen[0] is None:
        known = [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY 1").fetchall()]
        raise CatalogError(f"no dataset {name!r} in the catalog; datasets: {known}")
    number = int(chosen[0])
    args = [name, number]
    found = _rows(
        con,
        "SELECT * FROM datasets d JOIN versions v ON v.dataset = d.name WHERE d.name = ? AND v.version = ?",
        args,
    )
    if not found:
        raise CatalogError(f"dataset {name!r} has no version {number}")
    return {
        **found[0],
        "columns": _rows(
            con, "SELECT * EXCLUDE (dataset, version) FROM columns WHERE dataset = ? AND version = ?", args
        ),
        "source": _rows(
            con, "SELECT * EXCLUDE (dataset, version) FROM sources WHERE dataset = ? AND version = ?", args
        ),
        "source_files": _rows(
            con,
            "SELECT file, uri, sha256, partition_key FROM source_files WHERE dataset = ? AND version = ? ORDER BY file",
            args,
        ),
        "lineage": _rows(
            con,
            "SELECT from_kind, from_id, to_kind, to_id, columns FROM lineage_edges WHERE dataset = ? AND version = ?",
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
        "classification": _rows(con, CLASSES_OF, [name]),
        "security": _rows(con, GRADE_OF, [name]),
        "annotation": _rows(
            con,
            "SELECT DISTINCT ON (project) project, version AS labelled_version, labels_dataset, labels_version, "
            "tasks, annotated_tasks, annotations, annotators, alpha, mean_task_agreement, consensus, "
            "prelabel_acceptance, updated_at FROM annotation_progress WHERE dataset = ? "
            "ORDER BY project, updated_at DESC",
            [name],
        ),
    }


def search(
    store: CatalogStore, text: str, grade: int | None = None, domain: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The first `limit` datasets (by name) whose name, description, owner, steward or column names contain
    `text` (case-insensitive), with the effective grade and domain given."""
    return list_datasets(store, text, grade, domain, limit)


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


_SQL_CONFINED = "catalog SQL sees the catalog's tables only: files, other databases and settings are off limits"


def run_sql(store: CatalogStore, query: str) -> list[dict[str, Any]]:
    """Any read-only query on the current snapshot, on a connection that reaches nothing else: writes, files
    (`read_text`, `COPY ... TO`), `ATTACH`, extensions and `SET` fail."""
    with store.confined_reader() as con:
        try:
            return _rows(con, query, [])
        except duckdb.Error as error:
            hint = f" ({_SQL_CONFINED})" if isinstance(error, duckdb.PermissionException) else ""
            raise CatalogError(f"catalog query failed: {error}{hint}") from error
