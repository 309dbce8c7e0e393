"""One ingestion job per source (materialise its standardised asset and run its checks), one indexing job per source
(read new export files once to learn the partitions they feed), the publication job, and one labels job per
annotation project."""

import re
from collections.abc import Iterator

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from annotation.projects import ProjectSpec
from assets.annotation import labels_key
from assets.gated import gated_key
from assets.ingest import partition_metadata, source_pool, standardised_key
from assets.resources import PlantdataResource
from config.sources import SourceConfig, SourcesFile
from ingest.runner import discover_source, ingest_partitions
from pipelines.parallel import partition_keys_op, partitions_executor, partitions_job_name
from pipelines.partitions import add_missing_partitions


def job_name(source: SourceConfig) -> str:
    return f"ingest_{source.name}"


def build_ingest_job(source: SourceConfig) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=job_name(source),
        selection=dg.AssetSelection.assets(standardised_key(source.name), gated_key(source.name)),
        description=f"Standardise the {source.name} exports ({source.kind.value}) into canonical Parquet, check "
        "them against the quality suite and publish what passes.",
    )


def index_job_name(source: SourceConfig) -> str:
    return f"index_{source.name}"


def build_index_job(sources: SourcesFile, source: SourceConfig) -> dg.JobDefinition:
    """Index the source's new or changed files (the sensor never reads a file on its tick: it asks for this run) and
    register the partitions they feed; the sensor's next tick requests their ingestion."""

    @dg.op(name=f"index_{source.name}_files", pool=source_pool(source))
    def index_files(context: dg.OpExecutionContext, plantdata: PlantdataResource) -> None:
        discovery = discover_source(sources, source, plantdata.layout())
        added = add_missing_partitions(context.instance, source, discovery.partitions)
        context.log.info(f"{source.name}: {len(discovery.files)} file(s) indexed, {len(added)} new partition(s)")

    @dg.job(name=index_job_name(source), description=f"Read new or changed {source.name} exports once to index them.")
    def index() -> None:
        index_files()

    return index


def build_partitions_job(sources: SourcesFile, source: SourceConfig) -> dg.JobDefinition:
    """Standardise the partitions named in the run config, one step each, side by side (pipelines/parallel.py says
    why that is safe and why the gate is not part of it). The steps take no pool: the executor's `max_concurrent`,
    or the Celery workers' concurrency, caps how many run at once."""
    name = partitions_job_name(source)

    @dg.op(name=partition_keys_op(name), out=dg.DynamicOut(str), config_schema={"partitions": [str]})
    def partition_keys(context: dg.OpExecutionContext) -> Iterator[dg.DynamicOutput[str]]:
        for number, key in enumerate(context.op_config["partitions"]):
            # mapping keys allow only letters, digits and _: a file partition's name may hold anything else
            yield dg.DynamicOutput(key, mapping_key=f"{number}_{re.sub(r'[^A-Za-z0-9_]', '_', key)}")

    @dg.op(name=f"standardise_{source.name}_partition")
    def standardise_partition(context: dg.OpExecutionContext, plantdata: PlantdataResource, key: str) -> str:
        results = ingest_partitions(sources, source, [key], plantdata.layout(), context.run.run_id, context.log.info)
        for result in results:  # the same materialization, with the same counts, as the asset's for this partition
            context.log_event(
                dg.AssetMaterialization(
                    standardised_key(source.name), partition=result.key, metadata=partition_metadata(result)
                )
            )
        return key

    @dg.job(
        name=name,
        executor_def=partitions_executor(),
        description=f"Standardise {source.name} partitions side by side (plantdata run --parallel); the gate "
        "follows in the source's ingest job, over them all.",
    )
    def standardise_partitions() -> None:
        partition_keys().map(standardise_partition)

    return standardise_partitions


PUBLISH_JOB = "publish_catalog"


def build_publish_job() -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=PUBLISH_JOB,
        selection=dg.AssetSelection.groups("catalog"),
        description="Publish every gated source into the DuckDB catalog (a new version only when its content changed).",
    )


def build_labels_job(spec: ProjectSpec) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=f"labels_{spec.name}",
        selection=dg.AssetSelection.assets(labels_key(spec.name)),
        description=f"Pull the annotations of Label Studio project {spec.name} and publish labels_{spec.name}.",
    )


TASK_DATASETS_JOB = "build_task_datasets"


def build_task_datasets_job() -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=TASK_DATASETS_JOB,
        selection=dg.AssetSelection.groups("task_datasets"),
        description="Build every task dataset from its spec (a new version only when its data or spec changed).",
    )
