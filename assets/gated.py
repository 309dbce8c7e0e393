"""Gated assets: standardised partitions that passed the quality gate, without the rows it quarantined."""

import warnings

import dagster as dg

from assets.ingest import partitions_for, standardised_key
from assets.resources import PlantdataResource
from config.sources import SourceConfig
from quality.gate import publish_gated

GROUP = "gated"


def gated_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["gated", source])


def build_gated_asset(source: SourceConfig) -> dg.AssetsDefinition:
    with warnings.catch_warnings():  # single-run backfills are stable in practice; the beta label is noise
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _build(source)


def _build(source: SourceConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=gated_key(source.name),
        group_name=GROUP,
        partitions_def=partitions_for(source),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[standardised_key(source.name)],
        kinds={"duckdb", "parquet"},
        description=f"{source.name} after the quality gate: scored by GB/T 36344 dimensions, rows that broke "
        "an error-severity row rule moved to the quarantine, sorted by tag and time.",
    )
    def gated(context: dg.AssetExecutionContext, plantdata: PlantdataResource) -> dg.MaterializeResult[None]:
        published = publish_gated(source, list(context.partition_keys), plantdata.layout())
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(p.rows_gated for p in published),
                "rows_standardised": sum(p.rows_standardised for p in published),
                "rows_quarantined_by_gate": sum(p.rows_quarantined for p in published),
                "quality": dg.MetadataValue.json({p.key: {"overall": p.overall, "grade": p.grade} for p in published}),
                "worst_grade": max((p.grade for p in published), default="-"),
                "outputs": dg.MetadataValue.json([p.path for p in published]),
            }
        )

    return gated
