"""Runs side by side on one data root: of the same partition, and of different partitions of one source."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from config.layout import Layout
from config.sources import load_sources
from ingest.runner import discover_source
from ingest.verify import recount
from pipelines.cli import main
from pipelines.partitions import add_missing_partitions
from pipelines.run import instance_for, run_all
from tests.conftest import HISTORIAN_SOURCES, REPO

DAYS = ("2024-03-29", "2024-03-30", "2024-03-31")


def _plant(write: Callable[..., Path]) -> Path:
    for day in DAYS:
        rows = [f"{day} 10:{i // 60:02d}:{i % 60:02d},T{i % 4},{i}.5" for i in range(2000)]
        write(f"hist/{day}.csv", "timestamp,tag,value\n" + "\n".join(rows) + "\n")
    return write("sources.yaml", HISTORIAN_SOURCES)


def _gated(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "gated").rglob("*.parquet"))
    }


def _balanced(path: Path, layout: Layout) -> bool:
    sources = load_sources(path)
    source = sources.get("hist")
    files = discover_source(sources, source, layout).files
    return all(recount(source, files, day, layout).ok for day in DAYS)


def _in_parallel(commands: list[list[str]], root: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "PLANTDATA_HOME": str(root), "DAGSTER_HOME": str(root / "dagster")}
    started = [
        subprocess.Popen(c, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    done = []
    for process in started:
        out, err = process.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def test_two_runs_of_the_same_partitions_side_by_side(write: Callable[..., Path], tmp_path: Path) -> None:
    path = _plant(write)
    solo, shared = tmp_path / "solo", tmp_path / "shared"
    run_all(path, solo)
    plantdata = str(Path(sys.executable).parent / "plantdata")
    for ran in _in_parallel([[plantdata, "run", "--sources", str(path)]] * 2, shared):
        assert ran.returncode == 0, ran.stderr[-2000:]
    assert _balanced(path, Layout(shared))
    assert _gated(shared) == _gated(solo), "the same bytes as one run alone"
    os.environ["PLANTDATA_HOME"] = str(shared)
    listed = json.loads(CliRunner().invoke(main, ["catalog", "list", "--json"]).output)
    assert [(d["name"], d["version"]) for d in listed] == [("hist", 1)], "one version, whoever published first"


def test_two_runs_of_different_partitions_of_one_source_side_by_side(
    write: Callable[..., Path], tmp_path: Path
) -> None:
    path = _plant(write)
    root = tmp_path / "root"
    layout = Layout(root)
    sources = load_sources(path)
    source = sources.get("hist")
    add_missing_partitions(instance_for(root), source, discover_source(sources, source, layout).partitions)
    job = (
        "import sys; from pathlib import Path; from pipelines.definitions import build_definitions; "
        "from pipelines.run import instance_for; root = Path(sys.argv[2]); "
        "result = build_definitions(Path(sys.argv[1]), root).resolve_job_def('ingest_hist').execute_in_process("
        "instance=instance_for(root), partition_key=sys.argv[3], raise_on_error=False); "
        "sys.exit(0 if result.success else 1)"
    )
    runs = _in_parallel([[sys.executable, "-c", job, str(path), str(root), day] for day in DAYS[:2]], root)
    for ran in runs:
        assert ran.returncode == 0, ran.stderr[-2000:]
    assert _balanced(path, layout) is False, "the third day was not run"
    assert sorted(p.name for p in layout.gated("hist").iterdir()) == [f"day={d}" for d in DAYS[:2]]
    run_all(path, root)
    assert _balanced(path, layout)
    run_all(path, tmp_path / "solo")
    assert _gated(root) == _gated(tmp_path / "solo"), "the same bytes as one run alone"
