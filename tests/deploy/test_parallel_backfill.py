"""Issue 14 item 3: partition backfills in parallel through Dagster's executors, publishing the same bytes as a
local, in-process run over the same inputs (what "the same" covers: tests/deploy/plant.py `published_files`).

- the multiprocess executor, `max_concurrent: 2` (pipelines/deploy/local/multiprocess.yaml): each partition is
  standardised in a child process of its own;
- dagster-celery with Redis on loopback and two worker processes sharing a Postgres instance
  (pipelines/deploy/celery/): the partitions' steps run on the workers, and both workers run some; and a run
  submitted to that instance (as the UI or a sensor would) goes through its CeleryRunLauncher onto a worker.
The local run is made once for both, over exports outside every data root (a file's path is part of its
identity: the same inputs are the same files), with the same pseudonym key as the spread runs (each data root
would draw its own, and releases carry pseudonyms)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner
from dagster._core.run_coordinator import DefaultRunCoordinator

from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.location import job_code_origin, remote_job_origin
from pipelines.run import instance_for
from tests.conftest import REPO
from tests.deploy.plant import LocalRun, postgres_home, published_files, published_objects
from tests.deploy.plant import local_run as run_locally
from tests.servers.celery import celery_workers, tasks_done_by
from tests.servers.postgres import Postgres

DEPLOY = REPO / "pipelines" / "deploy"
MULTIPROCESS = DEPLOY / "local" / "multiprocess.yaml"
CELERY = DEPLOY / "celery" / "celery.yaml"
CELERY_INSTANCE = DEPLOY / "celery" / "dagster.yaml"
SPREAD_JOB = "standardise_historian_partitions"
PSEUDONYM_KEY = secrets.token_hex(32)
INDEX_JOB = "index_historian"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> LocalRun:
    made = run_locally(tmp_path_factory.mktemp("backfill"), PSEUDONYM_KEY)
    assert any(p.startswith("gated/historian/") for p in made.published) and any(
        p.startswith("releases/") for p in made.published
    )
    return made


def _spread_env(root: Path, sources: Path, executor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PLANTDATA_HOME": str(root),
        "DAGSTER_HOME": str(root / "dagster"),
        "PLANTDATA_SOURCES": str(sources),
        "PLANTDATA_EXECUTOR": executor,
        "PLANTDATA_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }.items():
        monkeypatch.setenv(name, value)


def _partition_steps(instance: dg.DagsterInstance) -> tuple[dg.DagsterRun, dict[str, int]]:
    """The one run of the historian's per-partition job, and the process each of its partition steps started in."""
    [record] = instance.get_run_records(filters=dg.RunsFilter(job_name=SPREAD_JOB))
    run = record.dagster_run
    started = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_START).records
    events = [r.event_log_entry.dagster_event for r in started]
    steps = {
        e.step_key or "": e.pid or 0
        for e in events
        if e is not None and (e.step_key or "").startswith("standardise_historian_partition[")
    }
    return run, steps


def test_a_backfill_in_the_multiprocess_executor_publishes_the_in_process_bytes(
    local_run: LocalRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "spread"
    _spread_env(root, local_run.sources, "multiprocess", monkeypatch)
    ran = CliRunner().invoke(main, ["run", "--sources", str(local_run.sources), "--parallel", str(MULTIPROCESS)])
    assert ran.exit_code == 0, ran.output
    run, steps = _partition_steps(instance_for(root))
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert len(steps) == 2, steps  # the demo's historian day, in UTC, spans two days: one step per partition
    assert os.getpid() not in steps.values() and len(set(steps.values())) == 2, "each in a child process"
    assert published_files(root) == local_run.published


def test_a_backfill_over_two_celery_workers_publishes_a_local_runs_bytes(
    local_run: LocalRun, tmp_path: Path, postgres: Postgres, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "spread"
    postgres_home(root, postgres, monkeypatch, CELERY_INSTANCE)
    _spread_env(root, local_run.sources, "celery", monkeypatch)
    monkeypatch.setenv("PLANTDATA_CELERY_BROKER", f"{redis_url}/0")
    monkeypatch.setenv("PLANTDATA_CELERY_BACKEND", f"{redis_url}/1")
    with celery_workers(["w1", "w2"], CELERY, dict(os.environ), tmp_path) as workers:
        ran = CliRunner().invoke(main, ["run", "--sources", str(local_run.sources), "--parallel", str(CELERY)])
        assert ran.exit_code == 0, ran.output
        done = {w.name: w.tasks_done("execute_plan") for w in workers}
        instance = instance_for(root)
        launched = _launched_on_the_workers(instance, local_run.sources, root)
        assert launched.status == dg.DagsterRunStatus.SUCCESS, launched.status
        assert tasks_done_by(workers, "execute_job", 1) == 1, "the launched run ran on a worker"
    assert all(done.values()) and sum(done.values()) >= 5, f"steps each worker ran: {done}"  # 2 keys + 3 partitions
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    run, steps = _partition_steps(instance)
    assert run.status == dg.DagsterRunStatus.SUCCESS and len(steps) == 2
    assert published_files(root) == local_run.published


def test_a_celery_backfill_on_an_s3_data_root_with_a_cache_per_machine_publishes_a_local_runs_bytes(
    local_run: LocalRun,
    tmp_path: Path,
    postgres: Postgres,
    redis_url: str,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The deployment with nothing shared but the bucket, Postgres and Redis: the coordinator and each worker have
    a cache (working folder) of their own, as machines of their own would."""
    url = f"s3://{bucket}/home"
    instance_folder = tmp_path / "instance"
    postgres_home(instance_folder, postgres, monkeypatch, CELERY_INSTANCE)
    _spread_env(instance_folder, local_run.sources, "celery", monkeypatch)
    monkeypatch.setenv("PLANTDATA_HOME", url)  # DAGSTER_HOME stays the folder with the Postgres dagster.yaml
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / "coordinator"))
    monkeypatch.setenv("PLANTDATA_CELERY_BROKER", f"{redis_url}/0")
    monkeypatch.setenv("PLANTDATA_CELERY_BACKEND", f"{redis_url}/1")
    caches = {name: {"PLANTDATA_CACHE": str(tmp_path / name)} for name in ("w1", "w2")}
    with celery_workers(["w1", "w2"], CELERY, dict(os.environ), tmp_path, caches) as workers:
        ran = CliRunner().invoke(main, ["run", "--sources", str(local_run.sources), "--parallel", str(CELERY)])
        assert ran.exit_code == 0, ran.output
        done = {w.name: w.tasks_done("execute_plan") for w in workers}
    assert all(done.values()), f"steps each worker ran: {done}"
    run, steps = _partition_steps(instance_for(url))
    assert run.status == dg.DagsterRunStatus.SUCCESS and len(steps) == 2
    for name in ("w1", "w2"):
        assert any((tmp_path / name).rglob("*.parquet")), f"worker {name} worked in its own folder"
    assert not (tmp_path / "instance" / "standardised").exists(), "no layer under the Dagster home's folder"
    assert published_objects(url, tmp_path / "bucket") == local_run.published


def _launched_on_the_workers(instance: dg.DagsterInstance, sources: Path, root: Path) -> dg.DagsterRun:
    """Submit a run of the historian's indexing job as the UI or a sensor would (no process of ours runs it): the
    instance's coordinator hands it to the CeleryRunLauncher at once, and a worker runs it.

    (A run of a per-partition job built for the Celery executor cannot be launched this way: its coordinator
    would wait on the steps' Celery tasks from inside a Celery task, which Celery refuses: "Never call result.get()
    within a task!". `plantdata run --parallel` coordinates those runs from its own process.)"""
    assert type(instance.run_launcher).__name__ == "CeleryRunLauncher"
    assert isinstance(instance.run_coordinator, DefaultRunCoordinator)  # not queued for a daemon we do not run
    job = build_definitions(sources, root).resolve_job_def(INDEX_JOB)
    run = instance.create_run_for_job(
        job_def=job, remote_job_origin=remote_job_origin(INDEX_JOB), job_code_origin=job_code_origin(INDEX_JOB)
    )
    instance.submit_run(run.run_id, workspace=None)  # type: ignore[arg-type]  # the Celery launcher needs none
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        current = instance.get_run_by_id(run.run_id)
        if current is not None and current.is_finished:
            return current
        time.sleep(1)
    raise AssertionError(f"the launched run {run.run_id} did not finish within 300 s")
