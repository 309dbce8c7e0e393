"""`plantdata run` publishing into a catalog on object storage (PLANTDATA_CATALOG), read by the CLI of another
machine (a cache of its own)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.store import CatalogStore
from config.layout import Layout
from config.storage import open_storage
from pipelines.cli import main
from pipelines.run import run_all
from tests.conftest import HISTORIAN_SOURCES


def test_a_run_publishes_its_catalog_to_object_storage_and_another_machine_lists_it(
    bucket: str, write: Callable[..., Path], layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/plant/catalog"
    monkeypatch.setenv("PLANTDATA_CATALOG", url)
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / "publisher-cache"))
    write("hist/1.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-30 10:00:10,T1,2\n")
    sources = write("sources.yaml", HISTORIAN_SOURCES)
    assert all(o.success for o in run_all(sources, layout.root))
    assert not (layout.catalog() / "CURRENT").exists(), "nothing of the catalog is written locally"
    assert open_storage(url).read_bytes("CURRENT") == b"catalog-1.duckdb\n"
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / "reader-cache"))
    listed = CliRunner().invoke(main, ["catalog", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(row["name"], row["version"]) for row in json.loads(listed.output)] == [("hist", 1)]
    sql = CliRunner().invoke(main, ["catalog", "sql", "SELECT dataset, version FROM versions", "--json"])
    assert sql.exit_code == 0, sql.output
    assert json.loads(sql.output) == [{"dataset": "hist", "version": 1}], "catalog sql reads the downloaded snapshot"
    shown = CliRunner().invoke(main, ["catalog", "show", "hist", "--json"])
    assert shown.exit_code == 0, shown.output
    assert CatalogStore.of(layout).current() == CatalogStore.of(layout).folder / "catalog-1.duckdb"
    assert str(tmp_path / "reader-cache") in str(CatalogStore.of(layout).folder)
    assert all(o.success for o in run_all(sources, layout.root)), "a run with nothing new"
    assert open_storage(url).read_bytes("CURRENT") == b"catalog-1.duckdb\n", "publishes nothing again"
