"""`dagster dev` on the real workspace shows every asset with its partitions, its check and the sensors."""

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from config.layout import Layout
from pipelines.run import run_all
from tests.conftest import HISTORIAN_SOURCES, REPO

SOURCES = HISTORIAN_SOURCES
QUERY = """
{
  assetNodes { assetKey { path } partitionKeys assetChecksOrError { ... on AssetChecks { checks { name } } } }
  repositoriesOrError { ... on RepositoryConnection { nodes { sensors { name } jobs { name } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read())["data"])


@pytest.fixture
def dagster_dev(write: Callable[..., Path], layout: Layout) -> Iterator[int]:
    write("hist/1.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-31 10:00:00,T1,2\n")
    sources = write("sources.yaml", SOURCES)
    assert all(o.success for o in run_all(sources, layout.root))
    port = _free_port()
    env = {
        **os.environ,
        "PLANTDATA_SOURCES": str(sources),
        "PLANTDATA_HOME": str(layout.root),
        "DAGSTER_HOME": str(layout.root / "dagster"),
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
                _graphql(port, "{ version }")
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


def test_dagster_dev_shows_assets_partitions_checks_and_sensors(dagster_dev: int) -> None:
    data = _graphql(dagster_dev, QUERY)
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    assert set(nodes) == {"standardised/hist", "gated/hist", "catalog/hist"}
    assert nodes["standardised/hist"]["partitionKeys"] == ["2024-03-30", "2024-03-31"]
    assert nodes["gated/hist"]["partitionKeys"] == ["2024-03-30", "2024-03-31"]
    checks = {c["name"] for c in nodes["standardised/hist"]["assetChecksOrError"]["checks"]}
    assert {"rows_balance", "schema", "not_empty", "duplicate_reading", "stuck_signal", "gap_before"} <= checks
    repository = data["repositoriesOrError"]["nodes"][0]
    assert sorted(s["name"] for s in repository["sensors"]) == ["hist_new_files", "hist_publish_after_gate"]
    catalog_checks = {c["name"] for c in nodes["catalog/hist"]["assetChecksOrError"]["checks"]}
    assert catalog_checks == {"no_listed_personal_data"}
    assert {"ingest_hist", "publish_catalog"} <= {j["name"] for j in repository["jobs"]}
