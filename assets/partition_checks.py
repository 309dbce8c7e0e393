"""Asset check results per partition.

Our runs cover a range of partitions in one step (single-run backfills). Dagster 1.13's `AssetCheckResult` has
no partition (it takes the step's partition, and a range run has none), but a check whose spec has the asset's
`partitions_def` stores one evaluation per partition, which the UI shows per partition. So a step yields one
`AssetCheckEvaluation` per partition (each naming the materialization it judged: the UI shows a partition's
check as current only when it targets the partition's latest materialization), plus the empty output Dagster
expects for each check the step runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.events import DagsterEventType


@dataclass(frozen=True)
class PartitionVerdict:
    """One check's result on one partition."""

    partition: str
    passed: bool
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def partitioned_check_spec(
    name: str,
    asset: dg.AssetKey,
    partitions_def: dg.PartitionsDefinition,
    description: str,
    blocking: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> dg.AssetCheckSpec:
    """A check evaluated per partition of its asset (`partitions_def` on a check spec is a preview in 1.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name,
            asset=asset,
            partitions_def=partitions_def,
            description=description,
            blocking=blocking,
            metadata=metadata,
        )


def check_outputs(assets_def: dg.AssetsDefinition, checks: Iterable[dg.AssetCheckKey]) -> Iterator[dg.Output[None]]:
    """The (empty) output of each check: Dagster fails a step that yields an evaluation but no output."""
    for key in checks:
        yield dg.Output(None, output_name=assets_def.get_output_name_for_asset_check_key(key))


def latest_materializations(
    instance: dg.DagsterInstance, asset: dg.AssetKey, partitions: Iterable[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The newest materialization of each partition (two queries, whatever the number of partitions)."""
    ids = instance.event_log_storage.get_latest_storage_id_by_partition(
        asset, DagsterEventType.ASSET_MATERIALIZATION, partitions=set(partitions)
    )
    if not ids:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset, storage_ids=list(ids.values())), limit=len(ids)
    ).records
    return {
        str(r.partition_key): AssetCheckEvaluationTargetMaterializationData(
            storage_id=r.storage_id, run_id=r.run_id, timestamp=r.timestamp
        )
        for r in records
        if r.partition_key is not None
    }


def evaluations(
    check: dg.AssetCheckKey,
    verdicts: Iterable[PartitionVerdict],
    severity: dg.AssetCheckSeverity,
    targets: Mapping[str, AssetCheckEvaluationTargetMaterializationData],
    blocking: bool = False,
) -> Iterator[AssetCheckEvaluation]:
    """One evaluation per partition, each targeting that partition's materialization in `targets`; in key order,
    so the newest partition's is the check's latest execution in the UI."""
    for verdict in sorted(verdicts, key=lambda v: v.partition):
        yield AssetCheckEvaluation(
            asset_key=check.asset_key,
            check_name=check.name,
            passed=verdict.passed,
            metadata=dict(verdict.metadata),
            target_materialization_data=targets.get(verdict.partition),
            severity=severity,
            description=verdict.description,
            blocking=blocking,
            partition=verdict.partition,
        )
