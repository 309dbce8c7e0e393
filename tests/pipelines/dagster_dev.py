"""Start `dagster dev` on the real workspace over a data root, on 127.0.0.1 and a free port, and ask its GraphQL API."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert "errors" not in answer, answer["errors"]
    return dict(answer["data"])


@contextlib.contextmanager
def dagster_dev(sources: Path, root: Path) -> Iterator[int]:
    """`dagster dev -w workspace.yaml` over `root` with `sources`; yields its port once its API answers."""
    port = free_port()
    env = {
        **os.environ,
        "PLANTDATA_SOURCES": str(sources),
        "PLANTDATA_HOME": str(root),
        "DAGSTER_HOME": str(root / "dagster"),
    }
    dagster = Path(sys.executable).parent / "dagster"
    process = subprocess.Popen(  # its own process group, so stopping it stops the webserver and daemon too
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, "dagster dev exited early"
            try:
                graphql(port, "{ version }")
                break
            except OSError:
                time.sleep(1)
        yield port
    finally:
        _stop_tree(process)


def _stop_tree(process: subprocess.Popen[bytes]) -> None:
    """Stop dagster dev and every process it started (code servers run in sessions of their own)."""
    tree = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGTERM)
    for child in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs([psutil.Process(process.pid), *tree], timeout=30)
    for straggler in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            straggler.kill()
    process.wait(timeout=10)
