"""Examples of a task dataset: cut from the releases (windows, sequences or records), grouped for splitting and
labelled with provenance; each published column gets its role (key, time, group, feature, text, target)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from task_datasets import labels as label_sources
from task_datasets import splits
from task_datasets.errors import TaskDatasetError
from task_datasets.inputs import ReleasedInput
from task_datasets.records import build_records
from task_datasets.register import EMPTY, load_register
from task_datasets.sequences import SEQUENCE, rul_targets
from task_datasets.spec import RecordsSpec, SequenceSpec, TaskSpec
from task_datasets.windows import build_windows

KEY = "example_key"


@dataclass
class Inputs:
    """The releases a spec names, by its `sources` keys, and the label projects' releases by project."""

    sources: dict[str, ReleasedInput]
    projects: dict[str, ReleasedInput]

    @property
    def all(self) -> list[ReleasedInput]:
        return [*self.sources.values(), *self.projects.values()]


def examples(spec: TaskSpec, inputs: Inputs) -> tuple[pl.DataFrame, dict[str, str]]:
    """The labelled examples (one row each, with `group` and `example_key`) and each column's role."""
    cut = spec.examples
    if isinstance(cut, RecordsSpec):
        frame = build_records(inputs.sources[cut.source], cut)
        frame = frame.with_columns(pl.col(cut.key).cast(pl.String).alias(KEY))
    else:
        register = load_register(inputs.sources[cut.asset_register]) if cut.asset_register else EMPTY
        by_entity = spec.splits.group_by == "entity"
        frame = build_windows(
            inputs.sources[cut.readings], register, cut, by_entity, label_sources.rule_signals(spec.labels)
        )
        if spec.splits.group_by in ("unit", "line"):
            level = spec.splits.group_by
            frame = frame.with_columns(
                pl.col("equipment")
                .map_elements(lambda e: register.ancestor(e, level), return_dtype=pl.String)
                .alias(level)
            )
        key = pl.concat_str(
            [pl.col("equipment"), pl.col("entity"), pl.col("window_start").dt.strftime("%Y-%m-%dT%H:%M:%SZ")],
            separator="|",
        )
        frame = frame.with_columns(key.alias(KEY))
    frame = frame.with_columns(_group(spec, frame).alias(splits.GROUP))
    if isinstance(cut, SequenceSpec):
        frame = rul_targets(frame, inputs.sources[cut.failure.source], cut.failure, spec.target.column)
        frame = frame.with_columns(pl.lit("work_orders").alias(label_sources.PROVENANCE))
    else:
        assert spec.labels is not None  # the spec's validator requires labels for windows and records
        frame = label_sources.apply_labels(frame, spec.labels, spec.target, _opinions(spec, inputs))
    return _columns(spec, frame)


def _group(spec: TaskSpec, frame: pl.DataFrame) -> pl.Expr:
    by = spec.splits.group_by
    if by == "entity" and "entity" in frame.columns:
        return pl.col("entity")
    if by in ("unit", "line"):
        return pl.col(by)
    return pl.col("equipment")


def _opinions(spec: TaskSpec, inputs: Inputs) -> dict[str, label_sources.Opinion]:
    labels, cut = spec.labels, spec.examples
    assert labels is not None
    opinions: dict[str, label_sources.Opinion] = {}
    records = isinstance(cut, RecordsSpec)
    if labels.expert_consensus is not None:
        released = inputs.projects[labels.expert_consensus.project]
        opinions["expert_consensus"] = (
            label_sources.expert_records(released, labels.expert_consensus, cut.key)
            if isinstance(cut, RecordsSpec)
            else label_sources.expert_windows(released, labels.expert_consensus)
        )
    if labels.work_orders is not None:
        if records:
            assert isinstance(cut, RecordsSpec)
            if cut.label_column is None:
                raise TaskDatasetError("labels.work_orders on records needs examples.label_column; add it")
            opinions["work_orders"] = label_sources.work_order_records(labels.work_orders, cut.label_column)
        else:
            released = inputs.sources[labels.work_orders.source]
            opinions["work_orders"] = label_sources.work_order_windows(released, labels.work_orders)
    if labels.alarms is not None:
        opinions["alarms"] = label_sources.alarm_windows(inputs.sources[labels.alarms.source], labels.alarms)
    if labels.rule is not None:
        opinions["rule"] = label_sources.rule(labels.rule)
    return opinions


def _columns(spec: TaskSpec, frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """The published columns in a fixed order, with their roles; helper columns (`_max__*`) are dropped."""
    cut = spec.examples
    roles: dict[str, str] = {KEY: "key", "window_start": "time", "window_end": "time", "equipment": "group"}
    if splits.GROUP not in roles:
        roles[splits.GROUP] = "group"
    if "entity" in frame.columns and spec.splits.group_by == "entity":
        roles["entity"] = "group"
    if SEQUENCE in frame.columns:
        roles[SEQUENCE] = "feature"
    if isinstance(cut, RecordsSpec):
        roles[cut.text] = "text"
    else:
        for column in frame.columns:
            if "__" in column and not column.startswith("_"):
                roles[column] = "feature"
    roles[spec.target.column] = "target"
    roles[label_sources.PROVENANCE] = "label_provenance"
    ordered = [c for c in roles if c in frame.columns]
    return frame.select(ordered), {c: roles[c] for c in ordered}
