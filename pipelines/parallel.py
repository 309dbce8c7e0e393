"""Partition backfills spread over processes or machines, through Dagster's own executors.

Why a source's partitions took turns (its pool of one), and which of it must stay:
- discovery and the index file: `plantdata run` discovers once, before any step; each step's own discovery then
  reads the index, finds nothing new, and rewrites the file whole through config/commit.py (same content);
- manifests, standardised and quarantine folders: per partition, each swapped in atomically by its step;
- staged scans (a CSV file typed once, feeding several days): each step takes its own days' pieces, all or nothing;
  the scan's quarantine is read before any piece moves, and the folder goes only with its last piece, so a step
  never loses what it reads (a piece gone sends the file back to a fresh scan, which writes the same rows);
- the gate is not per partition: its volume and level rules compare a partition with the others' manifests and
  quality history, and the GX project takes one turn per run. It keeps its pool of one and runs once, over the
  range, after every partition is standardised, as in a local run; that is what makes a spread backfill publish
  the same bytes as a local one.
So partitions are standardised side by side, one step per partition mapped over the keys, in the multiprocess
executor (`max_concurrent` caps it) or the Celery executor (one task per step on the workers); these steps take
no pool, so a second `plantdata run` of the same source must not run meanwhile. Each step is a process of its
own with its own DuckDB: `max_concurrent` steps take about that many times one step's memory.

The executor is chosen when the definitions are built (`PLANTDATA_EXECUTOR`: `multiprocess`, the default, or
`celery`): Celery workers rebuild the job to run its steps and must see the same one, so they get the same
environment (PLANTDATA_HOME, PLANTDATA_SOURCES, PLANTDATA_EXECUTOR, DAGSTER_HOME).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster._core.definitions.reconstruct import ReconstructableRepository

from config.errors import ConfigError
from config.sources import SourceConfig
from pipelines.location import ATTRIBUTE, MODULE, WORKING_DIRECTORY

EXECUTOR_ENV = "PLANTDATA_EXECUTOR"
EXECUTORS = ("multiprocess", "celery")


def partitions_executor() -> dg.ExecutorDefinition:
    """The executor of the per-partition standardising jobs, as `PLANTDATA_EXECUTOR` names it."""
    name = os.environ.get(EXECUTOR_ENV, "multiprocess")
    if name == "celery":
        from dagster_celery import celery_executor

        return celery_executor
    if name != "multiprocess":
        raise ConfigError(EXECUTOR_ENV, "", f"unknown executor {name!r}", f"set it to one of {list(EXECUTORS)}")
    return dg.multiprocess_executor


@dataclass(frozen=True)
class Parallel:
    """How `plantdata run --parallel FILE` spreads partitions: the executor and its run config (`execution:`)."""

    executor: str
    execution: Mapping[str, Any]


def load_parallel(path: Path) -> Parallel:
    """Read a parallel-run file (pipelines/deploy/local/multiprocess.yaml, pipelines/deploy/celery/celery.yaml)."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(
            str(path), "", f"cannot be read: {error}", "give a YAML file like pipelines/deploy/"
        ) from None
    executor = loaded.get("executor") if isinstance(loaded, dict) else None
    if executor not in EXECUTORS:
        raise ConfigError(str(path), "executor", f"is {executor!r}", f"set it to one of {list(EXECUTORS)}")
    execution = loaded.get("execution", {})
    if not isinstance(execution, dict) or not isinstance(execution.get("config", {}), dict):
        raise ConfigError(str(path), "execution", "is not `{config: {...}}`", "see pipelines/deploy/ for examples")
    return Parallel(executor, execution)


def standardise_spread(
    job_name: str,
    keys: list[str],
    instance: dg.DagsterInstance,
    parallel: Parallel,
    sources_file: Path,
    root: str | Path,
    run_config: Mapping[str, Any],
    tags: Mapping[str, str],
) -> dg.JobExecutionResult:
    """Standardise `keys` of one source, one step per partition, through the configured executor; this process
    waits for the run to end. Child processes and workers rebuild the job from the code location's module, so the
    environment names this data root, sources file and executor."""
    os.environ.update(
        {"PLANTDATA_HOME": str(root), "PLANTDATA_SOURCES": str(sources_file), EXECUTOR_ENV: parallel.executor}
    )
    repository = ReconstructableRepository.for_module(MODULE, ATTRIBUTE, str(WORKING_DIRECTORY))
    config = {
        **run_config,
        "execution": dict(parallel.execution),
        "ops": {partition_keys_op(job_name): {"config": {"partitions": keys}}},
    }
    return dg.execute_job(
        repository.get_reconstructable_job(job_name), instance, run_config=config, tags=dict(tags), raise_on_error=False
    )


def partitions_job_name(source: SourceConfig) -> str:
    return f"standardise_{source.name}_partitions"


def partition_keys_op(job_name: str) -> str:
    return f"{job_name}_keys"
