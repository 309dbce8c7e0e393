"""Sensors that notice new or changed export files (from the listing alone) and request runs for the partitions they
feed, and sensors that notice new expert annotations in Label Studio and request a labels pull."""

import hashlib
import json
import warnings
from typing import Any

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from annotation.launcher import is_healthy
from annotation.projects import ProjectSpec
from assets.annotation import LabelStudioResource
from assets.catalog import catalog_key
from assets.gated import gated_key
from assets.ingest import partitions_for
from assets.resources import PlantdataResource
from config.errors import PlantdataError
from config.sources import SourceConfig, SourcesFile
from ingest.files import SourceFile, discover
from ingest.index import IndexedFile, indexed
from ingest.runner import Discovery, retire_stale_partitions


def build_new_files_sensor(
    sources: SourcesFile,
    source: SourceConfig,
    job: UnresolvedAssetJobDefinition,
    index_job: dg.JobDefinition,
) -> dg.SensorDefinition:
    """A tick lists the source's files and decides from their stamps (size, mtime, ETag) alone, never opening one:
    changed files the index already knows get runs for the partitions they feed; changed files it does not know yet
    get one run of the indexing job, after which the next tick requests their partitions."""
    with warnings.catch_warnings():  # a sensor of two jobs: Dagster passes its beta `owners` itself; noise to users
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _new_files_sensor(sources, source, job, index_job)


def _new_files_sensor(
    sources: SourcesFile,
    source: SourceConfig,
    job: UnresolvedAssetJobDefinition,
    index_job: dg.JobDefinition,
) -> dg.SensorDefinition:
    partitions = partitions_for(source)

    @dg.sensor(
        name=f"{source.name}_new_files",
        jobs=[job, index_job],
        minimum_interval_seconds=30,
        description=f"Looks for new or changed files at {source.location} and ingests the partitions they feed.",
    )
    def new_files(context: dg.SensorEvaluationContext, plantdata: PlantdataResource) -> dg.SensorResult | dg.SkipReason:
        layout = plantdata.layout()
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        listed = discover(sources.resolve_location(source))
        known = indexed(layout, source, listed)
        changed = [f for f in listed if seen.get(f.uri) != f.fingerprint]
        unindexed = [f for f in changed if f.fingerprint not in known]
        ready = [known[f.fingerprint] for f in changed if f.fingerprint in known]
        retired: list[str] = []
        if len(known) == len(listed):  # every current file is indexed: partitions no file feeds can be retired
            retired = retire_stale_partitions(layout, Discovery(source, [known[f.fingerprint] for f in listed]))
        deletions = [partitions.build_delete_request(retired)] if retired else []
        if not changed:
            if deletions:
                return dg.SensorResult(dynamic_partitions_requests=deletions)
            return dg.SkipReason(f"no new or changed files among {len(listed)}")
        keys = sorted({key for f in ready for key in f.partitions})
        registered = set(context.instance.get_dynamic_partitions(partitions.name or ""))
        new_keys = [k for k in keys if k not in registered]
        entries = Discovery(source, list(known.values()))
        requests = [
            dg.RunRequest(
                job_name=job.name,
                partition_key=key,
                run_key=f"{source.name}:{key}:{_files_digest(entries.files_for(key))}",
            )
            for key in keys
        ]
        cursor = {**seen, **{f.uri: f.fingerprint for f in ready}}  # unindexed files stay changed until indexed
        if unindexed:
            run_key = f"{source.name}:index:{_stamps_digest(unindexed)}"
            requests.append(dg.RunRequest(job_name=index_job.name, run_key=run_key))
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[*([partitions.build_add_request(new_keys)] if new_keys else []), *deletions],
            cursor=json.dumps({f.uri: cursor[f.uri] for f in listed if f.uri in cursor}, sort_keys=True),
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


def _files_digest(files: list[IndexedFile]) -> str:
    """Same files with the same content give the same run key, so a restart never ingests twice."""
    text = "\n".join(sorted(f"{f.uri}={f.sha256}" for f in files))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stamps_digest(files: list[SourceFile]) -> str:
    """The same file versions to index give the same run key: one indexing run per change, however many ticks."""
    return hashlib.sha256("\n".join(sorted(f.fingerprint for f in files)).encode()).hexdigest()[:16]


def build_annotation_sensor(spec: ProjectSpec, job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"labels_{spec.name}_updates",
        job=job,
        minimum_interval_seconds=60,
        description=f"Polls Label Studio for tasks of '{spec.title}' updated since the last pull and pulls them.",
    )
    def updates(
        context: dg.SensorEvaluationContext, plantdata: PlantdataResource, label_studio: LabelStudioResource
    ) -> dg.SensorResult | dg.SkipReason:
        layout = plantdata.layout()
        try:
            settings = label_studio.settings(layout.root)
        except PlantdataError as error:
            return dg.SkipReason(str(error))
        if not is_healthy(settings.url):
            return dg.SkipReason(f"Label Studio at {settings.url} does not answer; trying again at the next tick")
        from annotation.accounts import admin_client  # Label Studio's SDK: on the sensor's tick, not at load
        from annotation.loop import project_id_of

        client = admin_client(settings)
        try:
            project_id = project_id_of(client, spec)
        except PlantdataError as error:
            return dg.SkipReason(str(error))
        newest = _newest_update(client, project_id)
        if newest is None or newest == context.cursor:
            return dg.SkipReason(f"no task of {spec.name} updated since {context.cursor or 'ever'}")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"{spec.name}:{newest}")], cursor=newest)

    return updates


def _newest_update(client: object, project_id: int) -> str | None:
    """The update time of the project's most recently updated task (one task fetched, not the project)."""
    from label_studio_sdk import LabelStudio

    assert isinstance(client, LabelStudio)
    query = json.dumps({"ordering": ["-tasks:updated_at"]})
    task: Any
    for task in client.tasks.list(project=project_id, fields="task_only", query=query, page_size=1):
        return str(task.updated_at)
    return None
