"""Gated assets: standardised partitions that passed the quality gate, without the rows it quarantined."""

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation

from assets.ingest import partitions_for, source_pool, standardised_key
from assets.partition_checks import (
    PartitionVerdict,
    check_outputs,
    evaluations,
    latest_materializations,
    partitioned_check_spec,
)
from assets.resources import PlantdataResource
from assets.retries import retry_transient
from config.layout import Layout
from config.sources import SourceConfig
from quality.errors import NotEvaluatedError, StaleEvaluationError
from quality.gate import GatedPartition, evaluate_source, publish_gated

GROUP = "gated"
GATE_VERDICT = "gate_verdict"


def gated_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["gated", source])


def build_gated_asset(source: SourceConfig) -> dg.AssetsDefinition:
    with warnings.catch_warnings():  # single-run backfills are stable in practice; the beta label is noise
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _build(source)


def _build(source: SourceConfig) -> dg.AssetsDefinition:
    key = gated_key(source.name)

    @dg.asset(
        key=key,
        group_name=GROUP,
        partitions_def=partitions_for(source),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[standardised_key(source.name)],
        kinds={"duckdb", "parquet"},
        pool=source_pool(source),
        check_specs=[
            partitioned_check_spec(
                GATE_VERDICT,
                key,
                partitions_for(source),
                description="Per partition: the partition passed the gate's partition rules that hold a partition "
                "back (error severity) and was published; one that failed is held back (not in gated/, so never "
                "published) while the others go on.",
            )
        ],
        description=f"{source.name} after the quality gate: scored by GB/T 36344 dimensions, rows that broke "
        "an error-severity row rule moved to the quarantine, sorted by tag and time. The gate decides per "
        "partition: a blocked one is held back, the others are published.",
    )
    def gated(
        context: dg.AssetExecutionContext, plantdata: PlantdataResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.Output[None] | AssetCheckEvaluation]:
        keys, layout = list(context.partition_keys), plantdata.layout()
        with retry_transient(context):
            try:
                outcome = publish_gated(source, keys, layout)
            except (StaleEvaluationError, NotEvaluatedError) as stale:  # standardised again by a run side by side
                context.log.warning(f"{stale}; judging the current content before publishing it")
                evaluate_source(source, keys, layout, context.run.run_id)
                outcome = publish_gated(source, keys, layout)
        published = {p.key: p for p in outcome.published}
        for partition, rules in sorted(outcome.blocked.items()):
            context.log.error(f"{source.name} partition {partition} held back by the gate: {', '.join(rules)}")
        for partition in keys:  # each partition's materialization says what the gate did with it
            context.add_asset_metadata(
                _partition_metadata(layout, published.get(partition), outcome.blocked.get(partition, [])),
                partition_key=partition,
            )
        # the data root as the user named it: a folder, or the s3:// URL (not this machine's working folder)
        yield dg.MaterializeResult(metadata={"data_root": dg.MetadataValue.path(layout.store.root)})
        check = dg.AssetCheckKey(key, GATE_VERDICT)  # after the materializations: each verdict targets its own
        yield from check_outputs(context.assets_def, [check])
        targets = latest_materializations(context.instance, key, keys)
        verdicts = [_verdict(k, published.get(k), outcome.blocked.get(k, [])) for k in keys]
        yield from evaluations(check, verdicts, dg.AssetCheckSeverity.ERROR, targets)

    return gated


def _partition_metadata(layout: Layout, published: GatedPartition | None, held_back_by: list[str]) -> dict[str, Any]:
    """A published partition's counts, grade and file (its path, or URL in the store); a held-back one's blocking
    rules (this run published none of it)."""
    if published is None:
        return {"published": False, "held_back_by": dg.MetadataValue.json(held_back_by)}
    return {
        "published": True,
        "dagster/row_count": published.rows_gated,
        "rows_standardised": published.rows_standardised,
        "rows_quarantined_by_gate": published.rows_quarantined,
        "quality_overall": published.overall,
        "grade": published.grade,
        "output": dg.MetadataValue.path(layout.store.url(layout.name(Path(published.path)))),
    }


def _verdict(key: str, published: GatedPartition | None, held_back_by: list[str]) -> PartitionVerdict:
    if held_back_by:
        return PartitionVerdict(
            key,
            passed=False,
            description=f"held back (not published) by {', '.join(held_back_by)}",
            metadata={"held_back_by": dg.MetadataValue.json(held_back_by)},
        )
    metadata: dict[str, Any] = {"held_back_by": dg.MetadataValue.json([])}
    if published is not None:
        metadata.update(grade=published.grade, rows_gated=published.rows_gated)
    return PartitionVerdict(key, passed=True, description="published", metadata=metadata)
