"""The quality gate on a data root on object storage: gated files, the gate's quarantine, the history and the GX
project (suites, validations, Data Docs) are objects in the store, and another machine, with a cache of its own,
reads the same verdicts, history and Data Docs, and judges on from the same GX project."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from catalog.web.service import CatalogService
from config.layout import Layout
from config.sources import load_sources
from pipelines.cli import main
from quality import gx_store, history
from quality.data_docs import site_folder
from quality.gate import evaluate_source, publish_gated
from quality.published import gate_quarantine_files, gated_files
from quality.report import source_report
from tests.conftest import ingest_all
from tests.quality.test_gate import REGISTER, SOURCES, _historian_csv
from tests.quality.test_gx_verdict import BETWEEN
from tests.quality.test_gx_verdict import SOURCES as TORQUE
from tests.quality.test_gx_verdict import _plant as _torque

DAY = "2024-03-30"
LENIENT = "{column: torque_nm, min_value: 0, max_value: 5000}"
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
        if p.is_file() and not p.name.startswith(".") and "plantdata-gate" not in p.name
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
    page = CatalogService(second).data_docs("hist")  # the web catalog's link, served from `site`
    assert page is not None and (site / page).is_file() and page.startswith("validations/hist/")


def test_another_machine_lists_the_suites_from_the_store(
    bucket: str, plant: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _machine(bucket, tmp_path, "cacheA")
    ingest_all(plant, first)
    _as_ingest_left_it(first)
    evaluate_source(load_sources(plant).get("hist"), [DAY], first, "run-1")
    monkeypatch.setenv("PLANTDATA_HOME", f"s3://{bucket}/home")
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / "cacheB"))
    listed = CliRunner().invoke(main, ["quality", "suites", "--json"])
    assert listed.exit_code == 0, listed.output
    suites = json.loads(listed.output)
    assert sorted(s["suite"] for s in suites) == ["hist.facts", "hist.flags", "hist.rows"]
    for suite in suites:
        file = Path(suite["file"])
        assert file.is_relative_to(tmp_path / "cacheB"), file
        assert file.read_bytes() == (first.gx() / "expectations" / "hist" / file.name).read_bytes()


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
    assert gx_store.lock_name(second) in first.store.walk(""), "taken on the store, shared by every machine"


def test_a_partition_the_gate_holds_back_leaves_the_store(
    bucket: str, write: Callable[..., Path], tmp_path: Path
) -> None:
    first = _machine(bucket, tmp_path, "cacheA")
    lenient = load_sources(_torque(write, first, "ExpectColumnValuesToBeBetween", LENIENT)).get("torque")
    _as_ingest_left_it(first)
    days = ["2024-03-30", "2024-03-31"]
    evaluate_source(lenient, days, first, "run-1")
    assert [p.key for p in publish_gated(lenient, days, first).published] == days
    second = _machine(bucket, tmp_path, "cacheB")
    assert [f.parent.name for f in gated_files(second, "torque")] == [f"day={d}" for d in days]

    strict = load_sources(write("sources.yaml", TORQUE.format(kind="ExpectColumnValuesToBeBetween", kwargs=BETWEEN)))
    evaluate_source(strict.get("torque"), days, first, "run-2")
    assert list(publish_gated(strict.get("torque"), days, first).blocked) == ["2024-03-31"]
    assert {n.split("/")[0] for n in first.store.walk("gated/torque")} == {"day=2024-03-30"}, "its record too"
    assert [f.parent.name for f in gated_files(second, "torque")] == ["day=2024-03-30"]
    assert not (first.gated("torque") / "day=2024-03-31").exists(), "nor in the publisher's cache"
