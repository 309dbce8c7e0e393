"""Gated assets: standardised partitions that passed the quality gate, without the rows it quarantined."""

import warnings

import dagster as dg

from assets.ingest import partitions_for, source_pool, standardised_key
from assets.resources import PlantdataResource
from assets.retries import retry_transient
from config.sources import SourceConfig
from quality.errors import NotEvaluatedError, StaleEvaluationError
from quality.gate import evaluate_source, publish_gated

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
            dg.AssetCheckSpec(
                GATE_VERDICT,
                asset=key,
                description="Every partition of the run passed the gate's error-severity partition rules; a "
                "partition that did not is held back (not in gated/, so never published) while the others go on.",
            )
        ],
        description=f"{source.name} after the quality gate: scored by GB/T 36344 dimensions, rows that broke "
        "an error-severity row rule moved to the quarantine, sorted by tag and time. The gate decides per "
        "partition: a blocked one is held back, the others are published.",
    )
    def gated(context: dg.AssetExecutionContext, plantdata: PlantdataResource) -> dg.MaterializeResult:  # type: ignore[type-arg]  # Dagster matches the bare class
        keys, layout = list(context.partition_keys), plantdata.layout()
        with retry_transient(context):
            try:
                outcome = publish_gated(source, keys, layout)
            except (StaleEvaluationError, NotEvaluatedError) as stale:  # standardised again by a run side by side
                context.log.warning(f"{stale}; judging the current content before publishing it")
                evaluate_source(source, keys, layout, context.run.run_id)
                outcome = publish_gated(source, keys, layout)
        published = outcome.published
        for partition, rules in sorted(outcome.blocked.items()):
            context.log.error(f"{source.name} partition {partition} held back by the gate: {', '.join(rules)}")
        verdict = dg.AssetCheckResult(
            check_name=GATE_VERDICT,
            passed=not outcome.blocked,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(f"{k} held back: {', '.join(r)}" for k, r in sorted(outcome.blocked.items())) or None,
            metadata={
                "published_partitions": dg.MetadataValue.json(sorted(p.key for p in published)),
                "blocked_partitions": dg.MetadataValue.json(outcome.blocked),
            },
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(p.rows_gated for p in published),
                "rows_standardised": sum(p.rows_standardised for p in published),
                "rows_quarantined_by_gate": sum(p.rows_quarantined for p in published),
                "quality": dg.MetadataValue.json({p.key: {"overall": p.overall, "grade": p.grade} for p in published}),
                "worst_grade": max((p.grade for p in published), default="-"),
                "blocked_partitions": dg.MetadataValue.json(outcome.blocked),
                "outputs": dg.MetadataValue.json([p.path for p in published]),
            },
            check_results=[verdict],
        )

    return gated
