"""The catalog's listing: one row per dataset at its latest version, with effective classes and grade.

Search and `catalog list` read the `dataset_listing` table instead of joining versions, classes, overrides,
quality and PII rows on every query (200 ms at 10,000 datasets; the table answers in a few). Every
publication and override refreshes its dataset's row in the same transaction, so the table never lags.
"""

from __future__ import annotations

import duckdb

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

# A version's quality as `plantdata quality report` computes a source's: each dimension is the mean of its partitions'
# scores weighted by their rows (at least 1; versions published before rows were kept weigh partitions equally), the
# overall averages the dimensions' mean and the weakest dimension (quality.dimensions.overall), the grade follows
# quality.dimensions.GRADE_THRESHOLDS.
DIMENSION_SCORES = """
    SELECT dataset, version, dimension,
           round(sum(score * greatest(coalesce(rows, 1), 1)) / sum(greatest(coalesce(rows, 1), 1)), 2) AS score
    FROM quality_scores GROUP BY ALL
"""
_OVERALL = "round((avg(score) + min(score)) / 2, 2)"
SCORES = f"""
    SELECT dataset, version, {_OVERALL} AS overall,
           CASE WHEN {_OVERALL} >= 95 THEN 'A' WHEN {_OVERALL} >= 85 THEN 'B'
                WHEN {_OVERALL} >= 70 THEN 'C' ELSE 'D' END AS grade
    FROM ({DIMENSION_SCORES}) GROUP BY ALL
"""


LISTING_SELECT = f"""
            SELECT d.name, v.version, v.row_count, v.partitions, v.published_at, d.source_kind, d.source_system,
                   d.owner, q.overall, q.grade AS quality_grade,
                   (SELECT value FROM classes c WHERE c.dataset = d.name AND axis = 'domain') AS domain,
                   (SELECT value FROM classes c WHERE c.dataset = d.name AND axis = 'data_type') AS data_type,
                   (SELECT value FROM classes c WHERE c.dataset = d.name AND axis = 'scenario') AS scenario,
                   (SELECT value FROM classes c WHERE c.dataset = d.name AND axis = 'modality') AS modality,
                   g.grade AS security_grade, {GBT} AS gbt_43697,
                   g.reasons AS security_reasons, 'override by ' || g.override_actor || ': ' || g.override_reason
                       AS security_override,
                   d.steward,
                   (SELECT coalesce(sum(findings), 0) FROM pii_reports p
                    WHERE p.dataset = d.name AND p.version = v.version) AS personal_data_findings,
                   (SELECT list(DISTINCT uri ORDER BY uri) FROM source_files f
                    WHERE f.dataset = d.name AND f.version = v.version) AS lineage_source_files,
                   v.location AS lineage_release
            FROM datasets d
            LEFT JOIN grades g ON g.dataset = d.name
            JOIN versions v ON v.dataset = d.name
                AND v.version = (SELECT max(version) FROM versions WHERE dataset = d.name)
            LEFT JOIN ({SCORES}) q ON q.dataset = d.name AND q.version = v.version
            SELECT_FILTER
"""
# Migration 4 creates the table from the columns this query gives, before migration 9 adds `quality_scores.rows`:
# it is given the same query with every partition weighing 1 (same columns, same types).
CREATE_LISTING = (
    "CREATE TABLE dataset_listing AS "
    + EFFECTIVE
    + LISTING_SELECT.replace("SELECT_FILTER", "LIMIT 0").replace("coalesce(rows, 1)", "1"),
    "ALTER TABLE dataset_listing ADD COLUMN search_text VARCHAR",
)
COMMENT_LISTING = (
    "COMMENT ON TABLE dataset_listing IS 'One row per dataset at its latest version with effective classes and "
    "grade (overrides applied), quality, personal data found and lineage in brief; search_text holds name, "
    "description, owner, steward and column names (lower case). Refreshed with every publication and override.'"
)


COLUMN_NAMES = (
    "(SELECT string_agg(DISTINCT c.name, ' ') FROM columns c WHERE c.dataset = l.name AND c.version = l.version)"
)
ACCESS_GRANTS = (
    "(SELECT list({'principal': a.principal, 'access': a.access} ORDER BY a.principal) FROM access_policies a "
    "WHERE a.dataset = l.name AND a.version = l.version)"
)
# Columns added by migration 8, in this order after `search_text`: the web catalog ranks by field and filters by the
# latest version's access policy in the same query.
LISTING_EXTRA = (
    "ALTER TABLE dataset_listing ADD COLUMN description VARCHAR",
    "ALTER TABLE dataset_listing ADD COLUMN column_names VARCHAR",
    "ALTER TABLE dataset_listing ADD COLUMN access_grants STRUCT(principal VARCHAR, access VARCHAR)[]",
    "ALTER TABLE dataset_listing ADD COLUMN listers VARCHAR[]",
)
# Principals whose access lets them see a dataset listed (a flat list: filtering 10,000 rows on it takes 3 ms, on the
# structs 40 ms).
LISTERS = (
    "(SELECT list(DISTINCT a.principal ORDER BY a.principal) FROM access_policies a WHERE a.dataset = l.name AND "
    "a.version = l.version AND a.access IN ('read', 'read_on_approval', 'manage', 'approve'))"
)


def _insert(where: str) -> str:
    return (
        "INSERT INTO dataset_listing "
        + EFFECTIVE
        + f"SELECT l.*, lower(concat_ws(' ', l.name, d.description, l.owner, l.steward, {COLUMN_NAMES})), "
        + f"d.description, {COLUMN_NAMES}, {ACCESS_GRANTS}, {LISTERS} FROM ("
        + LISTING_SELECT.replace("SELECT_FILTER", where)
        + ") l JOIN datasets d ON d.name = l.name"
    )


BACKFILL_LISTING = ("DELETE FROM dataset_listing", _insert(""))


def refresh_listing(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    """Rebuild the listing row of `dataset` from the catalog's tables (inside the caller's transaction)."""
    con.execute("DELETE FROM dataset_listing WHERE name = $1", [dataset])
    con.execute(_insert("WHERE d.name = $1"), [dataset])
