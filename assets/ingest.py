"""Dagster assets that standardise each configured source into canonical Parquet, one per source."""

import warnings
from collections.abc import Iterable

import dagster as dg

from assets.resources import PlantdataResource
from assets.retries import retry_transient
from config.layout import Layout
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
        return dg.MaterializeResult(metadata=_metadata(results, layout))

    return standardised


def _metadata(results: Iterable[PartitionResult], layout: Layout) -> dict[str, dg.MetadataValue | int | str]:
    results = list(results)
    files = {f["name"]: f for r in results for f in r.files}
    rules: dict[str, int] = {}
    for result in results:
        for rule, count in result.rules.items():
            rules[rule] = rules.get(rule, 0) + count
    return {
        "dagster/row_count": sum(r.rows_out for r in results),
        "rows_in": sum(r.rows_in for r in results),
        "rows_out": sum(r.rows_out for r in results),
        "readings_out": sum(r.readings_out for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
        "quarantine_rules": dg.MetadataValue.json(rules),
        "partitions": dg.MetadataValue.json(
            {
                r.key: {"rows_in": r.rows_in, "rows_out": r.rows_out, "rows_quarantined": r.rows_quarantined}
                for r in results
            }
        ),
        "source_files": dg.MetadataValue.table(
            records=[dg.TableRecord({"file": n, "sha256": f["sha256"]}) for n, f in sorted(files.items())],
            schema=dg.TableSchema(columns=[dg.TableColumn("file", "string"), dg.TableColumn("sha256", "string")]),
        ),
        "outputs": dg.MetadataValue.json(sorted(f"{r.key}/{p}" for r in results for p in r.outputs)),
        "quarantine_files": dg.MetadataValue.json(sorted(f"{r.key}/{p}" for r in results for p in r.quarantine)),
        "data_root": dg.MetadataValue.path(str(layout.root)),
    }
