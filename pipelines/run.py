"""Materialise every source's standardised asset, for all its partitions, through Dagster in-process."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assets.catalog import catalog_key
from assets.ingest import partitions_for
from config.layout import Layout
from config.sources import SourceConfig, load_sources
from ingest.runner import discover_source, ordered_sources
from pipelines.definitions import build_definitions
from pipelines.jobs import PUBLISH_JOB, job_name
from pipelines.partitions import add_missing_partitions
from pipelines.settings import prepare_dagster_home


@dataclass(frozen=True)
class SourceRun:
    source: str
    partitions: int
    success: bool
    run_id: str | None
    error: str | None


def instance_for(root: Path) -> dg.DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(root))
    return dg.DagsterInstance.get()


def run_all(
    sources_file: Path,
    root: Path,
    on_source: Callable[[SourceConfig, int], None] | None = None,
    log_level: str = "CRITICAL",
) -> list[SourceRun]:
    """Discover and ingest every source, registers first; a failing source does not stop the others."""
    sources = load_sources(sources_file)
    layout = Layout(root)
    definitions = build_definitions(sources_file, root)
    instance = instance_for(root)
    outcomes = []
    for source in ordered_sources(sources):
        discovery = discover_source(sources, source, layout)
        keys = discovery.partitions
        if on_source:
            on_source(source, len(keys))
        if not keys:
            outcomes.append(SourceRun(source.name, 0, True, None, "no files match the location"))
            continue
        add_missing_partitions(instance, source, keys)
        known = instance.get_dynamic_partitions(partitions_for(source).name or "")
        job = definitions.resolve_job_def(job_name(source))
        result = job.execute_in_process(
            instance=instance,
            tags={ASSET_PARTITION_RANGE_START_TAG: known[0], ASSET_PARTITION_RANGE_END_TAG: known[-1]},
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
        error = None
        if not result.success:
            error = _first_error(result)
        outcomes.append(SourceRun(source.name, len(known), result.success, result.run_id, error))
    published: list[str] = [o.source for o in outcomes if o.success and o.partitions]
    if published:
        catalog_keys = [catalog_key(name) for name in published if layout.gated(name).is_dir()]
        publish = definitions.resolve_job_def(PUBLISH_JOB)
        result = publish.execute_in_process(
            instance=instance,
            asset_selection=catalog_keys,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
        outcomes.append(
            SourceRun(
                "catalog",
                len(catalog_keys),
                result.success,
                result.run_id,
                None if result.success else _first_error(result),
            )
        )
    return outcomes


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    """The user-facing cause of a failed run: the error of its first failed step."""
    for event in result.get_step_failure_events():
        failure = event.step_failure_data.error
        if failure is not None:
            cause = failure
            while cause.cause is not None and cause.cls_name in {"DagsterExecutionStepExecutionError"}:
                cause = cause.cause
            return f"{cause.cls_name}: {cause.message.strip()}"
    return "the run failed; see the Dagster run log"
