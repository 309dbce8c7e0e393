"""The storage interface on a local folder and on S3 (moto on loopback): the same behaviour through both."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog.releases import ReleaseRoot
from catalog.store import CatalogStore
from config.errors import StorageError
from config.layout import Layout, data_root, home_layout
from config.storage import LocalStorage, ObjectStorage, Storage, cache_root, open_storage


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return open_storage(tmp_path / "root")
    bucket: str = request.getfixturevalue("bucket")
    return open_storage(f"s3://{bucket}/plant/root")


def test_a_url_is_object_storage_and_a_folder_is_local(bucket: str, tmp_path: Path) -> None:
    s3 = open_storage(f"s3://{bucket}/a/b/")
    assert (
        isinstance(s3, ObjectStorage) and s3.root == f"s3://{bucket}/a/b" and s3.url("x/y") == f"s3://{bucket}/a/b/x/y"
    )
    assert s3.settings.endpoint is not None and s3.settings.endpoint.startswith("http://127.0.0.1:")
    assert isinstance(open_storage(tmp_path), LocalStorage)
    with pytest.raises(StorageError, match="only local folders and s3:// URLs"):
        open_storage("gs://bucket/x")


def test_settings_come_from_the_environment_as_aws_tools_read_them() -> None:
    storage = open_storage(
        "s3://plant/x",
        {"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_S3": "http://b", "AWS_DEFAULT_REGION": "eu-west-3"},
    )
    assert isinstance(storage, ObjectStorage)
    assert (storage.settings.endpoint, storage.settings.region) == ("http://b", "eu-west-3")
    assert cache_root({"PLANTDATA_CACHE": "/srv/cache"}) == Path("/srv/cache")


def test_bytes_commit_create_and_swap(storage: Storage) -> None:
    assert storage.read_tagged("state/CURRENT") is None
    with pytest.raises(FileNotFoundError):
        storage.read_bytes("state/CURRENT")
    first = storage.create("state/CURRENT", b"one")
    assert first is not None
    assert storage.create("state/CURRENT", b"two") is None, "create-if-absent refuses an existing object"
    found = storage.read_tagged("state/CURRENT")
    assert found is not None and (found.data, found.tag) == (b"one", first)
    second = storage.swap("state/CURRENT", b"two", first)
    assert second is not None and second != first
    assert storage.swap("state/CURRENT", b"three", first) is None, "a stale tag does not overwrite"
    assert storage.read_bytes("state/CURRENT") == b"two"
    assert storage.swap("state/missing", b"x", first) is None
    storage.commit_bytes("state/CURRENT", b"four")
    assert storage.read_bytes("state/CURRENT") == b"four"
    assert storage.list("state") == ["CURRENT"] or storage.list("state")[-1] == "CURRENT"
    storage.delete("state/CURRENT")
    storage.delete("state/CURRENT")
    assert storage.read_tagged("state/CURRENT") is None


def test_racing_creates_and_swaps_have_exactly_one_winner(storage: Storage) -> None:
    start = threading.Barrier(8)
    created: list[str | None] = [None] * 8
    swapped: list[str | None] = [None] * 8

    def race(i: int) -> None:
        start.wait(timeout=30)
        created[i] = storage.create("race/key", f"{i}".encode())
        start.wait(timeout=30)
        swapped[i] = storage.swap("race/key", f"s{i}".encode(), tag)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    tag = ""
    for thread in threads[1:]:
        thread.start()
    # the main thread is racer 0, and reads the winner's tag between the two rounds
    start.wait(timeout=30)
    created[0] = storage.create("race/key", b"0")
    found = storage.read_tagged("race/key")
    assert found is not None
    tag = found.tag
    start.wait(timeout=30)
    swapped[0] = storage.swap("race/key", b"s0", tag)
    for thread in threads[1:]:
        thread.join(timeout=60)
    assert sum(c is not None for c in created) == 1
    assert sum(s is not None for s in swapped) == 1


def test_files_up_and_down_and_listing(storage: Storage, tmp_path: Path) -> None:
    local = tmp_path / "snapshot.bin"
    local.write_bytes(b"x" * 100_000)
    assert storage.upload(local, "snaps/a.bin", create_only=True)
    assert not storage.upload(local, "snaps/a.bin", create_only=True), "create-only refuses an existing object"
    assert storage.upload(local, "snaps/b.bin")
    assert storage.list("snaps") == ["a.bin", "b.bin"]
    assert storage.list("nothing-here") == []
    storage.download("snaps/a.bin", tmp_path / "copy" / "a.bin")
    assert (tmp_path / "copy" / "a.bin").read_bytes() == local.read_bytes()
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["a.bin"], "no partial file left"
    with pytest.raises(FileNotFoundError):
        storage.download("snaps/missing.bin", tmp_path / "copy" / "missing.bin")


def test_duckdb_and_pyarrow_read_and_write_parquet_on_the_storage(storage: Storage) -> None:
    table = pa.table({"tag": ["T1", "T2", "T1"], "value": [1.0, 2.0, 3.0]})
    fs, base = storage.arrow()
    fs.create_dir(f"{base}/std/day=2024-03-30")
    pq.write_table(table, f"{base}/std/day=2024-03-30/part-0.parquet", filesystem=fs)
    con = duckdb.connect()
    storage.register(con)
    storage.register(con)  # twice is harmless
    glob = storage.url("std/*/*.parquet")
    rows = con.execute(
        "SELECT day::VARCHAR, sum(value) FROM read_parquet(?, hive_partitioning = true) GROUP BY day", [glob]
    ).fetchall()
    assert rows == [("2024-03-30", 6.0)]
    fs.create_dir(f"{base}/out")  # a local folder must exist; on S3 this does nothing
    con.execute(f"COPY (SELECT 42 AS answer) TO '{storage.url('out/answer.parquet')}' (FORMAT parquet)")
    assert pq.read_table(f"{base}/out/answer.parquet", filesystem=fs).to_pylist() == [{"answer": 42}]


@pytest.fixture(params=["local", "s3"])
def layout(request: pytest.FixtureRequest, tmp_path: Path) -> Layout:
    if request.param == "local":
        return Layout.at(tmp_path / "home")
    bucket: str = request.getfixturevalue("bucket")
    return Layout.at(f"s3://{bucket}/home", {**os.environ, "PLANTDATA_CACHE": str(tmp_path / "cache")})


def test_a_layout_publishes_fetches_lists_and_removes_through_its_store(layout: Layout, tmp_path: Path) -> None:
    finished = tmp_path / "finished.parquet"
    finished.write_bytes(b"PAR1 rows PAR1")
    target = layout.standardised("flow") / "day=2024-03-30" / "part-a.parquet"
    layout.publish(finished, target)
    assert not finished.exists() and target.read_bytes() == b"PAR1 rows PAR1", "this machine keeps what it published"
    assert layout.names(target.parent) == ["part-a.parquet"]
    assert layout.walk(layout.standardised("flow")) == ["day=2024-03-30/part-a.parquet"]
    if layout.remote:  # on a folder, run-unique names are what keep a rename from replacing a file
        again = tmp_path / "again.parquet"
        again.write_bytes(b"other")
        with pytest.raises(StorageError, match="never replaced"):
            layout.publish(again, target)
    target.unlink()  # another machine (or a pruned cache) has no copy: the store has
    if layout.remote:
        assert layout.fetch(target).read_bytes() == b"PAR1 rows PAR1"
    manifest = layout.manifests("flow") / "2024-03-30.json"
    assert layout.read_text(manifest) is None
    layout.commit_text(manifest, '{"rows": 1}')
    assert layout.read_text(manifest) == '{"rows": 1}'
    layout.remove(target)
    assert layout.names(target.parent) == [] and not target.exists()


def test_a_data_root_url_works_from_a_working_folder_per_machine(bucket: str, tmp_path: Path) -> None:
    env = {**os.environ, "PLANTDATA_HOME": f"s3://{bucket}/home/", "PLANTDATA_CACHE": str(tmp_path / "cache")}
    layout = home_layout(env)
    assert layout.remote and layout.store.root == f"s3://{bucket}/home"
    assert layout.root.is_relative_to(tmp_path / "cache"), "scratch and cached objects stay on this machine"
    assert data_root(env) == layout.root
    assert CatalogStore.of(layout, env).location == f"s3://{bucket}/home/catalog"
    assert ReleaseRoot.of(layout, env).location("flow", 1) == f"s3://{bucket}/home/releases/flow/v1"
    with pytest.raises(StorageError, match="PLANTDATA_CATALOG"):
        home_layout({**env, "PLANTDATA_CATALOG": f"s3://{bucket}/home"})
    assert not home_layout({"PLANTDATA_HOME": str(tmp_path / "local")}).remote
