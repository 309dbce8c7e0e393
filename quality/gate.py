"""The gate: evaluate a source's standardised partitions, then publish what passes.

`evaluate_source` runs the suite, asks Great Expectations for the verdict, stores the evaluation (history)
and the flagged rows. `publish_gated` writes `gated/<source>/<part>=<key>/` without the rows that broke an
error-severity row rule (they join the partition's quarantine as `gate-*.parquet`), in the standardised order.
Every file goes through the layout's store under a content name (quality.published): readers find the current
ones with `quality.published.gated_files` and `gate_quarantine_files`.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from config.kinds import READING_KINDS
from config.layout import Layout, partition_dir
from config.sources import SourceConfig
from config.sql import path_list, path_literal, quote_ident, sql_literal
from ingest.locate import locate_lines
from ingest.manifest import partition_files, read_manifest, read_manifests, source_files
from quality import history, published
from quality.errors import NotEvaluatedError, StaleEvaluationError
from quality.evaluate import (
    PartitionEvaluation,
    PartitionInput,
    create_base_view,
    evaluate_partition,
    expected_columns,
)
from quality.gx_assert import GxJudge, Judged
from quality.published import GATE_QUARANTINE, GATED
from quality.rules import Rule, default_rules
from quality.series_inputs import series_inputs

MEMORY_LIMIT = "768MB"


@dataclass(frozen=True)
class GatedPartition:
    key: str
    rows_standardised: int
    rows_gated: int
    rows_quarantined: int
    overall: float
    grade: str
    path: str


def suite_for(source: SourceConfig) -> list[Rule]:
    """The source's rules, from configuration alone (Dagster needs them before any data exists)."""
    has_register = source.register_source is not None
    columns = expected_columns(source.kind, source.schema_, source.needs_line_numbers)
    return default_rules(source.kind, source.quality, has_register, columns, source.sequence)


def evaluate_source(source: SourceConfig, keys: list[str], layout: Layout, run_id: str) -> list[PartitionEvaluation]:
    """Evaluate partitions `keys`, have GX decide, keep history and flagged rows; blocks nothing by itself."""
    rules = suite_for(source)
    manifests = {m["key"]: m for m in read_manifests(layout, source.name)}
    newest = max((k for k, m in manifests.items() if m["rows_out"]), default=None)  # keys sort by day or file
    register_files = _register_files(source, layout)
    # readings: each partition's per-tag levels, which later partitions compare with (unit mix-ups, absent tags)
    profiles = {e.key: e.profile for e in history.latest(layout, source.name)} if source.kind in READING_KINDS else {}
    evaluations = []
    con = duckdb.connect()
    flag_files: list[tuple[PartitionEvaluation, Path]] = []
    scratch = layout.scratch() / f"gate-{uuid.uuid4().hex[:12]}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        limit_memory(con, layout)
        # GX judges each partition on its own thread while DuckDB evaluates the next one
        with GxJudge(rules, source.quality, layout.gx(), run_id, layout=layout) as judge:
            for key in keys:
                manifest = manifests.get(key, {})
                part = PartitionInput(
                    source=source.name,
                    kind=source.kind,
                    key=key,
                    files=_partition_files(layout, source, key),
                    rows_in=int(manifest.get("rows_in", 0)),
                    rows_quarantined=int(manifest.get("rows_quarantined", 0)),
                    expected_columns=expected_columns(source.kind, source.schema_, source.needs_line_numbers),
                    other_partition_rows=[
                        int(m["rows_out"]) for k, m in manifests.items() if k != key and m["rows_out"]
                    ],
                    unreadable=list(manifest.get("unreadable", [])),
                    sequence=source.sequence,
                    content=str(manifest.get("content", "")),
                    newest=key == newest,
                    top_rule=manifest.get("top_rule"),
                    example=dict(manifest.get("example", {})),
                    **series_inputs(source.partitioning, key, manifests, profiles),
                )
                evaluation = evaluate_partition(con, part, rules, source.quality, register_files, run_id)
                profiles[key] = evaluation.profile
                flags = scratch / f"{len(flag_files)}.parquet"
                con.execute(f"COPY flags TO {path_literal(flags)} (FORMAT parquet)")
                flag_files.append((evaluation, flags))
                evaluations.append(evaluation)
                judge.submit(Judged(evaluation, part.files, flags))
            judge.finish()
        for evaluation, flags in flag_files:
            history.save_flags(layout, evaluation, flags)
            history.save(layout, evaluation)
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return evaluations


@dataclass(frozen=True)
class GateOutcome:
    """What the gate published, and the partitions it held back with the rules that blocked each."""

    published: list[GatedPartition]
    blocked: dict[str, list[str]]


def publish_gated(source: SourceConfig, keys: list[str], layout: Layout) -> GateOutcome:
    """Publish the latest evaluation of each partition that passed; hold back (and unpublish) those that did not.

    The gate decides per partition: a bad day never holds back the good ones, and a blocked one is not in
    `gated/` (its earlier gated data is removed), so nothing downstream can publish it.
    """
    latest = {e.key: e for e in history.latest(layout, source.name)}
    blocked = {}
    gated = []
    con = duckdb.connect()
    try:
        limit_memory(con, layout)
        for key in keys:
            evaluation = latest.get(key)
            if evaluation is None:
                raise NotEvaluatedError(source.name, key)
            current = read_manifest(layout, source.name, key)
            if current is None or not evaluation.content or current.get("content") != evaluation.content:
                raise StaleEvaluationError(source.name, key)
            if evaluation.blocking_failures:
                blocked[key] = [r.name for r in evaluation.blocking_failures]
                if evaluation.content_is_bad:  # else (a stale source) the data gated before stays, unchanged
                    folder = partition_dir(layout.gated(source.name), source.partitioning, key)
                    published.remove_all(layout, folder, GATED)
                    shutil.rmtree(folder, ignore_errors=True)  # this machine's folder (and cache) of it
                continue
            gated.append(_publish(con, source, key, evaluation, layout))
    finally:
        con.close()
    return GateOutcome(gated, blocked)


def _publish(
    con: duckdb.DuckDBPyConnection, source: SourceConfig, key: str, evaluation: PartitionEvaluation, layout: Layout
) -> GatedPartition:
    files = _partition_files(layout, source, key)
    flags_file = history.flags_file(layout, evaluation)
    removing = [r.name for r in evaluation.results if r.level == "row" and r.severity == "error"]
    condition = " OR ".join(f"f.{quote_ident('flag_' + name)}" for name in removing) or "false"
    create_base_view(con, files)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW dropped AS SELECT * FROM read_parquet({path_list([flags_file])}) f "
        f"WHERE {condition}"
    )
    target_dir = partition_dir(layout.gated(source.name), source.partitioning, key)
    scratch = layout.scratch()
    scratch.mkdir(parents=True, exist_ok=True)
    partial = scratch / f"gated-{uuid.uuid4().hex[:12]}.parquet"
    _write_kept(con, files, partial)
    final = target_dir / published.put(layout, partial, target_dir, GATED)
    rule_case = " ".join(f"WHEN f.{quote_ident('flag_' + name)} THEN {sql_literal(name)}" for name in removing)
    quarantine_dir = partition_dir(layout.quarantine(source.name), source.partitioning, key)
    gate_file = None
    dropped_count = con.execute("SELECT count(*) FROM dropped").fetchone()
    dropped = int(dropped_count[0]) if dropped_count else 0
    if dropped:
        partial_q = scratch / f"gate-{uuid.uuid4().hex[:12]}.parquet"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE gate_rows AS SELECT row_number() OVER () AS _n, h.rule, x.* "
            f"FROM (SELECT b._file AS hf, b._row AS hr, CASE {rule_case} END AS rule "
            f"FROM base b JOIN read_parquet({path_list([flags_file])}) f ON b._file = f._file AND b._row = f._row "
            f"WHERE {condition}) h JOIN (SELECT * EXCLUDE (_file, _row), _file AS hf, _row AS hr FROM base) x0 "
            f"USING (hf, hr) CROSS JOIN LATERAL (SELECT x0.* EXCLUDE (hf, hr)) x"
        )
        names = _add_lines(con, source, layout)
        row_json = "to_json(struct_pack(" + ", ".join(f"{quote_ident(n)} := g.{quote_ident(n)}" for n in names) + "))"
        con.execute(
            "COPY (SELECT g.source_file, l.line, g.rule, 'failed quality rule ' || g.rule AS detail, "
            f"{row_json}::VARCHAR AS raw, 1::BIGINT AS rows, NULL::BIGINT AS file_size, NULL::VARCHAR AS file_sha256 "
            f"FROM gate_rows g JOIN gate_lines l USING (_n) ORDER BY g.source_file, l.line, {row_json}) "
            f"TO {path_literal(partial_q)} (FORMAT parquet, COMPRESSION zstd)"
        )
        gate_file = published.put(layout, partial_q, quarantine_dir, GATE_QUARANTINE)
    published.make_current(layout, quarantine_dir, GATE_QUARANTINE, gate_file)
    published.make_current(layout, target_dir, GATED, final.name)
    total = con.execute("SELECT count(*) FROM base").fetchone()
    rows = int(total[0]) if total else 0
    return GatedPartition(key, rows, rows - dropped, dropped, evaluation.overall, evaluation.grade, str(final))


def _write_kept(con: duckdb.DuckDBPyConnection, files: list[Path], target: Path) -> None:
    """Write the partition's rows but those in view `dropped`, in the standardised files' order, in one streaming
    pass: no sort, so the same standardised files give the same bytes. A single file the gate takes nothing out of
    is copied as it is (no decoding, no encoding).

    A join would reorder rows across threads; instead the dropped rows' positions become a keep-mask (a sort of
    integers, cheap) read side by side with the rows (POSITIONAL JOIN), which keeps both in order."""
    dropped = con.execute("SELECT count(*) FROM dropped").fetchone()
    if not (dropped and dropped[0]) and len(files) == 1:  # nothing to take out of one file: it is the output
        shutil.copyfile(files[0], target)
        return
    con.execute("SET preserve_insertion_order = true")  # rows reach the file in the files' order
    try:
        if not (dropped and dropped[0]):
            con.execute(
                f"COPY (SELECT * EXCLUDE (_file, _row) FROM base) TO {path_literal(target)} "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
            return
        con.execute(
            "CREATE OR REPLACE TEMP TABLE file_offsets AS SELECT _file, "
            "sum(num_rows) OVER (ORDER BY _file ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS _offset, num_rows "
            f"FROM (SELECT (list_position({path_list(files)}, file_name) - 1)::INTEGER AS _file, num_rows "
            f"FROM parquet_file_metadata({path_list(files)}))"
        )
        total = con.execute("SELECT sum(num_rows) FROM file_offsets").fetchone()
        con.execute(
            "CREATE OR REPLACE TEMP TABLE keep_mask AS SELECT d._pos IS NULL AS keep "
            f"FROM range({int(total[0]) if total else 0}) p(i) LEFT JOIN "
            "(SELECT DISTINCT coalesce(o._offset, 0) + d._row AS _pos "
            "FROM dropped d JOIN file_offsets o USING (_file)) d "
            "ON d._pos = p.i ORDER BY p.i"
        )
        con.execute(
            f"COPY (SELECT b.* EXCLUDE (_file, _row) FROM base b POSITIONAL JOIN keep_mask m WHERE m.keep) "
            f"TO {path_literal(target)} (FORMAT parquet, COMPRESSION zstd)"
        )
    finally:
        con.execute("SET preserve_insertion_order = false")


def _add_lines(con: duckdb.DuckDBPyConnection, source: SourceConfig, layout: Layout) -> list[str]:
    """Table `gate_lines` (_n, line): the export line of each row of `gate_rows`, kept by row-path sources,
    found again in the export file for the others. Returns the canonical columns of `gate_rows`."""
    names = [str(row[0]) for row in con.execute("DESCRIBE gate_rows").fetchall() if row[0] not in {"_n", "rule"}]
    if source.needs_line_numbers:
        con.execute("CREATE OR REPLACE TEMP TABLE gate_lines AS SELECT _n, source_line AS line FROM gate_rows")
        return names
    cursor = con.execute(
        f"SELECT {', '.join(f'CAST({quote_ident(n)} AS VARCHAR)' for n in names)} FROM gate_rows ORDER BY _n"
    )
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    lines = locate_lines(source, layout, rows)
    found = pa.table({"_n": list(range(1, len(lines) + 1)), "line": pa.array(lines, pa.int64())})
    con.register("gate_lines_arrow", found)
    con.execute("CREATE OR REPLACE TEMP TABLE gate_lines AS SELECT * FROM gate_lines_arrow")
    con.unregister("gate_lines_arrow")
    return names


def limit_memory(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    """Window passes over a big partition spill to the scratch folder instead of growing past the memory budget."""
    spill = layout.scratch() / "duckdb-spill"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {sql_literal(MEMORY_LIMIT)}")
    con.execute(f"SET temp_directory = {path_literal(spill)}")
    con.execute("SET preserve_insertion_order = false")


def _partition_files(layout: Layout, source: SourceConfig, key: str) -> list[Path]:
    """Local paths to read (fetched from object storage by `partition_files`)."""
    return partition_files(layout, source.name, source.partitioning, key)


def _register_files(source: SourceConfig, layout: Layout) -> list[str]:
    if source.register_source is None:
        return []
    return [str(p) for p in sorted(source_files(layout, source.register_source, "file"))]
