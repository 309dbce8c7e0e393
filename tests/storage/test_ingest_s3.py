"""Ingest with the data root on object storage (moto on loopback): the standardised and quarantine files, the
manifests, the index and the ledger live in the bucket; this machine's working folder is only a cache of them, and
another machine, with a cache of its own, reads the same bytes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from config.layout import Layout
from config.sources import load_sources
from ingest.index import cached_entries
from ingest.manifest import manifest_keys, partition_files, read_manifest, read_manifests, source_files
from ingest.register import load_register
from ingest.runner import discover_source, retire_stale_partitions
from ingest.verify import recount
from pipelines.ledger import Ledger
from tests.conftest import ingest_all
from tests.ingest.test_single_pass import REGISTER, SOURCES  # a register and a historian linked through it

EXPORT = (
    "timestamp,tag,value,quality\n"
    "2024-03-30 10:00:00,T1,1.5,192\n"
    "2024-03-30 11:00:00,T9,4,192\n"  # not in the register: quarantined
    "2024-03-31 11:00:00,T1,abc,192\n"  # not a number: quarantined
    "2024-03-31 14:00:00,T1,7,192\n"
)
BROKEN = b"timestamp;tag;value\n2024-03-30 10:00:00;T1;1\n"  # the wrong delimiter: quarantined whole
PUBLISHED = ("standardised", "quarantine", "gated", "quality", "manifests", "index")

Machine = Callable[[str], Layout]


@pytest.fixture
def machine(bucket: str, tmp_path: Path) -> Machine:
    """The same data root URL from a machine with its own cache (PLANTDATA_CACHE)."""

    def at(cache: str) -> Layout:
        return Layout.at(f"s3://{bucket}/home", {**os.environ, "PLANTDATA_CACHE": str(tmp_path / cache)})

    return at


@pytest.fixture
def sources_path(write: Callable[..., Path]) -> Path:
    write("reg.csv", REGISTER)
    write("hist/1.csv", EXPORT)
    write("hist/broken.csv", BROKEN)
    return write("sources.yaml", SOURCES)


def _stored(layout: Layout, folder: str) -> set[str]:
    return {f"{folder}/{name}" for name in layout.store.walk(folder)}


def _cached_only(layout: Layout) -> list[str]:
    """Files under the working folder's published folders that the store does not have (must be none)."""
    stored = {name for folder in PUBLISHED for name in _stored(layout, folder)}
    local = [layout.name(p) for folder in PUBLISHED for p in (layout.root / folder).rglob("*") if p.is_file()] + [
        layout.name(p) for p in layout.root.glob("*.json")
    ]
    return sorted(name for name in local if name not in stored)


def _listed(layout: Layout, source: str, partitioning: str) -> set[str]:
    """Every standardised and quarantine object the manifests of a source name."""
    return {
        layout.name(path)
        for key in manifest_keys(layout, source)
        for kind in ("standardised", "quarantine")
        for path in partition_files(layout, source, partitioning, key, kind)
    }


def test_standardised_files_manifests_and_the_index_are_in_the_store_and_another_machine_reads_them(
    machine: Machine, sources_path: Path
) -> None:
    first = machine("cacheA")
    results = ingest_all(sources_path, first)
    assert first.remote and all(r.balanced for rs in results.values() for r in rs)
    keys = {r.key for r in results["hist"]}
    assert keys == {"2024-03-30", "2024-03-31", "unreadable-broken.csv"}
    assert {f"manifests/hist/{k}.json" for k in keys} == _stored(first, "manifests/hist")
    assert "index/hist.json" in _stored(first, "index") and "index/register.json" in _stored(first, "index")
    assert _listed(first, "hist", "day") == _stored(first, "standardised/hist") | _stored(first, "quarantine/hist")
    assert any(name.startswith("quarantine/hist/day=2024-03-31/") for name in _stored(first, "quarantine/hist"))
    assert not (first.root / "manifests").exists() and not (first.root / "index").exists(), "records: store only"
    assert _cached_only(first) == [], "the working folder is only a cache of the store"

    second = machine("cacheB")
    assert second.root != first.root
    assert read_manifests(second, "hist") == read_manifests(first, "hist")
    assert cached_entries(second, load_sources(sources_path).get("hist")) == cached_entries(
        first, load_sources(sources_path).get("hist")
    )
    for key in keys:
        for kind in ("standardised", "quarantine"):
            theirs = partition_files(second, "hist", "day", key, kind)
            ours = partition_files(first, "hist", "day", key, kind)
            assert [p.name for p in theirs] == [p.name for p in ours]
            assert all(p.is_relative_to(second.root) for p in theirs), "read from the second machine's cache"
            assert [p.read_bytes() for p in theirs] == [p.read_bytes() for p in ours]
    register = source_files(second, "register", "file")
    assert register and [p.read_bytes() for p in register] == [
        p.read_bytes() for p in source_files(first, "register", "file")
    ]
    assert load_register(second, "register").get("T1") is not None
    hist = load_sources(sources_path).get("hist")
    assert all(recount(hist, cached_entries(second, hist), key, second).ok for key in keys)
    assert _cached_only(second) == []
    index = first.store.read_tagged("index/hist.json")
    discover_source(load_sources(sources_path), hist, second)  # nothing new: the index is read, not written again
    assert index is not None and first.store.read_tagged("index/hist.json") == index


def test_a_restandardise_removes_the_old_versions_objects_on_every_machine(
    machine: Machine, sources_path: Path, write: Callable[..., Path]
) -> None:
    first, second = machine("cacheA"), machine("cacheB")
    ingest_all(sources_path, first)
    before = _stored(first, "standardised/hist") | _stored(first, "quarantine/hist")
    old_files = partition_files(first, "hist", "day", "2024-03-30")
    assert all(p.exists() for p in old_files)

    write("hist/1.csv", EXPORT.replace("1.5", "2.5"))  # an export corrected in place, standardised elsewhere
    ingest_all(sources_path, second)
    after = _stored(second, "standardised/hist") | _stored(second, "quarantine/hist")
    assert after and not after & before, "the old version's objects are gone, the new ones have new names"
    assert _listed(second, "hist", "day") == after, "the store holds exactly what the manifests list"
    assert _cached_only(second) == []
    new_files = partition_files(first, "hist", "day", "2024-03-30")
    assert [p.read_bytes() for p in new_files] == [
        p.read_bytes() for p in partition_files(second, "hist", "day", "2024-03-30")
    ]
    assert not {p.name for p in new_files} & {p.name for p in old_files}

    (Path(sources_path).parent / "hist" / "broken.csv").unlink()  # fixed upstream: its partition is retired
    hist = load_sources(sources_path).get("hist")
    retired = retire_stale_partitions(first, discover_source(load_sources(sources_path), hist, first))
    assert retired == ["unreadable-broken.csv"]
    assert read_manifest(second, "hist", "unreadable-broken.csv") is None
    assert not [n for n in _stored(second, "quarantine/hist") if "unreadable-broken.csv" in n]
    assert not (first.root / "quarantine" / "hist" / "day=unreadable-broken.csv").exists()
    # the first machine's cache still holds the copies it fetched of the version replaced elsewhere: never listed by
    # a manifest again, so never read (evicting them is the cache's business, not correctness)
    leftovers = set(_cached_only(first))
    assert leftovers and not leftovers & (_listed(first, "hist", "day") | _listed(first, "register", "file"))


def test_a_recount_on_object_storage_sees_a_listed_object_that_is_gone(machine: Machine, sources_path: Path) -> None:
    first = machine("cacheA")
    ingest_all(sources_path, first)
    hist = load_sources(sources_path).get("hist")
    assert recount(hist, cached_entries(first, hist), "2024-03-31", first).ok
    for piece in partition_files(first, "hist", "day", "2024-03-31", "quarantine"):
        first.remove(piece)
    other = machine("cacheB")
    with pytest.raises(FileNotFoundError):
        partition_files(other, "hist", "day", "2024-03-31", "quarantine")
    broken = recount(hist, cached_entries(other, hist), "2024-03-31", other)
    assert not broken.ok and broken.rows_quarantined == 0 and broken.rows_out == 1


def test_the_ledger_is_a_record_in_the_store(machine: Machine) -> None:
    first = machine("cacheA")
    ledger = Ledger(first)
    ledger.data["partitions"]["hist"] = {"2024-03-30": {"work": "w", "content": "c"}}
    ledger.save()
    assert not (first.root / "ledger.json").exists()
    assert Ledger(machine("cacheB")).data == ledger.data
