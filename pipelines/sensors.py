"""Sensors that notice new or changed export files and request runs for the partitions they feed."""

import hashlib
import json

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from assets.catalog import catalog_key
from assets.gated import gated_key
from assets.ingest import partitions_for
from assets.resources import PlantdataResource
from config.sources import SourceConfig, SourcesFile
from ingest.runner import discover_source, retire_stale_partitions


def build_new_files_sensor(
    sources: SourcesFile, source: SourceConfig, job: UnresolvedAssetJobDefinition
) -> dg.SensorDefinition:
    partitions = partitions_for(source)

    @dg.sensor(
        name=f"{source.name}_new_files",
        job=job,
        minimum_interval_seconds=30,
        description=f"Looks for new or changed files at {source.location} and ingests the partitions they feed.",
    )
    def new_files(context: dg.SensorEvaluationContext, plantdata: PlantdataResource) -> dg.SensorResult | dg.SkipReason:
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        discovery = discover_source(sources, source, plantdata.layout())
        changed = [f for f in discovery.files if seen.get(f.uri) != f.sha256]
        retired = retire_stale_partitions(plantdata.layout(), discovery)
        if not changed:
            if retired:
                return dg.SensorResult(dynamic_partitions_requests=[partitions.build_delete_request(retired)])
            return dg.SkipReason(f"no new or changed files among {len(discovery.files)}")
        keys = sorted({key for f in changed for key in f.partitions})
        known = set(context.instance.get_dynamic_partitions(partitions.name or ""))
        new_keys = [k for k in keys if k not in known]
        requests = [
            dg.RunRequest(partition_key=key, run_key=f"{source.name}:{key}:{_files_digest(discovery.files_for(key))}")
            for key in keys
        ]
        cursor = {f.uri: f.sha256 for f in discovery.files}
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[
                *([partitions.build_add_request(new_keys)] if new_keys else []),
                *([partitions.build_delete_request(retired)] if retired else []),
            ],
            cursor=json.dumps(cursor, sort_keys=True),
        )

    return new_files


def build_publish_after_gate_sensor(
    source: SourceConfig, publish_job: UnresolvedAssetJobDefinition
) -> dg.SensorDefinition:
    @dg.asset_sensor(
        asset_key=gated_key(source.name),
        job=publish_job,
        name=f"{source.name}_publish_after_gate",
        minimum_interval_seconds=30,
        description=f"Publishes {source.name} into the catalog after each run that gated new partitions of it.",
    )
    def publish_after_gate(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry) -> dg.RunRequest:
        return dg.RunRequest(
            run_key=f"{source.name}:publish-after:{asset_event.run_id}",  # one publication per gating run
            asset_selection=[catalog_key(source.name)],
        )

    return publish_after_gate


def _files_digest(files: list) -> str:  # type: ignore[type-arg]
    """Same files with the same content give the same run key, so a restart never ingests twice."""
    text = "\n".join(sorted(f"{f.uri}={f.sha256}" for f in files))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
