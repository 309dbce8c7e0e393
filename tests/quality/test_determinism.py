"""Same inputs, same output: duplicates are resolved by a fixed rule and releases are the same bytes every run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from config.layout import Layout
from pipelines.cli import main
from pipelines.run import run_all
from tests.conftest import HISTORIAN_SOURCES


def _files(write: Callable[..., Path]) -> Path:
    """Two overlapping exports (as SKAB's): 200 readings each, 100 at the same times with other values."""
    first = ["timestamp,tag,value"] + [f"2024-03-30 10:{i // 60:02d}:{i % 60:02d},T{i % 3},{i}.5" for i in range(200)]
    second = ["timestamp,tag,value"] + [
        f"2024-03-30 10:{i // 60:02d}:{i % 60:02d},T{i % 3},{i + 1000}.25" for i in range(100, 300)
    ]
    first += ["2024-03-30 11:00:00,T1,5.0", "2024-03-30 11:00:00,T1,3.0"]  # a duplicate inside one file
    write("hist/a.csv", "\n".join(first) + "\n")
    write("hist/b.csv", "\n".join(second) + "\n")
    return write("sources.yaml", HISTORIAN_SOURCES)


def _published(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("gated", "releases", "quarantine")
        for p in sorted((root / folder).rglob("*.parquet"))
    }


def test_two_runs_publish_the_same_bytes_and_keep_the_first_file(
    write: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _files(write)
    roots = [tmp_path / "one", tmp_path / "two"]
    for root in roots:
        monkeypatch.setenv("PLANTDATA_HOME", str(root))
        assert all(o.success for o in run_all(path, root))
    assert _published(roots[0]) == _published(roots[1])
    gated = [str(p) for p in (roots[0] / "gated").rglob("*.parquet")]
    kept = duckdb.execute(
        "SELECT source_file, count(*) FROM read_parquet(?) WHERE ts >= TIMESTAMPTZ '2024-03-30 10:01:40+00' "
        "AND ts < TIMESTAMPTZ '2024-03-30 10:03:20+00' GROUP BY 1",
        [gated],
    ).fetchall()
    assert kept == [("a.csv", 100)], "of two copies of a reading, the one from the first file by name is kept"
    [(value,)] = duckdb.execute(
        "SELECT value FROM read_parquet(?) WHERE tag = 'T1' AND ts = TIMESTAMPTZ '2024-03-30 11:00:00+00'", [gated]
    ).fetchall()
    assert value == 3.0, "within one file, the smaller value (a fixed rule, whatever order the rows were read in)"


def test_a_rerun_with_nothing_new_publishes_no_new_version(write: Callable[..., Path], layout: Layout) -> None:
    path = _files(write)
    run_all(path, layout.root)
    before = _published(layout.root)
    run_all(path, layout.root)
    assert _published(layout.root) == before
    listed = json.loads(CliRunner().invoke(main, ["catalog", "list", "--json"]).output)
    assert [(d["name"], d["version"]) for d in listed] == [("hist", 1)]
