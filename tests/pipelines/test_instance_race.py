"""Runs that start together on a fresh data root both open Dagster's instance: its tables are created once."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

from pipelines.run import instance_for


def _open(root: str, barrier: Barrier, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    barrier.wait()
    try:
        instance = instance_for(Path(root))
        instance.get_runs(limit=1)
        results.put("ok")
    except Exception as error:  # the test reports what went wrong in the child
        results.put(repr(error))


def test_first_runs_side_by_side_open_the_instance_without_a_race(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    for trial in range(2):
        root = tmp_path / f"root-{trial}"
        barrier, results = context.Barrier(4), context.Queue()
        workers = [context.Process(target=_open, args=(str(root), barrier, results)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert sorted(results.get(timeout=10) for _ in workers) == ["ok"] * 4
