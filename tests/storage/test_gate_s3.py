"""The quality gate on a data root on object storage: gated files, the gate's quarantine, the history and the GX
project (suites, validations, Data Docs) are objects in the store, and another machine, with a cache of its own,
reads the same verdicts, history and Data Docs, and judges on from the same GX project."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import duckdb
import pytest

from config.layout import Layout
from config.sources import load_sources
from quality import gx_store, history
from quality.data_docs import site_folder
from quality.gate import evaluate_source, publish_gated
from quality.published import gate_quarantine_files, gated_files
from quality.report import source_report
from tests.conftest import ingest_all
from tests.quality.test_gate import REGISTER, SOURCES, _historian_csv

DAY = "2024-03-30"
PUBLISHED = ("standardised", "quarantine", "manifests", "gated", "quality", "gx")


def _machine(bucket: str, tmp_path: Path, cache: str) -> Layout:
    return Layout.at(f"s3://{bucket}/home", {**os.environ, "PLANTDATA_CACHE": str(tmp_path / cache)})


def _as_ingest_left_it(layout: Layout) -> None:
    """Put in the store what the standardiser wrote in this machine's working folder and the store lacks (nothing,
    once the standardiser publishes through the layout itself)."""
    for folder in ("standardised", "quarantine", "manifests"):
        for path in sorted((layout.root / folder).rglob("*")):
            if path.is_file() and not path.name.startswith(".") and not path.name.startswith("gate-"):
                layout.store.upload(path, layout.name(path), create_only=True)


def _with_manifests(layout: Layout) -> None:
    """Give a machine the manifests in its working folder, for as long as they are read from there."""
    for name in layout.store.walk("manifests"):
        target = layout.root / "manifests" / name
        if not target.exists():
            layout.store.download(f"manifests/{name}", target)


@pytest.fixture
def plant(write: Callable[..., Path]) -> Path:
    write("reg.csv", REGISTER)
    write("hist/h.csv", _historian_csv())
    return write("sources.yaml", SOURCES)


def _rows(files: list[Path]) -> list[tuple[object, ...]]:
    return duckdb.execute("SELECT * FROM read_parquet(?)", [[str(f) for f in files]]).fetchall()


def test_the_gate_publishes_to_the_store_and_another_machine_reads_the_same(
    bucket: str, plant: Path, tmp_path: Path
) -> None:
    first = _machine(bucket, tmp_path, "cacheA")
    ingest_all(plant, first)
    _as_ingest_left_it(first)
    source = load_sources(plant).get("hist")
    [judged] = evaluate_source(source, [DAY], first, "run-1")
    [gated] = publish_gated(source, [DAY], first).published
    assert gated.rows_quarantined == 2

    stored = set(first.store.walk(""))
    [gated_name] = [n for n in stored if n.startswith(f"gated/hist/day={DAY}/part-")]
    assert first.name(Path(gated.path)) == gated_name
    assert [n for n in stored if n.startswith(f"quarantine/hist/day={DAY}/gate-")], "the gate's quarantine"
    evaluation = history.path_for(first, judged)
    assert {first.name(evaluation), first.name(evaluation.with_suffix(".flags.parquet"))} <= stored
    for page in ("index.html", "static/vendor"):
        assert any(n.startswith(f"gx/uncommitted/data_docs/local_site/{page}") for n in stored), page
    assert {"gx/expectations/hist/rows.json", "gx/great_expectations.yml"} <= stored
    assert any(n.startswith("gx/uncommitted/validations/hist/rows/") for n in stored)
    kept = [
        first.name(p)
        for folder in PUBLISHED
        for p in (first.root / folder).rglob("*")
        if p.is_file() and not p.name.startswith(".") and "plantdata-gate.duckdb" not in p.name
    ]
    assert kept and not [n for n in kept if n not in stored], "the working folder holds only copies of the store's"

    second = _machine(bucket, tmp_path, "cacheB")
    assert not (second.root / "quality").exists()
    assert [asdict(e) for e in history.latest(second, "hist")] == [asdict(e) for e in history.latest(first, "hist")]
    assert [asdict(e) for e in history.runs(second, "hist", DAY)] == [asdict(judged)]
    assert _rows(gated_files(second, "hist")) == _rows([Path(gated.path)])
    assert len(_rows(gate_quarantine_files(second, "hist", "day", DAY))) == 2
    report, theirs = source_report(first, "hist", "day"), source_report(second, "hist", "day")
    for key in ("scores", "overall", "grade", "history_runs"):
        assert report[key] == theirs[key], key
    assert [p["failed"] for p in report["partitions"]] == [p["failed"] for p in theirs["partitions"]]
    site, own = gx_store.site(second), site_folder(first.gx())
    assert site != own and (site / "index.html").read_bytes() == (own / "index.html").read_bytes()
    pages = sorted(p.relative_to(own).as_posix() for p in own.rglob("*") if p.is_file())
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) == pages


def test_a_second_machine_judges_on_from_the_published_gx_project(bucket: str, plant: Path, tmp_path: Path) -> None:
    first = _machine(bucket, tmp_path, "cacheA")
    ingest_all(plant, first)
    _as_ingest_left_it(first)
    source = load_sources(plant).get("hist")
    evaluate_source(source, [DAY], first, "run-1")
    [before] = publish_gated(source, [DAY], first).published

    second = _machine(bucket, tmp_path, "cacheB")
    _with_manifests(second)
    [again] = evaluate_source(source, [DAY], second, "run-2")
    [after] = publish_gated(source, [DAY], second).published
    assert Path(after.path).name == Path(before.path).name, "the same rows gated again: the same file"
    assert [e.run_id for e in history.runs(first, "hist", DAY)] == ["run-1", "run-2"]
    assert [e.grade for e in history.latest(first, "hist")] == [again.grade]

    index = (gx_store.site(first) / "index.html").read_text(encoding="utf-8")
    assert "dagster_run=run-1" in index and "dagster_run=run-2" in index, "one project: both runs in its Data Docs"
    validations = [n for n in first.store.walk("gx/uncommitted/validations") if n.startswith("hist/rows/")]
    assert len(validations) == 2
    assert not (second.gx() / gx_store.LOCK).exists(), "on object storage the project's turn is a lease"
