"""The catalog's versioned schema: ordered migrations, each applied once and recorded.

Open the catalog in a plain `duckdb` shell and `SELECT * FROM schema_migrations` to see its version;
every table has a COMMENT describing it (`SELECT table_name, comment FROM duckdb_tables()`).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from catalog.audit import chain_existing
from catalog.listing import BACKFILL_LISTING, COMMENT_LISTING, CREATE_LISTING, LISTING_EXTRA

Step = str | Callable[[duckdb.DuckDBPyConnection], None]  # a statement, or Python for what SQL cannot say

MIGRATIONS: tuple[tuple[int, str, tuple[Step, ...]], ...] = (
    (
        1,
        "datasets, versions, columns, sources, files, lineage, quality, audit",
        (
            "CREATE TABLE datasets (name VARCHAR PRIMARY KEY, description VARCHAR, source_kind VARCHAR, "
            "source_system VARCHAR, owner VARCHAR, steward VARCHAR, created_at TIMESTAMPTZ)",
            "COMMENT ON TABLE datasets IS 'One row per published dataset (a gated source).'",
            "CREATE TABLE versions (dataset VARCHAR, version INTEGER, published_at TIMESTAMPTZ, run_id VARCHAR, "
            "row_count BIGINT, partitions INTEGER, content_sha256 VARCHAR, location VARCHAR, "
            "PRIMARY KEY (dataset, version))",
            "COMMENT ON TABLE versions IS 'Each publication of a dataset; content_sha256 covers its Parquet files.'",
            "CREATE TABLE columns (dataset VARCHAR, version INTEGER, name VARCHAR, type VARCHAR, nulls BIGINT, "
            "distinct_approx BIGINT, min VARCHAR, max VARCHAR, q25 VARCHAR, q50 VARCHAR, q75 VARCHAR, "
            "histogram VARCHAR, PRIMARY KEY (dataset, version, name))",
            "COMMENT ON TABLE columns IS 'Column profiles per dataset version (numeric histograms as JSON).'",
            "CREATE TABLE source_files (dataset VARCHAR, version INTEGER, file VARCHAR, uri VARCHAR, sha256 VARCHAR, "
            "partition_key VARCHAR)",
            "COMMENT ON TABLE source_files IS 'The export files (with sha256) a dataset version was built from.'",
            "CREATE TABLE lineage_edges (dataset VARCHAR, version INTEGER, from_kind VARCHAR, from_id VARCHAR, "
            "to_kind VARCHAR, to_id VARCHAR, columns VARCHAR)",
            "COMMENT ON TABLE lineage_edges IS 'source_file -> standardised partition -> gated partition -> dataset "
            "version; columns maps output to input columns where known (JSON).'",
            "CREATE TABLE quality_scores (dataset VARCHAR, version INTEGER, partition_key VARCHAR, run_id VARCHAR, "
            "evaluated_at VARCHAR, dimension VARCHAR, score DOUBLE, overall DOUBLE, grade VARCHAR)",
            "COMMENT ON TABLE quality_scores IS 'GB/T 36344 dimension scores per partition at publication time.'",
            "CREATE TABLE audit_log (happened_at TIMESTAMPTZ, actor VARCHAR, action VARCHAR, dataset VARCHAR, "
            "version INTEGER, detail VARCHAR)",
            "COMMENT ON TABLE audit_log IS 'Every publication and every change made by a person, append only.'",
        ),
    ),
    (
        2,
        "classification, security grades, overrides",
        (
            "CREATE TABLE classifications (dataset VARCHAR, version INTEGER, axis VARCHAR, value VARCHAR, "
            "reason VARCHAR, PRIMARY KEY (dataset, version, axis))",
            "COMMENT ON TABLE classifications IS 'Suggested classes per axis (domain, data_type, scenario, modality) "
            "from catalog/rules.yaml; effective = the latest override, else this.'",
            "CREATE TABLE security_grades (dataset VARCHAR, version INTEGER, grade INTEGER, gbt_43697 VARCHAR, "
            "reasons VARCHAR, PRIMARY KEY (dataset, version))",
            "COMMENT ON TABLE security_grades IS 'Suggested MIIT grade 1-3 (GB/T 43697 general/important/core) "
            "with the reasons (JSON list) of the rules that produced it.'",
            "CREATE TABLE overrides (dataset VARCHAR, axis VARCHAR, value VARCHAR, actor VARCHAR, reason VARCHAR, "
            "happened_at TIMESTAMPTZ)",
            "COMMENT ON TABLE overrides IS 'Classes and grades set by a steward or CDO; they win over suggestions "
            "for every later version too; each one is also in audit_log.'",
        ),
    ),
    (
        3,
        "personal-data reports, access policies, release locations",
        (
            "CREATE TABLE pii_reports (dataset VARCHAR, version INTEGER, column_name VARCHAR, entity_type VARCHAR, "
            "findings BIGINT, rows_affected BIGINT, values_scanned BIGINT, distinct_values BIGINT, "
            "name_column BOOLEAN, treatment VARCHAR, ner_model VARCHAR)",
            "COMMENT ON TABLE pii_reports IS 'Personal data found per text column before publication (entity_type "
            "NULL: the column was scanned and nothing found; rows_affected: rows with any finding in the column) and "
            "how it was treated (pseudonymise, redact, keep).'",
            "CREATE TABLE access_policies (dataset VARCHAR, version INTEGER, principal VARCHAR, access VARCHAR, "
            "reason VARCHAR)",
            "COMMENT ON TABLE access_policies IS 'Who may use a dataset version (role:, owner:, steward: principals) "
            "as catalog/rules.yaml grants it for the effective security grade at publication.'",
            "COMMENT ON COLUMN versions.location IS 'The release folder: immutable Parquet with personal data "
            "treated; unchanged files are hard links to the gated layer.'",
        ),
    ),
    (4, "dataset listing for search", (*CREATE_LISTING, COMMENT_LISTING)),  # filled by migration 8
    (
        5,
        "source configurations",
        (
            "CREATE TABLE sources (dataset VARCHAR, version INTEGER, kind VARCHAR, system VARCHAR, location VARCHAR, "
            "format VARCHAR, sources_file VARCHAR, config VARCHAR, PRIMARY KEY (dataset, version))",
            "COMMENT ON TABLE sources IS 'The source entry (sources file, kind, system, location glob, format, full "
            "configuration as JSON) each dataset version was ingested with.'",
            "COMMENT ON COLUMN versions.content_sha256 IS 'sha256 over the gated Parquet files and the privacy "
            "settings (roster, key, treatment, model): a change to either makes a new version.'",
        ),
    ),
    (
        6,
        "people and annotation progress",
        (
            "CREATE TABLE people (email VARCHAR PRIMARY KEY, name VARCHAR, role VARCHAR, department VARCHAR, "
            "clearance INTEGER, simulated BOOLEAN)",
            "COMMENT ON TABLE people IS 'Who uses the data: role, department and clearance (the highest security "
            "grade they may see); simulated marks the demo''s scripted experts. Replaced from the annotation file "
            "at every labels publication.'",
            "CREATE TABLE annotation_progress (dataset VARCHAR, version INTEGER, project VARCHAR, "
            "labels_dataset VARCHAR, labels_version INTEGER, tasks BIGINT, annotated_tasks BIGINT, "
            "annotations BIGINT, annotators INTEGER, alpha DOUBLE, mean_task_agreement DOUBLE, "
            "consensus VARCHAR, prelabel_acceptance VARCHAR, updated_at TIMESTAMPTZ)",
            "COMMENT ON TABLE annotation_progress IS 'Expert annotation of a released dataset version per Label "
            "Studio project at each labels publication: tasks, annotations, Krippendorff alpha, consensus counts by "
            "method and pre-label acceptance per model version (JSON).'",
        ),
    ),
    (
        7,
        "the audit log as a hash chain",
        (
            "ALTER TABLE audit_log ADD COLUMN seq BIGINT",
            "ALTER TABLE audit_log ADD COLUMN prev_hash VARCHAR",
            "ALTER TABLE audit_log ADD COLUMN hash VARCHAR",
            chain_existing,
            "COMMENT ON TABLE audit_log IS 'Every publication and every change made by a person, append only, as a "
            "hash chain: hash is the sha256 of the entry with prev_hash, the previous entry''s hash; `plantdata "
            "catalog audit verify` names the first broken link.'",
        ),
    ),
    (
        8,
        "web catalog: listing fields for ranked search and access, people from the directory",
        (
            *LISTING_EXTRA,  # filled by migration 9, whose scores read a column it adds
            "ALTER TABLE people ADD COLUMN origin VARCHAR DEFAULT 'annotation'",
            "COMMENT ON COLUMN people.origin IS 'annotation: from the annotation file, replaced at every labels "
            "publication; directory: added with plantdata users add (or the first admin), kept.'",
            "COMMENT ON COLUMN dataset_listing.access_grants IS 'The latest version''s access policy (principal, "
            "access): the web catalog lists, counts and finds a dataset only for people it grants.'",
        ),
    ),
    (
        9,
        "quality scores weighted by rows, as the quality report weighs them",
        (
            "ALTER TABLE quality_scores ADD COLUMN rows BIGINT",
            "COMMENT ON COLUMN quality_scores.rows IS 'Rows of the partition the gate evaluated: a version''s "
            "dimension score is the mean of its partitions'' weighted by rows (as plantdata quality report computes "
            "it); NULL for versions published before, which weigh partitions equally.'",
            *BACKFILL_LISTING,
        ),
    ),
    (
        10,
        "task datasets: versions built from releases and labels for one AI task",
        (
            "CREATE TABLE task_dataset_versions (dataset VARCHAR, version INTEGER, task VARCHAR, scenario VARCHAR, "
            "spec_sha256 VARCHAR, content_sha256 VARCHAR, rows_per_split VARCHAR, class_balance VARCHAR, "
            "split_method VARCHAR, adversarial_auc DOUBLE, baseline_model VARCHAR, baseline_metric VARCHAR, "
            "baseline_value DOUBLE, label_provenance VARCHAR, manifest VARCHAR, PRIMARY KEY (dataset, version))",
            "COMMENT ON TABLE task_dataset_versions IS 'Each version of a task dataset (plantdata dataset build): "
            "task, rows and classes per split (JSON), split method and adversarial AUC, the baseline''s test metric, "
            "label provenance counts and the whole manifest (JSON). Its row in datasets has source_kind "
            "task_dataset; lineage_edges link it to the source and labels versions it was built from.'",
        ),
    ),
)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations in order; return the schema version."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description VARCHAR, "
        "applied_at TIMESTAMPTZ DEFAULT now())"
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for version, description, statements in MIGRATIONS:
        if version in applied:
            continue
        for statement in statements:
            if callable(statement):
                statement(con)
            else:
                con.execute(statement)
        con.execute("INSERT INTO schema_migrations (version, description) VALUES (?, ?)", [version, description])
    return max((v for v, _, _ in MIGRATIONS), default=0)
