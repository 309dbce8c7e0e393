"""The code location: the only place the Dagster Definitions are assembled (workspace.yaml loads it)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from annotation.projects import ProjectSpec, load_annotation
from assets.annotation import LabelStudioResource, build_labels_asset
from assets.catalog import build_catalog_asset, build_release_privacy_check
from assets.checks import build_rows_balance_check
from assets.gated import build_gated_asset
from assets.ingest import build_standardised_asset
from assets.quality import build_quality_checks
from assets.resources import PlantdataResource
from assets.task_datasets import build_task_dataset_asset
from config.errors import ConfigError
from config.sources import SourcesFile, load_sources
from pipelines.jobs import (
    build_index_job,
    build_ingest_job,
    build_labels_job,
    build_partitions_job,
    build_publish_job,
    build_task_datasets_job,
)
from pipelines.sensors import build_annotation_sensor, build_new_files_sensor, build_publish_after_gate_sensor
from pipelines.settings import home_url, sources_path
from task_datasets.spec import TaskSpec, load_spec


def build_definitions(sources_file: Path | None = None, data_root: str | Path | None = None) -> dg.Definitions:
    sources = load_sources(sources_file or sources_path())
    assets: list[dg.AssetsDefinition] = []
    checks: list[dg.AssetChecksDefinition] = []
    publish = build_publish_job()
    jobs: list[dg.JobDefinition | UnresolvedAssetJobDefinition] = [publish]
    sensors = []
    for source in sources.sources:
        job, index_job = build_ingest_job(source), build_index_job(sources, source)
        assets += [
            build_standardised_asset(sources, source),
            build_gated_asset(source),
            build_catalog_asset(sources, source),
        ]
        checks += [
            build_rows_balance_check(sources, source),
            build_quality_checks(source),
            build_release_privacy_check(sources, source),
        ]
        jobs += [job, index_job, build_partitions_job(sources, source)]
        sensors += [
            build_new_files_sensor(sources, source, job, index_job),
            build_publish_after_gate_sensor(source, publish),
        ]
    for spec in annotation_projects(sources):
        labels_job = build_labels_job(spec)
        assets.append(build_labels_asset(sources, spec))
        jobs.append(labels_job)
        sensors.append(build_annotation_sensor(spec, labels_job))
    tasks = task_dataset_specs(sources)
    assets += [build_task_dataset_asset(path, task) for path, task in tasks]
    if tasks:
        jobs.append(build_task_datasets_job())
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=jobs,
        sensors=sensors,
        resources={
            "plantdata": PlantdataResource(home=str(data_root or home_url())),
            "label_studio": LabelStudioResource(),
        },
    )


def annotation_projects(sources: SourcesFile) -> list[ProjectSpec]:
    """The projects of the sources file's annotation file, each naming datasets that are sources of it."""
    if sources.annotation is None:
        return []
    annotation = load_annotation(sources.resolve(sources.annotation))
    known = {source.name for source in sources.sources}
    for spec in annotation.projects:
        for role, dataset in (("dataset", spec.dataset), ("alarms", spec.alarms), ("work_orders", spec.work_orders)):
            if dataset is not None and dataset not in known:
                raise ConfigError(
                    str(annotation.path),
                    f"projects[{spec.name}].{role}",
                    f"{dataset!r} is not a source of {sources.path}",
                    f"name one of {sorted(known)}",
                )
    return annotation.projects


def task_dataset_specs(sources: SourcesFile) -> list[tuple[Path, TaskSpec]]:
    """The task-dataset specs shipped beside the sources file (`datasets/*.yaml`), each reading only sources of it
    and label projects of its annotation file."""
    folder = sources.path.parent / "datasets"
    projects = {spec.name for spec in annotation_projects(sources)}
    known = {source.name for source in sources.sources} | {f"labels_{p}" for p in projects}
    found = []
    for path in sorted(folder.glob("*.yaml")):
        spec = load_spec(path)
        for key, ref in spec.sources.items():
            if ref.dataset not in known:
                raise ConfigError(
                    str(path), f"sources.{key}.dataset", f"{ref.dataset!r} is not a source of {sources.path}",
                    f"name one of {sorted(known)}",
                )  # fmt: skip
        consensus = spec.labels.expert_consensus if spec.labels else None
        if consensus is not None and consensus.project not in projects:
            raise ConfigError(
                str(path), "labels.expert_consensus.project", f"{consensus.project!r} is not an annotation project",
                f"name one of {sorted(projects)}",
            )  # fmt: skip
        found.append((path, spec))
    return found


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
