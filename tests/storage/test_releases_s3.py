"""Releases on object storage (PLANTDATA_RELEASES): `plantdata run` uploads them before the catalog names them, and
another machine, with its own data root and cache, reads the released rows through the catalog."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from catalog.labels import LabelsPublication, publish_labels, release_of
from catalog.releases import arrow_dataset, local_release
from catalog.remote import RemoteCatalog
from catalog.store import CatalogStore
from config.layout import Layout
from config.storage import open_storage
from pipelines.cli import main
from pipelines.run import run_all
from tests.conftest import HISTORIAN_SOURCES

DAY_1 = "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-30 10:00:10,T1,2\n"
DAY_2 = "timestamp,tag,value\n2024-03-31 10:00:00,T1,3\n"


@pytest.fixture
def on_s3(bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The catalog and the releases on the bucket; the publisher's cache of its own. The releases' URL."""
    monkeypatch.setenv("PLANTDATA_CATALOG", f"s3://{bucket}/plant/catalog")
    monkeypatch.setenv("PLANTDATA_RELEASES", f"s3://{bucket}/plant/releases")
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / "publisher-cache"))
    return f"s3://{bucket}/plant/releases"


@pytest.fixture
def first_run(on_s3: str, write: Callable[..., Path], layout: Layout) -> Path:
    """The sources file, after a run published its first day as hist v1; its run must succeed."""
    write("hist/1.csv", DAY_1)
    sources = write("sources.yaml", HISTORIAN_SOURCES)
    assert all(o.success for o in run_all(sources, layout.root))
    return sources


def _other_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Layout:
    """Another data root and cache: nothing of the publisher's PLANTDATA_HOME is visible."""
    monkeypatch.setenv("PLANTDATA_HOME", str(tmp_path / f"{name}-home"))
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / f"{name}-cache"))
    return Layout(tmp_path / f"{name}-home")


def _values(folder: Path) -> list[float]:
    return sorted(pq.read_table(sorted(folder.rglob("*.parquet"))).column("value").to_pylist())


def test_a_run_uploads_its_release_and_another_machine_reads_it_through_the_catalog(
    on_s3: str, first_run: Path, layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not (layout.root / "releases").exists(), "nothing of the release is written under the data root"
    released = open_storage(on_s3).walk("hist/v1")
    assert released and all(name.startswith("day=2024-03-30/") for name in released), released

    hidden = layout.root.rename(tmp_path / "publisher-home-away")  # the reader cannot see the publisher's root
    reader = _other_machine(tmp_path, monkeypatch, "reader")
    shown = CliRunner().invoke(main, ["catalog", "show", "hist", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["location"] == f"{on_s3}/hist/v1", "the catalog names the release by its URL"
    version, folder = release_of(CatalogStore.of(reader), "hist")
    assert version == 1 and folder.is_relative_to(tmp_path / "reader-cache"), folder
    assert _values(folder) == [1.0, 2.0]
    assert release_of(CatalogStore.of(reader), "hist")[1] == folder, "downloaded once, then read from the cache"
    table = arrow_dataset(f"{on_s3}/hist/v1").to_table()  # or read in place, through pyarrow's S3 filesystem
    assert sorted(table.column("value").to_pylist()) == [1.0, 2.0]
    assert set(table.column("day").to_pylist()) == {"2024-03-30"}
    hidden.rename(layout.root)


def test_a_publication_that_fails_after_uploading_leaves_the_catalog_naming_the_previous_version(
    on_s3: str,
    first_run: Path,
    write: Callable[..., Path],
    layout: Layout,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sources = first_run
    write("hist/2.csv", DAY_2)

    def lost(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the network went down between the upload and the pointer's move")

    with monkeypatch.context() as fault:
        fault.setattr(RemoteCatalog, "publish", lost)
        assert not all(o.success for o in run_all(sources, layout.root))
    storage = open_storage(on_s3)
    assert storage.walk("hist/v2"), "the release was uploaded before the publication failed"
    assert open_storage(f"{on_s3.rsplit('/', 1)[0]}/catalog").read_bytes("CURRENT") == b"catalog-1.duckdb\n"
    with CatalogStore.of(layout).reader() as con:
        assert con.execute("SELECT version, location FROM versions").fetchall() == [(1, f"{on_s3}/hist/v1")]
    reader = _other_machine(tmp_path, monkeypatch, "reader")
    assert _values(release_of(CatalogStore.of(reader), "hist")[1]) == [1.0, 2.0], "readers see version 1 only"

    monkeypatch.setenv("PLANTDATA_HOME", str(layout.root))
    monkeypatch.setenv("PLANTDATA_CACHE", str(tmp_path / "publisher-cache"))
    assert all(o.success for o in run_all(sources, layout.root)), "the next publication replaces the leftovers"
    reader = _other_machine(tmp_path, monkeypatch, "second-reader")
    version, folder = release_of(CatalogStore.of(reader), "hist")
    assert version == 2 and _values(folder) == [1.0, 2.0, 3.0]
    assert sorted({name.split("/")[0] for name in storage.walk("hist/v2")}) == ["day=2024-03-30", "day=2024-03-31"]


def test_a_local_release_is_read_where_it_is(
    write: Callable[..., Path], layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANTDATA_RELEASES", raising=False)
    monkeypatch.delenv("PLANTDATA_CATALOG", raising=False)
    write("hist/1.csv", DAY_1)
    assert all(o.success for o in run_all(write("sources.yaml", HISTORIAN_SOURCES), layout.root))
    version, folder = release_of(CatalogStore.of(layout), "hist")
    assert (version, folder) == (1, layout.releases("hist") / "v1")
    assert local_release(str(folder)) == folder
    assert _values(folder) == [1.0, 2.0]


def test_expert_labels_are_released_on_object_storage_too(
    on_s3: str, first_run: Path, layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = pa.table({"task": [1, 2], "label": ["bearing", "seal"]})
    progress = {"tasks": 2, "annotated_tasks": 2, "annotators": 2, "alpha": 0.8}
    publication = LabelsPublication("labels_faults", "faults", "test labels", "hist", 1, table, progress)
    published = publish_labels(CatalogStore.of(layout), layout, publication, run_id="test")
    assert (published.version, published.new) == (1, True)
    assert open_storage(on_s3).walk("labels_faults/v1") == ["labels.parquet"]
    reader = _other_machine(tmp_path, monkeypatch, "reader")
    version, folder = release_of(CatalogStore.of(reader), "labels_faults")
    assert version == 1 and pq.read_table(folder / "labels.parquet").equals(table)
