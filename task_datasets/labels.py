"""Labels with provenance: each label source gives an opinion per example (or none), precedence decides.

Sources: the experts' consensus of an annotation project (released as `labels_<project>`), work orders, alarms,
and a rule (a threshold on a signal, else a default class). Each example gets the label of the first source in
`precedence` that has an opinion on it, and a `label_source` column naming that source, so a consumer can keep
only expert labels, or weigh them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import duckdb
import polars as pl

from annotation.consensus import ConsensusMethod
from task_datasets.errors import TaskDatasetError
from task_datasets.inputs import ReleasedInput
from task_datasets.register import signal_of
from task_datasets.spec import (
    AlarmLabels,
    ExpertConsensus,
    LabelsSpec,
    RuleLabel,
    TargetSpec,
    WorkOrderLabels,
    parse_duration,
)

PROVENANCE = "label_source"
UNDECIDED = (ConsensusMethod.PENDING_REVIEW.value, ConsensusMethod.INSUFFICIENT.value)
Opinion = Callable[[pl.DataFrame], pl.Series]


def apply_labels(
    frame: pl.DataFrame, spec: LabelsSpec, target: TargetSpec, opinions: dict[str, Opinion]
) -> pl.DataFrame:
    """Add the target column and `label_source`; examples no source has an opinion on are dropped."""
    chosen = pl.lit(None, dtype=pl.String)
    source = pl.lit(None, dtype=pl.String)
    for name in reversed(spec.precedence):  # the first in precedence is applied last, so it wins
        opinion = opinions[name](frame).alias("opinion")
        chosen = pl.when(opinion.is_not_null()).then(opinion).otherwise(chosen)
        source = pl.when(opinion.is_not_null()).then(pl.lit(name)).otherwise(source)
    labelled = frame.with_columns(chosen.alias(target.column), source.alias(PROVENANCE))
    labelled = labelled.filter(pl.col(target.column).is_not_null())
    unknown = sorted(set(labelled[target.column].unique().to_list()) - set(target.classes))
    if unknown:
        raise TaskDatasetError(
            f"labels {unknown} are not among target.classes {target.classes}; add them there or map them to a "
            "class in the label source's `map`"
        )
    return labelled


def expert_windows(labels: ReleasedInput, config: ExpertConsensus) -> Opinion:
    """Windows inside a task the experts decided: the label of the consensus segment overlapping the window
    most, else `unmarked` (they saw it and marked nothing)."""
    tasks = _consensus(labels, config)

    def opinion(frame: pl.DataFrame) -> pl.Series:
        out: list[str | None] = []
        for equipment, start, end in frame.select("equipment", "window_start", "window_end").iter_rows():
            out.append(_window_label(tasks, equipment, start, end, config))
        return pl.Series(out, dtype=pl.String)

    return opinion


def expert_records(labels: ReleasedInput, config: ExpertConsensus, key: str) -> Opinion:
    decided = {
        str(json.loads(row_keys).get(key)): config.map.get(label, label)
        for row_keys, label, _, _ in _consensus_rows(labels, config)
        if label is not None
    }
    return lambda frame: frame[key].cast(pl.String).replace_strict(decided, default=None, return_dtype=pl.String)


def work_order_windows(orders: ReleasedInput, config: WorkOrderLabels) -> Opinion:
    lead = parse_duration(config.lead)
    rows = _query(
        orders,
        "SELECT equipment_id, ts, coalesce(closed_at, ts), failure_mode FROM read_parquet(?) "
        "WHERE wo_type IN (SELECT unnest(?)) AND failure_mode IS NOT NULL ORDER BY ts, wo_id",
        [config.types],
    )

    def opinion(frame: pl.DataFrame) -> pl.Series:
        out: list[str | None] = []
        for equipment, start, end in frame.select("equipment", "window_start", "window_end").iter_rows():
            found = [m for e, opened, closed, m in rows if e == equipment and start < closed and end > opened - lead]
            out.append(config.map.get(found[-1], found[-1]) if found else None)
        return pl.Series(out, dtype=pl.String)

    return opinion


def work_order_records(config: WorkOrderLabels, column: str) -> Opinion:
    return lambda frame: frame[column].replace_strict(config.map, default=frame[column], return_dtype=pl.String)


def alarm_windows(alarms: ReleasedInput, config: AlarmLabels) -> Opinion:
    rows = _query(
        alarms, "SELECT equipment_id, tag, event_type, ts FROM read_parquet(?) WHERE state = 'ACTIVE' ORDER BY ts", []
    )

    def opinion(frame: pl.DataFrame) -> pl.Series:
        out: list[str | None] = []
        for equipment, start, end in frame.select("equipment", "window_start", "window_end").iter_rows():
            label = None
            for e, tag, kind, ts in rows:
                if e == equipment and start <= ts < end:
                    label = next(
                        (r.label for r in config.rules if r.signal == signal_of(str(tag)) and kind in r.alarm_types),
                        label,
                    )
            out.append(label)
        return pl.Series(out, dtype=pl.String)

    return opinion


def rule(config: RuleLabel) -> Opinion:
    def opinion(frame: pl.DataFrame) -> pl.Series:
        if config.signal is None:
            return pl.Series([config.default] * frame.height, dtype=pl.String)
        high = frame[f"_max__{config.signal}"] > config.above
        return pl.Series([config.label if h else config.default for h in high.to_list()], dtype=pl.String)

    return opinion


def rule_signals(spec: LabelsSpec | None) -> list[str]:
    """Signals a label rule reads: read beside the features, never kept as features (they would leak the target)."""
    if spec is None or spec.rule is None or spec.rule.signal is None:
        return []
    return [spec.rule.signal]


Task = tuple[str, datetime, datetime, list[tuple[float, float, str]]]


def _consensus(labels: ReleasedInput, config: ExpertConsensus) -> list[Task]:
    tasks = []
    for row_keys, _, segments, _ in _consensus_rows(labels, config):
        keys = json.loads(row_keys)
        if "equipment_id" not in keys or "start" not in keys:
            raise TaskDatasetError(
                f"{labels.dataset} v{labels.version} does not label sensor windows (row_keys {sorted(keys)}); name "
                "a sensor_faults project under labels.expert_consensus"
            )
        spans = [(float(s["start"]), float(s["end"]), str(s["label"])) for s in json.loads(segments or "[]")]
        tasks.append((str(keys["equipment_id"]), _instant(keys["start"]), _instant(keys["end"]), spans))
    return tasks


def _consensus_rows(labels: ReleasedInput, config: ExpertConsensus) -> list[tuple[str, str | None, str | None, str]]:
    """One row per decided task: row_keys, consensus label, consensus segments, method."""
    return _query(
        labels,
        "SELECT DISTINCT row_keys, consensus_label, consensus_segments, consensus_method FROM read_parquet(?) "
        "WHERE consensus_method NOT IN (SELECT unnest(?)) AND coalesce(task_agreement, 1) >= ? ORDER BY row_keys",
        [list(UNDECIDED), config.min_agreement],
        file="labels.parquet",
    )


def _window_label(
    tasks: list[Task], equipment: str, start: datetime, end: datetime, config: ExpertConsensus
) -> str | None:
    for task_equipment, task_start, task_end, spans in tasks:
        if task_equipment != equipment or start < task_start or end > task_end:
            continue
        lo, hi = start.timestamp(), end.timestamp()
        overlaps = [(min(hi, e) - max(lo, s), label) for s, e, label in spans if min(hi, e) > max(lo, s)]
        if overlaps:
            label = max(overlaps)[1]
            return config.map.get(label, label)
        return config.unmarked
    return None


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _query(released: ReleasedInput, sql: str, params: list[object], file: str | None = None) -> list[tuple]:  # type: ignore[type-arg]
    files = [str(f) for f in released.files if file is None or f.name == file]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, [files, *params]).fetchall()
    finally:
        con.close()
