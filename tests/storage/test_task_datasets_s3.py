"""Task datasets on a data root on object storage (moto on loopback): a build publishes its version into the store,
and another machine, with its own working folder and cache, lists, shows, diffs and reads the same version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from catalog.store import CatalogStore
from config.layout import Layout
from config.storage import open_storage
from pipelines.cli import main
from task_datasets import versions
from task_datasets.build import build
from task_datasets.readers import READERS, load
from task_datasets.views import diff, list_task_datasets, show
from tests.storage.task_sources import machine, publish_sources
from tests.task_datasets.releases import write_spec

NAME = "test_pumps"
VERSION_FILES = [
    "croissant.json",
    "data/test.parquet",
    "data/train.parquet",
    "data/validation.parquet",
    "datasheet.html",
    "datasheet.md",
    "manifest.json",
]


@pytest.fixture
def url(bucket: str) -> str:
    return f"s3://{bucket}/home"


@pytest.fixture
def builder(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    """Machine A, with the sources released on the store."""
    layout = machine(url, tmp_path, monkeypatch, "A")
    assert layout.remote and layout.root.is_relative_to(tmp_path / "cacheA")
    publish_sources(layout, tmp_path)
    return layout


def _published_files_are_in_the_store(layout: Layout) -> None:
    """Every file under the working folder's task datasets is an object of the store with the same bytes: the
    working folder is only a cache."""
    local = [p for p in layout.task_datasets().rglob("*") if p.is_file()]
    assert local, "the builder keeps what it published in its cache"
    for path in local:
        assert layout.store.read_bytes(layout.name(path)) == path.read_bytes(), path


def test_a_build_publishes_its_version_and_another_machine_lists_shows_and_reads_it(
    builder: Layout, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_spec(tmp_path)
    result = build(spec, builder)
    assert (result.name, result.version, result.new) == (NAME, 1, True)
    assert result.folder == builder.task_datasets() / NAME / "v1"
    store = open_storage(url)
    assert store.walk(f"datasets/{NAME}/v1") == VERSION_FILES, "the version's files are objects in the store"
    assert not [p for p in (builder.scratch() / "datasets").rglob("*") if p.is_file()], "nothing left staged"
    _published_files_are_in_the_store(builder)
    assert build(spec, builder).new is False, "unchanged inputs: the store's latest version is kept"
    second = build(write_spec(tmp_path, threshold=9.0, aggregates="[mean, max, std]"), builder)
    assert (second.version, second.new) == (2, True)
    _published_files_are_in_the_store(builder)
    seen = {n: (result.folder / n).read_bytes() for n in versions.files(builder, result.folder)}
    shown = show(builder, NAME, 1)
    loaded = {reader: load(reader, builder, NAME, "train", 1) for reader in ("pyarrow", "polars")}

    hidden = builder.root.rename(tmp_path / "builder-away")  # machine B cannot see A's working folder
    reader = machine(url, tmp_path, monkeypatch, "B")
    assert reader.root != builder.root and not reader.task_datasets().exists()
    assert versions.names(reader) == [NAME] and versions.version_numbers(reader, NAME) == [1, 2]
    assert versions.version_dir(reader, NAME) == reader.task_datasets() / NAME / "v2", "the latest, from the store"
    assert show(reader, NAME, 1) == {**shown, "folder": str(reader.task_datasets() / NAME / "v1")}
    folder = versions.local_version(reader, versions.version_dir(reader, NAME, 1))
    assert {n: (folder / n).read_bytes() for n in VERSION_FILES} == seen, "byte for byte what machine A built"
    assert load("pyarrow", reader, NAME, "train", 1).equals(loaded["pyarrow"])
    assert load("polars", reader, NAME, "train", 1).equals(loaded["polars"])
    for name in READERS:  # mlcroissant reads croissant.json and checks the files' sha256 against it
        assert load(name, reader, NAME, "test", 1) is not None
    changes = diff(reader, NAME, 1, 2)
    assert changes["schema"]["added"] == ["VIB__std"] and changes["rows"]["train"]["unchanged"] == 0

    [listed] = list_task_datasets(CatalogStore.of(reader))
    assert (listed["name"], listed["version"]) == (NAME, 2)
    assert listed["location"] == f"{url}/datasets/{NAME}/v2", "the catalog names the version by its URL"
    cli = CliRunner().invoke(main, ["dataset", "show", NAME, "--version", "1", "--json"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["content_sha256"] == shown["content_sha256"]
    assert json.loads(cli.output)["documents"] == ["croissant.json", "datasheet.html", "datasheet.md"]
    hidden.rename(builder.root)


def test_a_build_that_died_uploading_leaves_no_version_and_the_next_build_clears_it(
    builder: Layout, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_spec(tmp_path)
    store = open_storage(url)
    stray = tmp_path / "stray.parquet"
    pq.write_table(pa.table({"x": [1]}), stray)
    # a build that died after uploading a data file of v1, before its manifest: no version, and in the way of v1
    assert store.upload(stray, f"datasets/{NAME}/v1/data/train.parquet", create_only=True)
    assert versions.version_numbers(builder, NAME) == [] and versions.names(builder) == []
    shutil.rmtree(builder.task_datasets(), ignore_errors=True)
    result = build(spec, builder)
    assert (result.version, result.new) == (1, True)
    assert store.walk(f"datasets/{NAME}/v1") == VERSION_FILES
    assert store.read_bytes(f"datasets/{NAME}/v1/data/train.parquet") != stray.read_bytes()
    other = machine(url, tmp_path, monkeypatch, "B")
    assert versions.version_numbers(other, NAME) == [1]
