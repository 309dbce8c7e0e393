"""Runs that `plantdata run` executes in its own process, filed under the workspace's code location.

`JobDefinition.execute_in_process` creates runs with no origin: Dagster's UI lists a job's runs by the run's
repository label (`.dagster/repository`) and places runs on the Overview timeline by their repository origin,
so such runs showed under no job. `execute_in_location` creates the run the way the webserver would, with the
remote origin of `workspace.yaml`'s code location (and the Python origin a run launcher would use to rebuild
the job), then executes it here, in process, as before: no code server and no running `dagster dev` needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import execute_run
from dagster._core.execution.execution_result import ExecutionResult
from dagster._core.origin import JobPythonOrigin
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

# what workspace.yaml loads (tests/pipelines/test_location.py holds the two together)
LOCATION_NAME = "plantdata"
MODULE = "pipelines.definitions"
ATTRIBUTE = "defs"
REPOSITORY_NAME = SINGLETON_REPOSITORY_NAME  # a module's `Definitions` form one repository of this name
WORKING_DIRECTORY = Path(__file__).resolve().parent.parent  # workspace.yaml's `working_directory: .`


def location_origin() -> ManagedGrpcPythonEnvCodeLocationOrigin:
    """The code location as `dagster dev -w workspace.yaml` names it."""
    target = LoadableTargetOrigin(
        module_name=MODULE, attribute=ATTRIBUTE, working_directory=str(WORKING_DIRECTORY), python_file=None
    )
    return ManagedGrpcPythonEnvCodeLocationOrigin(target, LOCATION_NAME)


def remote_job_origin(job_name: str) -> RemoteJobOrigin:
    """Where the UI looks for a job's runs: the job of this name in the code location's repository."""
    repository = RemoteRepositoryOrigin(code_location_origin=location_origin(), repository_name=REPOSITORY_NAME)
    return RemoteJobOrigin(repository_origin=repository, job_name=job_name)


def job_code_origin(job_name: str) -> JobPythonOrigin:
    """How another process (a run launcher, a re-execution) would rebuild the job: the same module and attribute."""
    repository = ReconstructableRepository.for_module(MODULE, ATTRIBUTE, str(WORKING_DIRECTORY))
    return repository.get_reconstructable_job(job_name).get_python_origin()


def execute_in_location(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    tags: Mapping[str, str],
    run_config: Mapping[str, object],
    asset_selection: Sequence[dg.AssetKey] | None = None,
    asset_check_selection: Sequence[dg.AssetCheckKey] | None = None,
) -> ExecutionResult:
    """Run `job` here, in process (as `execute_in_process` does: in-process executor, in-memory IO manager), as a
    run of the code location's job of the same name. Errors end up in the result (`success` is False).

    With `asset_check_selection`, the run holds those checks (and only them) beside the selected assets."""
    selection = list(asset_selection or [])
    ephemeral = job.as_ephemeral_job(resource_defs={}, input_values={}, asset_selection=selection)
    checks = frozenset(asset_check_selection) if asset_check_selection is not None else None
    if checks is not None:
        ephemeral = ephemeral.get_subset(asset_selection=frozenset(selection), asset_check_selection=checks)
    run = instance.create_run_for_job(
        job_def=ephemeral,
        run_config=run_config,
        tags={**job.run_tags, **tags},
        asset_selection=frozenset(selection) or None,
        remote_job_origin=remote_job_origin(job.name),
        job_code_origin=job_code_origin(job.name),
    )
    return execute_run(InMemoryJob(ephemeral), run, instance, raise_on_error=False)
