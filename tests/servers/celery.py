"""dagster-celery workers for a test: processes of their own (each a session and process group: dagster-celery
starts `celery`, which forks its pool), stopped with their whole group when the block ends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Worker:
    name: str
    log: Path

    def tasks_done(self, task: str) -> int:
        """How many tasks named `task` this worker finished (from its log: 'Task <name>[<id>] succeeded')."""
        pattern = rf"Task {re.escape(task)}\[[0-9a-f-]+\] succeeded"
        return len(re.findall(pattern, self.log.read_text(errors="replace")))


def tasks_done_by(workers: list[Worker], task: str, expected: int, seconds: float = 60) -> int:
    """How many tasks named `task` the workers finished, waiting up to `seconds` for `expected`: a run's status
    reaches the instance from inside its task, before the worker logs that the task succeeded."""
    deadline = time.monotonic() + seconds
    while (done := sum(w.tasks_done(task) for w in workers)) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return done


@contextmanager
def celery_workers(
    names: list[str],
    config_yaml: Path,
    env: Mapping[str, str],
    folder: Path,
    own: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[list[Worker]]:
    """Start one worker per name and wait until all say they are ready. Each runs one task at a time in its own
    process (`--pool=solo`): a run launched onto a worker may then start child processes (the multiprocess
    executor), which a prefork pool's daemonic children may not. `own` adds variables to one worker's environment
    (a cache of its own, as on a machine of its own)."""
    started: list[subprocess.Popen[bytes]] = []
    workers = [Worker(name, folder / f"{name}.log") for name in names]
    # dagster-celery runs a bare `celery`: the venv's bin must come first on PATH
    environment = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', os.environ.get('PATH', ''))}"}
    try:
        for worker in workers:
            command = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"]
            command += ["-y", str(config_yaml), "-n", worker.name, "-l", "INFO", "--", "--pool=solo"]
            with open(worker.log, "wb") as log:
                started.append(
                    subprocess.Popen(
                        command,
                        env={**environment, **(own or {}).get(worker.name, {})},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        _wait_ready(workers, started)
        yield workers
    finally:
        for process in started:
            _stop_group(process)


def _wait_ready(workers: list[Worker], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for worker, process in zip(workers, processes, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"worker {worker.name} exited: {worker.log.read_text(errors='replace')[-3000:]}")
        if all(" ready." in w.log.read_text(errors="replace") for w in workers):
            return
        time.sleep(0.5)
    logs = "\n".join(w.log.read_text(errors="replace")[-1500:] for w in workers)
    raise RuntimeError(f"the Celery workers were not ready within 180 s:\n{logs}")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with suppress(ProcessLookupError):  # the pool's children may outlive a slow warm shutdown: none may stay
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
