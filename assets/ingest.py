"""Dagster assets that standardise each configured source into canonical Parquet, one per source."""

import warnings

import dagster as dg

from assets.resources import PlantdataResource
from assets.retries import retry_transient
from config.sources import SourceConfig, SourcesFile
from ingest.manifest import PartitionResult
from ingest.runner import ingest_partitions

GROUP = "standardised"


def standardised_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["standardised", source])


def source_pool(source: SourceConfig) -> str:
    """The Dagster pool of a source's steps: runs of one source take turns (limit 1, see dagster.yaml)."""
    return f"plantdata-{source.name}"


def partitions_for(source: SourceConfig) -> dg.DynamicPartitionsDefinition:
    """Partition keys are UTC days (or file names) found in the data, added by discovery."""
    return dg.DynamicPartitionsDefinition(name=f"{source.name}_{source.partitioning}s")


def build_standardised_asset(sources: SourcesFile, source: SourceConfig) -> dg.AssetsDefinition:
    with warnings.catch_warnings():  # single-run backfills are stable in practice; the beta label is noise
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _build(sources, source)


def _build(sources: SourcesFile, source: SourceConfig) -> dg.AssetsDefinition:
    deps = [standardised_key(source.register_source)] if source.register_source else []

    @dg.asset(
        key=standardised_key(source.name),
        group_name=GROUP,
        partitions_def=partitions_for(source),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=deps,
        kinds={"duckdb", "parquet"},
        pool=source_pool(source),
        owners=[],
        description=(
            f"{source.description or source.kind.value} from {source.system.value} ({source.owner}), "
            f"standardised to canonical Parquet. Files: {source.location}"
        ),
        metadata={"source_kind": source.kind.value, "source_system": source.system.value, "owner": source.owner},
    )
    def standardised(context: dg.AssetExecutionContext, plantdata: PlantdataResource) -> dg.MaterializeResult[None]:
        layout = plantdata.layout()
        keys = list(context.partition_keys)
        context.log.info(f"standardising {len(keys)} partition(s) of {source.name}")
        with retry_transient(context):
            results = ingest_partitions(sources, source, keys, layout, context.run.run_id, progress=context.log.info)
        for result in results:  # each partition's materialization carries its own counts
            context.add_asset_metadata(partition_metadata(result), partition_key=result.key)
        return dg.MaterializeResult(metadata={"data_root": dg.MetadataValue.path(layout.store.root)})

    return standardised


def partition_metadata(result: PartitionResult) -> dict[str, dg.MetadataValue | int | str]:
    """What standardising one partition read, wrote and quarantined: its materialization's metadata."""
    return {
        "dagster/row_count": result.rows_out,
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "readings_out": result.readings_out,
        "rows_quarantined": result.rows_quarantined,
        "quarantine_rules": dg.MetadataValue.json(dict(result.rules)),
        "unreadable_files": dg.MetadataValue.json([f["file"] for f in result.unreadable]),
        "source_files": dg.MetadataValue.table(
            records=[dg.TableRecord({"file": f["name"], "sha256": f["sha256"]}) for f in result.files],
            schema=dg.TableSchema(columns=[dg.TableColumn("file", "string"), dg.TableColumn("sha256", "string")]),
        ),
        "outputs": dg.MetadataValue.json(sorted(result.outputs)),
        "quarantine_files": dg.MetadataValue.json(sorted(result.quarantine)),
    }
