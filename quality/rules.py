"""The rules of the quality gate, one place per rule: what it checks, its dimension, level and severity.

Row rules are SQL predicates over the partition's rows (view `r`, with window columns precomputed);
failing rows of an error-severity row rule are moved to the quarantine and the partition goes on.
Partition rules return (evaluated, unexpected) for the whole partition; an error-severity failure
blocks publication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from config.kinds import READING_KINDS, SourceKind
from config.quality import QualityOptions, Severity
from config.sources import SequenceOptions
from config.sql import quote_ident, sql_list
from quality.dimensions import Dimension

Level = Literal["row", "partition"]


@dataclass(frozen=True)
class Rule:
    """One rule as configured for one source."""

    name: str
    dimension: Dimension
    level: Level
    severity: Severity
    description: str
    predicate: str | None = None  # row rules: TRUE for a failing row of `r`
    expectation: tuple[str, str] | None = None  # declared in the sources file: GX class name and JSON arguments


def _row(name: str, dimension: Dimension, severity: Severity, description: str, predicate: str) -> Rule:
    return Rule(name, dimension, "row", severity, description, predicate)


def _partition(name: str, dimension: Dimension, severity: Severity, description: str) -> Rule:
    return Rule(name, dimension, "partition", severity, description)


def default_rules(
    kind: SourceKind,
    options: QualityOptions,
    has_register: bool,
    columns: list[str],
    sequence: SequenceOptions | None = None,
) -> list[Rule]:
    """The suite of a source kind with the source's options applied (disabled rules dropped, severities set)."""
    rules = [
        _partition("schema", Dimension.CONFORMITY, "error", "columns and types match the canonical schema"),
        _partition("not_empty", Dimension.COMPLETENESS, "error", "the partition has rows"),
        _partition("readable", Dimension.ACCESSIBILITY, "error", "every Parquet file of the partition can be read"),
        _partition(
            "dirty_rate",
            Dimension.ACCURACY,
            "warn",
            f"rows quarantined while standardising are at most {options.max_dirty_rate:.1%} of rows in",
        ),
        _partition(
            "row_count_bounds",
            Dimension.CONSISTENCY,
            "warn",
            f"rows within ±{options.row_count_tolerance:.0%} of the median of the source's other partitions",
        ),
    ]
    if options.freshness_hours is not None:
        rules.append(
            _partition(
                "freshness", Dimension.TIMELINESS, "error", f"the newest row is at most {options.freshness_hours} h old"
            )
        )
    if "ts" in columns:
        rules.append(
            _row(
                "future_timestamp",
                Dimension.TIMELINESS,
                "error",
                "no timestamp lies in the future",
                "r.ts > now() + INTERVAL 5 MINUTE",
            )
        )
    if kind in READING_KINDS:
        rules += _reading_rules(options, has_register)
    elif kind is SourceKind.EVENT_LOG and has_register:
        rules.append(
            _row(
                "tag_in_register",
                Dimension.CONSISTENCY,
                "warn",
                "every alarm tag is in the asset register",
                "r.tag IS NOT NULL AND r._tag_known IS NULL",
            )
        )
    elif kind is SourceKind.WORK_ORDERS:
        rules.append(
            _row(
                "closed_after_created",
                Dimension.CONSISTENCY,
                "error",
                "a work order is closed after it was created",
                "r.closed_at < r.ts",
            )
        )
        rules.append(
            _row("unique_work_order", Dimension.ACCURACY, "error", "work order ids are unique", "r._key_rank > 1")
        )
        if has_register:
            rules.append(
                _row(
                    "equipment_in_register",
                    Dimension.CONSISTENCY,
                    "error",
                    "every work order's equipment exists in the asset register",
                    "r.equipment_id IS NOT NULL AND r._equipment_known IS NULL",
                )
            )
    elif kind is SourceKind.ASSET_REGISTER:
        rules.append(_row("unique_node", Dimension.ACCURACY, "error", "node ids are unique", "r._key_rank > 1"))
        rules.append(
            _row(
                "parent_exists",
                Dimension.CONSISTENCY,
                "warn",
                "every parent node exists",
                "r.parent_id IS NOT NULL AND r._parent_known IS NULL",
            )
        )
        rules.append(
            _row(
                "limits_ordered",
                Dimension.CONFORMITY,
                "warn",
                "low_limit is below high_limit",
                "r.low_limit >= r.high_limit",
            )
        )
    if sequence is not None:
        rules += _sequence_rules(sequence)
    if options.unique:
        rules.append(_row("unique_key", Dimension.ACCURACY, "error", f"{options.unique} is unique", "r._key_rank > 1"))
    for column, allowed in options.value_sets.items():
        rules.append(
            _row(
                f"value_set_{column}",
                Dimension.CONFORMITY,
                "warn",
                f"{column} is one of {allowed}",
                f"r.{quote_ident(column)}::VARCHAR NOT IN ({sql_list(allowed)})",
            )
        )
    for declared in options.expectations:
        rules.append(
            Rule(
                declared.rule_name,
                Dimension(declared.dimension),
                "partition",
                declared.severity,
                declared.description or f"{declared.type} {declared.kwargs_json} (declared in the sources file)",
                expectation=(declared.type, declared.kwargs_json),
            )
        )
    chosen = [r for r in rules if r.name not in set(options.disable)]
    return [
        Rule(
            r.name,
            r.dimension,
            r.level,
            options.severity.get(r.name, r.severity),
            r.description,
            r.predicate,
            r.expectation,
        )
        for r in chosen
    ]


def _sequence_rules(sequence: SequenceOptions) -> list[Rule]:
    """Rules of a counter axis, per entity; their SQL uses the window columns of quality.evaluate's sequence view."""
    counter = quote_ident(sequence.counter)
    entity = " + ".join(sequence.entities)
    present = " AND ".join(f"r.{quote_ident(e)} IS NOT NULL" for e in sequence.entities)
    step = f"{sequence.max_step!r}" if sequence.max_step else "1.5 * r._usual_step"
    allowed = f"at most {sequence.max_step}" if sequence.max_step else "at most 1.5 x the entity's usual step"
    return [
        _row(
            "duplicate_counter",
            Dimension.ACCURACY,
            "error",
            f"one row per {entity} and {sequence.counter} (the first by file and line is kept)",
            "r._counter_rank > 1",
        ),
        _row(
            "counter_backwards",
            Dimension.CONSISTENCY,
            "warn",
            f"within a file, {sequence.counter} never goes down from one row of a {entity} to its next",
            f"r._prev_in_file IS NOT NULL AND r.{counter} < r._prev_in_file",
        ),
        _row(
            "counter_gap",
            Dimension.COMPLETENESS,
            "warn",
            f"{sequence.counter} advances by {allowed} within a {entity}",
            f"{present} AND r._step > {step}",
        ),
    ]


def _reading_rules(options: QualityOptions, has_register: bool) -> list[Rule]:
    """Rules for sensor readings; their SQL uses the window columns of quality.evaluate's readings view.

    The time-series scores (quality.timeseries_scores) are partition rules computed from what the row rules found.
    """
    k = options.spike_sigma
    accepted = sql_list(list[str](options.accepted_quality))
    series = [
        _partition(
            "values_usable",
            Dimension.COMPLETENESS,
            "error",
            f"at least {options.min_completeness:.0%} of the readings carry a usable value (fail closed: a partition "
            "whose values are missing is not published)",
        ),
        _partition(
            "tag_completeness",
            Dimension.COMPLETENESS,
            "warn",
            "every reading expected from each tag's sampling period is present with a value",
        ),
        _partition(
            "tag_accuracy",
            Dimension.ACCURACY,
            "warn",
            "no tag-time is affected by stuck, spiking, out-of-range or duplicated readings",
        ),
    ]
    if has_register:
        series.append(
            _partition(
                "unit_consistency",
                Dimension.CONSISTENCY,
                "warn",
                "every tag's values are in the register's unit (judged against its history and its peers)",
            )
        )
    if options.max_export_latency_hours is not None:
        series.append(
            _partition(
                "export_latency",
                Dimension.TIMELINESS,
                "warn",
                f"readings are exported within {options.max_export_latency_hours:g} h",
            )
        )
    rules = [
        *series,
        _row(
            "duplicate_reading",
            Dimension.ACCURACY,
            "error",
            "one reading per tag and timestamp (the copy kept: first by file name, then smaller value)",
            "r._dup_rank > 1",
        ),
        _row("value_present", Dimension.COMPLETENESS, "warn", "every reading has a value", "r.value IS NULL"),
        _row(
            "finite_value",
            Dimension.CONFORMITY,
            "error",
            "values are finite numbers",
            "r.value IS NOT NULL AND (isnan(r.value) OR isinf(r.value))",
        ),
        _row(
            "quality_code",
            Dimension.CONFORMITY,
            "warn",
            f"the reading's quality class is one of {options.accepted_quality}",
            f"r.quality_class IS NOT NULL AND r.quality_class::VARCHAR NOT IN ({accepted})",
        ),
        _row(
            "spike",
            Dimension.ACCURACY,
            "warn",
            f"no single-sample excursion beyond {k} standard deviations of the tag"
            + (f" and {options.spike_min_span:.0%} of its register span" if has_register else ""),
            f"r._sigma > 0 AND abs(r.value - r._prev) > {k} * r._sigma AND abs(r.value - r._next) > {k} * r._sigma "
            "AND sign(r.value - r._prev) = sign(r.value - r._next) "
            f"AND abs(r._next - r._prev) < {k / 2} * r._sigma "
            f"AND (r._high IS NULL OR r._low IS NULL OR least(abs(r.value - r._prev), abs(r.value - r._next)) > "
            f"{options.spike_min_span!r} * (r._high - r._low))",
        ),  # back to its baseline: a spike, not a step; and large against the measuring span, so that a tag that
        # sits still most of the time (a stopped motor: a tiny robust spread) does not make every step a spike
        _row(
            "stuck_signal",
            Dimension.ACCURACY,
            "warn",
            f"no value repeats unchanged for {options.stuck_after_s} s or more",
            f"r.value IS NOT NULL AND epoch(r.ts - r._since) >= {options.stuck_after_s}",
        ),
        _row(
            "gap_before",
            Dimension.COMPLETENESS,
            "warn",
            f"no tag goes {options.gap_periods} sampling periods without a reading",
            f"epoch_us(r.ts) - epoch_us(r._prev_ts) > {options.gap_periods} * 1e6 * r._period",
        ),
    ]
    if has_register:
        rules.append(
            _row(
                "physical_range",
                Dimension.ACCURACY,
                "error",
                "values lie within the register's physical limits",
                "(r.value < r._low OR r.value > r._high)",
            )
        )
        rules.append(
            _row("unit_from_register", Dimension.CONFORMITY, "warn", "every reading carries its unit", "r.unit IS NULL")
        )
    return rules
