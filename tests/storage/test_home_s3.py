"""Issue 14 item 1: a data root on object storage (PLANTDATA_HOME=s3://...), end to end.

A `plantdata run` on one machine publishes every layer into the bucket (standardised, quarantine, gated, the
manifests and index, the gate's history, GX's project, releases and the catalog) with the bytes a run on a local
folder publishes over the same inputs; what stays on the machine is its working folder, whose published files are
only a cache of objects. Another machine, with a cache of its own, reads the same reports and catalog and finds
nothing new to do."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.layout import home_layout
from config.storage import open_storage
from pipelines.cli import main
from pipelines.run import run_all
from quality.gx_store import LOCAL_ONLY  # the gate's own DuckDB views, this run's scratch
from tests.deploy.plant import LocalRun, local_run, published_objects

PSEUDONYM_KEY = secrets.token_hex(32)  # one deployment: every machine (and the local run) shares the key
PUBLISHED = ("standardised", "quarantine", "gated", "manifests", "quality", "index", "releases", "gx", "datasets")


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> LocalRun:
    return local_run(tmp_path_factory.mktemp("home-s3"), PSEUDONYM_KEY)


def _machine(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    monkeypatch.setenv("PLANTDATA_CACHE", str(cache))
    monkeypatch.setenv("DAGSTER_HOME", str(cache / "dagster"))  # run_all points it into the working folder


def _cli(*args: str) -> object:
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_run_on_an_s3_data_root_publishes_every_layer_there_and_another_machine_reads_it(
    bucket: str, local: LocalRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/home"
    monkeypatch.setenv("PLANTDATA_HOME", url)
    monkeypatch.setenv("PLANTDATA_SOURCES", str(local.sources))
    monkeypatch.setenv("PLANTDATA_PSEUDONYM_KEY", PSEUDONYM_KEY)
    _machine(monkeypatch, tmp_path / "machine-a")
    outcomes = run_all(local.sources, url)
    assert all(o.success and not o.problems for o in outcomes), outcomes

    store = open_storage(url)
    objects = set(store.walk(""))
    missing = [
        layer for layer in PUBLISHED if layer != "datasets" and not any(o.startswith(f"{layer}/") for o in objects)
    ]
    assert missing == [], f"layers with no object in the bucket: {missing}"
    assert store.read_bytes("catalog/CURRENT").startswith(b"catalog-")

    assert published_objects(url, tmp_path / "bucket") == local.published, "a local run's bytes"

    working = home_layout().root
    assert working.is_relative_to(tmp_path / "machine-a")
    local_only = [
        p.relative_to(working).as_posix()
        for layer in PUBLISHED
        for p in (working / layer).rglob("*")
        if p.is_file()
        and not p.name.startswith(".")
        and p.relative_to(working).as_posix() not in objects
        and not p.relative_to(working).as_posix().startswith(tuple(f"gx/{name}" for name in LOCAL_ONLY))
    ]
    assert local_only == [], "every published file on this machine is a cached object, none is only here"

    report_a, catalog_a, status_a = _cli("quality", "report"), _cli("catalog", "list"), _cli("sources", "status")
    _machine(monkeypatch, tmp_path / "machine-b")
    assert not (tmp_path / "machine-b").exists() or not any((tmp_path / "machine-b").rglob("*.parquet"))
    assert _cli("quality", "report") == report_a, "another machine reads the gate's verdicts from the bucket"
    assert _cli("catalog", "list") == catalog_a
    assert _cli("sources", "status") == status_a
    pointer = store.read_bytes("catalog/CURRENT")
    again = run_all(local.sources, url)
    assert all(o.success and not o.problems for o in again), again
    assert store.read_bytes("catalog/CURRENT") == pointer, "another machine finds nothing new to publish"
    new = set(store.walk("")) - objects
    redone = [o for o in new if o.split("/")[0] in ("standardised", "quarantine", "gated", "manifests", "releases")]
    assert redone == [], "nothing standardised, gated or released again by the second machine"
