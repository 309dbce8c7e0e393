"""Evaluate a source's rules on one standardised partition, in DuckDB, over the Parquet where it lies.

One pass computes every row rule's flag with the window columns the reading rules need (previous and
next value, run of unchanged values, duplicate rank); only flagged rows are kept, so memory stays small.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from config.kinds import CANONICAL_FIELDS, READING_KINDS, WITHHELD, SourceKind, sample_safe
from config.quality import QualityOptions
from config.sources import SequenceOptions
from config.sql import path_list, quote_ident, sql_literal
from quality.dimensions import Dimension, dimension_scores, grade, overall
from quality.readings_pass import EXPLAINING, flag_readings
from quality.rules import Rule
from quality.series_inputs import covered_share
from quality.timeseries_scores import COVERED_RULES, SERIES_RULES, SeriesEvaluation, TagProfile, evaluate_series

SAMPLE_ROWS = 5
MIN_ROWS_FOR_BOUNDS = 50
READING_COLUMNS = ("ts", "tag", "value", "quality", "quality_class", "equipment_id", "unit", "source_file")


@dataclass
class RuleResult:
    """What one rule found in one partition; `passed` is Great Expectations' verdict."""

    name: str
    dimension: str
    level: str
    severity: str
    description: str
    evaluated: int
    unexpected: int
    allowed_percent: float = 0.0
    detail: str = ""
    sample: list[dict[str, Any]] = field(default_factory=list)
    passed: bool = True
    weighted: float | None = None  # a severity-weighted score (time-series rules) instead of the plain share

    @property
    def unexpected_percent(self) -> float:
        return 100.0 * self.unexpected / self.evaluated if self.evaluated else 0.0

    @property
    def score(self) -> float:
        if self.weighted is not None:
            return self.weighted
        return 1.0 - self.unexpected / self.evaluated if self.evaluated else 1.0


@dataclass
class PartitionEvaluation:
    """Every rule's result on one partition, with the dimension scores and grade they give."""

    source: str
    key: str
    run_id: str
    evaluated_at: str
    rows: int
    results: list[RuleResult]
    scores: dict[str, float] = field(default_factory=dict)
    overall: float = 0.0
    grade: str = "D"
    content: str = ""  # the standardised content it judged (the manifest's content id): publish only that
    profile: dict[str, list[float | None]] = field(default_factory=dict)  # readings: per-tag level, spread, period

    def score(self) -> None:
        """(Re)compute scores from the results; rules that evaluated nothing do not count, nor row rules whose
        findings a time-series rule already counted in tag-time (quality.timeseries_scores.COVERED_RULES)."""
        covered = {n for r in self.results if r.evaluated for n in COVERED_RULES.get(r.name, ())}
        counted = [(Dimension(r.dimension), r.score) for r in self.results if r.evaluated and r.name not in covered]
        self.scores = dimension_scores(counted)
        self.overall = overall(self.scores)
        self.grade = grade(self.overall)

    @property
    def blocking_failures(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed and r.severity == "error" and r.level == "partition"]

    @property
    def content_is_bad(self) -> bool:
        """A blocking failure says something about this partition's rows (not only about the source, like
        freshness): its previously gated data must go too."""
        return any(r.name not in SOURCE_RULES for r in self.blocking_failures)


@dataclass(frozen=True)
class PartitionInput:
    """Where a partition is and what the standardiser said about it."""

    source: str
    kind: SourceKind
    key: str
    files: list[Path]
    rows_in: int
    rows_quarantined: int
    expected_columns: list[str]
    other_partition_rows: list[int]  # rows_out of the source's other partitions: the row-count history
    unreadable: list[dict[str, Any]] = field(default_factory=list)  # export files quarantined whole
    sequence: SequenceOptions | None = None  # a counter axis: entity and counter columns
    content: str = ""  # the manifest's content id of the files above
    newest: bool = True  # the source's newest partition (freshness is judged there only)
    history: dict[str, TagProfile] = field(default_factory=dict)  # readings: per-tag reference from earlier partitions
    window: tuple[datetime | None, datetime | None] = (None, None)  # readings: the time they are expected to cover
    exported: dict[str, float] = field(default_factory=dict)  # export file name -> when it was written (epoch s)
    day: tuple[datetime, datetime] | None = None  # a day partition's UTC day
    top_rule: str | None = None  # what the standardiser quarantined most, and an example row of it
    example: dict[str, Any] = field(default_factory=dict)


def expected_columns(kind: SourceKind, schema: dict[str, str], line_numbers: bool = False) -> list[str]:
    """The standardised columns of a kind (tables: their schema), with `source_line` when the source keeps it."""
    if kind in READING_KINDS:
        return list(READING_COLUMNS)
    names = list(schema) if kind is SourceKind.TABLE else [f.name for f in CANONICAL_FIELDS[kind]]
    return [*names, "source_file", *(["source_line"] if line_numbers else [])]


def evaluate_partition(
    con: duckdb.DuckDBPyConnection,
    part: PartitionInput,
    rules: list[Rule],
    options: QualityOptions,
    register_file_list: list[str],
    run_id: str,
) -> PartitionEvaluation:
    """Evaluate `rules` on one partition; leaves the temp table `flags` (failing rows) for the gate to use."""
    results: list[RuleResult] = []
    readable = _readable(con, part.files)
    results_by_name: dict[str, RuleResult] = {}
    rows = 0
    if readable == len(part.files) and part.files:
        _create_views(con, part, options, register_file_list)
        count = con.execute("SELECT count(*) FROM base").fetchone()
        rows = int(count[0]) if count else 0
        results_by_name.update(_row_results(con, [r for r in rules if r.level == "row"], rows, part.kind))
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE flags AS SELECT NULL::INTEGER AS _file, NULL::BIGINT AS _row LIMIT 0")
    names = {r.name for r in rules}
    series = None
    if rows and part.kind in READING_KINDS and names & SERIES_RULES:
        series = evaluate_series(con, names, options, part.history, part.window, part.exported)
    for rule in rules:
        if rule.level == "row":
            results.append(results_by_name.get(rule.name) or _result(rule, 0, 0, "partition could not be read"))
            continue
        if rule.name in SERIES_RULES:
            results.append(_series_result(rule, series))
            continue
        evaluated, unexpected, allowed, detail = _partition_metric(con, rule, part, options, rows, readable)
        result = _result(rule, evaluated, unexpected, detail)
        result.allowed_percent = allowed
        results.append(result)
    evaluation = PartitionEvaluation(
        part.source, part.key, run_id, datetime.now(UTC).isoformat(timespec="seconds"), rows, results,
        content=part.content,
        profile={t: p.as_list() for t, p in series.profile.items()} if series else {},
    )  # fmt: skip
    evaluation.score()
    return evaluation


def _series_result(rule: Rule, series: SeriesEvaluation | None) -> RuleResult:
    """A time-series rule's result (quality.timeseries_scores), with its severity-weighted score."""
    if series is None or rule.name not in series.metrics:
        return _result(rule, 0, 0, "not evaluated: the partition has no readings")
    metric, allowed = series.metrics[rule.name]
    result = _result(rule, metric.evaluated, metric.unexpected, metric.detail)
    result.allowed_percent = allowed
    result.weighted = metric.score if metric.evaluated else None
    return result


def _result(rule: Rule, evaluated: int, unexpected: int, detail: str = "") -> RuleResult:
    return RuleResult(
        rule.name,
        rule.dimension.value,
        rule.level,
        rule.severity,
        rule.description,
        evaluated,
        unexpected,
        detail=detail,
    )


def _readable(con: duckdb.DuckDBPyConnection, files: list[Path]) -> int:
    good = 0
    for path in files:
        try:
            con.execute("SELECT count(*) FROM parquet_metadata(?)", [str(path)]).fetchone()
            good += 1
        except duckdb.Error:
            continue
    return good


def _create_views(
    con: duckdb.DuckDBPyConnection, part: PartitionInput, options: QualityOptions, register_files: list[str]
) -> None:
    create_base_view(con, part.files)
    if register_files:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE register AS SELECT DISTINCT ON (node_id) node_id, parent_id, tag, "
            "low_limit, high_limit, unit, sampling_period_s FROM read_parquet(?, hive_partitioning = false)",
            [register_files],
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE register (node_id VARCHAR, parent_id VARCHAR, tag VARCHAR, "
            "low_limit DOUBLE, high_limit DOUBLE, unit VARCHAR, sampling_period_s DOUBLE)"
        )
    if part.kind in READING_KINDS:
        con.execute(TAG_STATS)
    elif part.sequence is not None:
        for statement in _sequence_views(part.sequence):
            con.execute(statement)
    else:
        con.execute(_records_view(part.kind, options))


def create_base_view(con: duckdb.DuckDBPyConnection, files: list[Path]) -> None:
    """View `base`: the partition's rows with a stable, narrow row id (the file's place in `files`, row number). Views
    take no parameters,
    so the paths (all under the data root, which plantdata chose) are written as literals."""
    con.execute(
        "CREATE OR REPLACE TEMP VIEW base AS SELECT p.* EXCLUDE (filename, file_row_number), "
        f"(list_position({path_list(files)}, p.filename) - 1)::INTEGER AS _file, p.file_row_number AS _row "
        f"FROM read_parquet({path_list(files)}, filename = true, file_row_number = true, hive_partitioning = false) p"
    )


# A tag's readings in time order, ties broken by file name, then value and quality: the first copy of a duplicated
# reading is the same one on every run (the others are flagged), so the gate publishes the same bytes every time.
SOURCE_RULES = frozenset({"freshness"})  # partition rules about the source as a whole, not a partition's rows
TAG_STATS = (
    "CREATE OR REPLACE TEMP TABLE tag_stats AS SELECT tag, "
    "COALESCE(NULLIF(1.4826 * mad(value), 0), stddev_samp(value)) AS _sigma, "
    "CASE WHEN count(*) > 1 THEN epoch(max(ts) - min(ts)) / (count(*) - 1) END AS _period, "
    # for quality.timeseries_scores: the tag's level, rows, usable values and first and last reading
    "median(value) AS _median, count(*) AS _rows, count_if(isfinite(value)) AS _values, "
    "min(ts) AS _first, max(ts) AS _last "
    "FROM base GROUP BY tag"
)


def _sequence_views(sequence: SequenceOptions) -> list[str]:
    """Window columns of counter rules, per entity: the rank of a (entity, counter) pair in file and line order,
    the previous counter of the entity in its file, and the step from the entity's previous distinct counter with
    the entity's usual (median) step."""
    counter = quote_ident(sequence.counter)
    entities = [quote_ident(e) for e in sequence.entities]
    entity = entities[0] if len(entities) == 1 else "[" + ", ".join(f"{e}::VARCHAR" for e in entities) + "]"
    b_entity = ", ".join(f"b.{e}" for e in entities)
    b_key = f"b.{entities[0]}" if len(entities) == 1 else "[" + ", ".join(f"b.{e}::VARCHAR" for e in entities) + "]"
    file_order = "b.source_file, b.source_line, b._file, b._row"
    return [
        f"CREATE OR REPLACE TEMP TABLE counter_steps AS SELECT {entity} AS _entity, {counter} AS _counter, "
        f"{counter} - lag({counter}) OVER (PARTITION BY {entity} ORDER BY {counter}) AS _step "
        f"FROM (SELECT DISTINCT {', '.join(entities)}, {counter} FROM base WHERE {counter} IS NOT NULL)",
        "CREATE OR REPLACE TEMP TABLE entity_steps AS SELECT _entity, median(_step) FILTER (WHERE _step > 0) "
        "AS _usual_step FROM counter_steps GROUP BY _entity",
        f"CREATE OR REPLACE TEMP VIEW r AS SELECT b.*, s._step, e._usual_step, "
        f"row_number() OVER (PARTITION BY {b_entity}, b.{counter} ORDER BY {file_order}) AS _counter_rank, "
        f"lag(b.{counter}) OVER (PARTITION BY {b_entity}, b.source_file ORDER BY b.source_line) AS _prev_in_file "
        f"FROM base b LEFT JOIN counter_steps s ON s._entity IS NOT DISTINCT FROM {b_key} "
        f"AND s._counter = b.{counter} LEFT JOIN entity_steps e ON e._entity IS NOT DISTINCT FROM {b_key}",
    ]


def _records_view(kind: SourceKind, options: QualityOptions) -> str:
    key = {SourceKind.WORK_ORDERS: ["wo_id"], SourceKind.ASSET_REGISTER: ["node_id"]}.get(kind, options.unique)
    rank = (
        f"row_number() OVER (PARTITION BY {', '.join(quote_ident(k) for k in key)} ORDER BY _file, _row)"
        if key
        else "1"
    )
    lookups = ""
    if kind is SourceKind.WORK_ORDERS:
        lookups = ", (SELECT 1 FROM register g WHERE g.node_id = b.equipment_id LIMIT 1) AS _equipment_known"
    elif kind is SourceKind.ASSET_REGISTER:
        lookups = ", (SELECT 1 FROM base p WHERE p.node_id = b.parent_id LIMIT 1) AS _parent_known"
    elif kind is SourceKind.EVENT_LOG:
        lookups = ", (SELECT 1 FROM register g WHERE g.tag = b.tag LIMIT 1) AS _tag_known"
    return f"CREATE OR REPLACE TEMP VIEW r AS SELECT b.*, {rank} AS _key_rank{lookups} FROM base b"


def _row_results(
    con: duckdb.DuckDBPyConnection, rules: list[Rule], rows: int, kind: SourceKind
) -> dict[str, RuleResult]:
    """Flag every failing row in one pass; counts come from the flags table, samples from the rows themselves.

    Table `flags` keeps the failing rows' ids (`_file`, `_row`), a flag per rule and the window columns that
    explain a failure (neighbouring readings, limits): small, since only failing rows are kept."""
    if not rules:
        con.execute("CREATE OR REPLACE TEMP TABLE flags AS SELECT _file, _row FROM base LIMIT 0")
        return {}
    if kind in READING_KINDS:
        flag_readings(con, rules, {r.name: _flag(r) for r in rules})
    else:
        flags = ", ".join(f"COALESCE({r.predicate}, false) AS {_flag(r)}" for r in rules)
        any_flag = " OR ".join(f"COALESCE({r.predicate}, false)" for r in rules)
        shown = ", ".join(_sample_columns(con, kind, "r"))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE flags AS SELECT r._file, r._row, {flags}, {shown} FROM r WHERE {any_flag}"
        )
    counts = con.execute(f"SELECT {', '.join(f'count_if({_flag(r)})' for r in rules)} FROM flags").fetchone()
    unexpected = dict(zip([r.name for r in rules], [int(c or 0) for c in counts or [0] * len(rules)], strict=True))
    samples = _samples(con, [r for r in rules if unexpected[r.name]], kind)
    results: dict[str, RuleResult] = {}
    for rule in rules:
        result = _result(rule, rows, unexpected[rule.name])
        if unexpected[rule.name]:
            result.sample = samples.get(rule.name, [])
            result.detail = f"{unexpected[rule.name]} of {rows} rows"
        results[rule.name] = result
    return results


def _samples(con: duckdb.DuckDBPyConnection, rules: list[Rule], kind: SourceKind) -> dict[str, list[dict[str, Any]]]:
    """The first SAMPLE_ROWS failing rows of each rule (in file order), with their columns and what explains them.

    Rows are read back from the partition by id in one scan, so the sorted pass can stay narrow."""
    if not rules:
        return {}
    picks = " UNION ALL ".join(
        f"(SELECT {sql_literal(r.name)} AS _rule, _file, _row FROM flags WHERE {_flag(r)} "
        f"ORDER BY _file, _row LIMIT {SAMPLE_ROWS})"
        for r in rules
    )
    context = EXPLAINING if kind in READING_KINDS else {}
    extra = "".join(f", f.{c} AS {quote_ident(name)}" for c, name in context.items())
    public = ", ".join(_sample_columns(con, kind))
    cursor = con.execute(
        f"SELECT p._rule, {public}{extra} FROM ({picks}) p JOIN base b ON b._file = p._file AND b._row = p._row "
        "JOIN flags f ON f._file = p._file AND f._row = p._row ORDER BY p._rule, p._file, p._row"
    )
    names = [d[0] for d in cursor.description or []][1:]
    found: dict[str, list[dict[str, Any]]] = {}
    for rule, *values in cursor.fetchall():
        found.setdefault(str(rule), []).append(dict(zip(names, map(_plain, values), strict=True)))
    return found


def _sample_columns(con: duckdb.DuckDBPyConnection, kind: SourceKind, alias: str = "b") -> list[str]:
    """Select expressions for sample rows: columns that may hold personal data are withheld, not shown."""
    described = [(str(row[0]), str(row[1])) for row in con.execute("DESCRIBE base").fetchall()]
    return [
        f"{alias}.{quote_ident(name)}"
        if sample_safe(kind, name, type_)
        else f"{sql_literal(WITHHELD)} AS {quote_ident(name)}"
        for name, type_ in described
        if not name.startswith("_")
    ]


def _partition_metric(
    con: duckdb.DuckDBPyConnection, rule: Rule, part: PartitionInput, options: QualityOptions, rows: int, readable: int
) -> tuple[int, int, float, str]:
    """(evaluated, unexpected, allowed percent, detail) of a partition rule."""
    if rule.expectation is not None:  # declared in the sources file: Great Expectations counts it (quality.gx_assert)
        return 0, 0, 0.0, "not judged yet"
    if rule.name == "readable":
        broken = len(part.files) - readable + len(part.unreadable)
        files = [f"{u['file']} ({u['cause']})" for u in part.unreadable]
        detail = "; ".join(
            [
                *(["export files quarantined whole: " + "; ".join(files)] if files else []),
                *([f"{len(part.files) - readable} Parquet file(s) unreadable"] if len(part.files) > readable else []),
            ]
        )
        evaluated = max(len(part.files) + len(part.unreadable), 1)
        return evaluated, broken if (part.files or part.unreadable) else 1, 0.0, detail
    if readable != len(part.files) or not part.files:
        return 0, 0, 0.0, "not evaluated: the partition could not be read"
    if rule.name == "not_empty":
        return 1, int(rows == 0), 0.0, "no rows" if rows == 0 else ""
    if rule.name == "schema":
        found = {row[0]: row[1] for row in con.execute("DESCRIBE base").fetchall() if not row[0].startswith("_")}
        missing = [c for c in part.expected_columns if c not in found]
        extra = [c for c in found if c not in part.expected_columns]
        wrong_ts = [c for c in ("ts",) if c in found and found[c] != "TIMESTAMP WITH TIME ZONE"]
        problems = len(missing) + len(extra) + len(wrong_ts)
        detail = "; ".join(
            text
            for text in (
                f"missing {missing}" if missing else "",
                f"unexpected {extra}" if extra else "",
                "ts is not a UTC timestamp" if wrong_ts else "",
            )
            if text
        )
        return len(part.expected_columns), problems, 0.0, detail
    if rule.name == "dirty_rate":
        return (
            max(part.rows_in, 1),
            part.rows_quarantined,
            100.0 * options.max_dirty_rate,
            quarantine_summary(
                part.rows_in, part.rows_quarantined, part.top_rule, part.example, options.quarantine_alert_share
            ),
        )
    if rule.name == "row_count_bounds":
        history = part.other_partition_rows
        if len(history) < 3:
            return 0, 0, 0.0, "fewer than 3 other partitions: no history to compare with"
        share = covered_share(con, part.day, part.window)  # the first and last days may cover part of a day only
        median = statistics.median(history) * share
        if median < MIN_ROWS_FOR_BOUNDS:
            return 0, 0, 0.0, f"history median {median:.0f} rows: too few to judge"
        low, high = median * (1 - options.row_count_tolerance), median * (1 + options.row_count_tolerance)
        outside = not low <= rows <= high
        scaled = f" for the {share:.0%} of the day the data covers" if share < 1 else ""
        return 1, int(outside), 0.0, f"{rows} rows; history median {median:.0f}{scaled}, allowed {low:.0f}-{high:.0f}"
    if rule.name == "freshness":  # about the source, not this partition's content: judged on the newest only
        if not part.newest:
            return 0, 0, 0.0, "not evaluated: freshness is judged on the source's newest partition"
        newest = con.execute("SELECT max(ts) FROM base").fetchone()
        stale = con.execute(
            "SELECT max(ts) < now() - to_seconds(?::DOUBLE) FROM base", [3600 * (options.freshness_hours or 0)]
        ).fetchone()
        return 1, int(bool(stale and stale[0])), 0.0, f"newest row {newest[0] if newest else None}"
    raise ValueError(f"no metric for partition rule {rule.name!r}")


def quarantine_summary(
    rows_in: int, quarantined: int, top_rule: str | None, example: dict[str, Any], alert_share: float
) -> str:
    """How much of a partition the standardiser quarantined, said plainly above the alert share, with the top
    rule and an example line."""
    share = quarantined / rows_in if rows_in else 0.0
    text = f"{quarantined} of {rows_in} rows ({share:.0%}) quarantined by the standardiser"
    if top_rule:
        line = example.get("line")
        where = f"{example.get('file')}" + (f" line {line}" if line is not None else "")
        text += f"; top rule {top_rule}, e.g. {where}: {example.get('detail')}"
    if share > alert_share:
        text = f"MOSTLY QUARANTINED (over {alert_share:.0%}): " + text
    return text


def _flag(rule: Rule) -> str:
    return quote_ident("flag_" + rule.name)


def _plain(value: Any) -> Any:
    """JSON-friendly sample values."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)
