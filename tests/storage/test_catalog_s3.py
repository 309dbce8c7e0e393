"""The catalog on object storage (moto on loopback), as publishers and readers on several machines share it: each
"machine" is a store with a cache folder of its own, most of them in processes of their own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog import audit
from catalog.errors import PublicationLostError
from catalog.remote import Pointer, snapshot_number
from catalog.store import CatalogStore
from config.storage import Storage, open_storage
from tests.conftest import REPO


@pytest.fixture
def url(bucket: str) -> str:
    return f"s3://{bucket}/plant/catalog"


def _machine(url: str, tmp_path: Path, name: str, ttl: float = 30.0) -> CatalogStore:
    return CatalogStore.at(url, cache=tmp_path / name, lease_ttl=ttl)


def _note(store: CatalogStore, actor: str) -> None:
    """A publication of two audit entries: a snapshot with one of them only would be half a publication."""
    with store.publication() as con:
        for part in ("a", "b"):
            audit.append(con, datetime.now(UTC), f"{actor}/{part}", "publish", "notes", None, "{}")


def _actors(store: CatalogStore) -> list[str]:
    with store.reader() as con:
        rows = con.execute("SELECT actor FROM audit_log ORDER BY happened_at, actor").fetchall()
    return sorted({row[0].rsplit("/", 1)[0] for row in rows})


def _objects(url: str) -> list[str]:
    storage = open_storage(url)
    return storage.list("")


def test_a_publication_is_seen_by_every_machine_through_its_own_cache(url: str, tmp_path: Path) -> None:
    publisher, reader = _machine(url, tmp_path, "publisher"), _machine(url, tmp_path, "reader")
    assert reader.current() is None
    _note(publisher, "first")
    assert _actors(reader) == ["first"]
    assert reader.current() == reader.folder / "catalog-1.duckdb", "downloaded into the reader's cache by name"
    assert _objects(url) == [".publisher.lease", "CURRENT", "catalog-1.duckdb"]
    _note(reader, "second")  # any machine may publish
    assert _actors(publisher) == ["first", "second"]
    with publisher.confined_reader() as con:
        assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(4,)]
    for i in range(4):
        _note(publisher, f"more{i}")
    assert _objects(url) == [".publisher.lease", "CURRENT", "catalog-4.duckdb", "catalog-5.duckdb", "catalog-6.duckdb"]
    assert sorted(p.name for p in publisher.folder.iterdir()) == [f"catalog-{n}.duckdb" for n in (4, 5, 6)]


PUBLISHER = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path

from catalog import audit
from catalog.errors import PublicationLostError
from catalog.store import CatalogStore

url, cache, name, times = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
store = CatalogStore.at(url, cache=cache)
for i in range(times):
    while True:
        try:
            with store.turn() as turn, turn.publication() as con:
                for part in ("a", "b"):
                    audit.append(con, datetime.now(UTC), f"{name}{i}/{part}", "publish", "notes", None, "{}")
            break
        except PublicationLostError:
            print(json.dumps({"lost": i}), flush=True)
    print(json.dumps({"published": turn.pointer.name}), flush=True)
"""


def test_two_publisher_processes_lose_no_publication_while_a_reader_sees_only_whole_snapshots(
    url: str, tmp_path: Path
) -> None:
    times = 5
    reader = _machine(url, tmp_path, "reader")
    seen: list[tuple[int, list[str]]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def poll() -> None:
        try:
            while not done.is_set():
                if reader.current() is None:
                    continue
                with reader.snapshot_reader() as (name, con):
                    actors = [row[0] for row in con.execute("SELECT actor FROM audit_log").fetchall()]
                seen.append((snapshot_number(name), actors))
        except BaseException as error:
            errors.append(error)

    polling = threading.Thread(target=poll)
    polling.start()
    publishers = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISHER, url, str(tmp_path / name), name, str(times)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for name in ("p", "q")
    ]
    outputs = [publisher.communicate(timeout=600)[0] for publisher in publishers]
    done.set()
    polling.join(timeout=60)
    assert [publisher.returncode for publisher in publishers] == [0, 0]
    assert errors == []
    for output in outputs:
        lines = [json.loads(line) for line in output.splitlines()]
        numbers = [snapshot_number(line["published"]) for line in lines if "published" in line]
        assert len(numbers) == times and numbers == sorted(set(numbers)), "each publisher's numbers strictly increase"
    assert _actors(reader) == sorted(f"{name}{i}" for name in "pq" for i in range(times)), "no publication lost"
    assert reader.current() == reader.folder / f"catalog-{2 * times}.duckdb"
    assert seen, "the reader read while the publishers published"
    for number, actors in seen:
        assert len(actors) == 2 * number, f"snapshot {number} holds every publication up to it, each one whole"
        assert all(f"{a.rsplit('/', 1)[0]}/b" in actors for a in actors)
    assert [n for n, _ in seen] == sorted(n for n, _ in seen), "the reader never went back to an older snapshot"


KILLED = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path

from catalog import audit
from catalog.store import CatalogStore
from config.storage import ObjectStorage

url, cache, when = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
swap = ObjectStorage.swap

def stop_before_the_pointer(self, name, data, tag):
    if name == "CURRENT":
        print("uploaded", flush=True)
        time.sleep(600)
    return swap(self, name, data, tag)

ObjectStorage.swap = stop_before_the_pointer
with CatalogStore.at(url, cache=cache, lease_ttl=2).publication() as con:
    audit.append(con, datetime.now(UTC), "ghost/a", "publish", "notes", None, "{}")
    if when == "writing":
        con.execute("COMMIT")
        con.execute("BEGIN TRANSACTION")
        print("writing", flush=True)
        time.sleep(600)
    audit.append(con, datetime.now(UTC), "ghost/b", "publish", "notes", None, "{}")
"""


@pytest.mark.parametrize("when", ["writing", "uploaded"])
def test_a_publisher_killed_half_way_leaves_nothing_a_reader_can_see(url: str, tmp_path: Path, when: str) -> None:
    machine = _machine(url, tmp_path, "machine", ttl=2)
    _note(machine, "first")
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED, url, str(machine.folder.parent.parent), when],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert killed.stdout is not None and killed.stdout.readline().strip() == when
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=30) == -signal.SIGKILL
    leftovers = [p.name for p in machine.folder.iterdir() if p.name.startswith(".")]
    assert leftovers, "the killed publisher's copy is in the machine's cache"
    other = _machine(url, tmp_path, "other")
    assert _actors(other) == ["first"], "readers anywhere see the catalog as it was"
    unpublished = ["catalog-2.duckdb"] if when == "uploaded" else []
    assert _objects(url) == [".publisher.lease", "CURRENT", "catalog-1.duckdb", *unpublished]
    _note(machine, "next")  # waits for the dead publisher's lease to expire, then publishes past its snapshot
    assert _actors(other) == ["first", "next"], "nothing of the killed publisher is ever seen"
    assert machine.current() == machine.folder / ("catalog-3.duckdb" if unpublished else "catalog-2.duckdb")
    assert sorted(p.name for p in machine.folder.iterdir() if p.name.startswith(".")) == [], "its copy was removed"


def test_a_publisher_whose_turn_was_taken_over_fails_and_leaves_nothing(url: str, tmp_path: Path) -> None:
    slow, fast = _machine(url, tmp_path, "slow", ttl=1.5), _machine(url, tmp_path, "fast", ttl=1.5)
    _note(slow, "first")
    storage: Storage = open_storage(url)
    with pytest.raises(PublicationLostError, match="publish again"), slow.turn() as turn:
        # the slow publisher's lease looks expired to another machine (a stalled VM, a clock ahead): it is taken
        storage.commit_bytes(".publisher.lease", json.dumps({"holder": "stalled", "expires": 0}).encode())
        other = threading.Thread(target=_note, args=(fast, "fast"))  # another machine
        other.start()
        other.join(timeout=60)
        with turn.reader() as con:  # the slow turn still reads the snapshot it started from
            assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(2,)]
        with turn.publication() as con:
            audit.append(con, datetime.now(UTC), "slow/a", "publish", "notes", None, "{}")
    assert _actors(fast) == ["fast", "first"]
    assert _objects(url) == [".publisher.lease", "CURRENT", "catalog-1.duckdb", "catalog-2.duckdb"]


def test_the_pointer_moves_only_from_the_pointer_a_publisher_read(url: str, tmp_path: Path) -> None:
    store = _machine(url, tmp_path, "machine")
    _note(store, "first")
    assert store.remote is not None and store.current() is not None
    stale = Pointer("catalog-0.duckdb", '"not-the-etag"')
    with pytest.raises(PublicationLostError, match=r"moved .*CURRENT to catalog-1.duckdb"):
        store.remote.publish(store.folder / "catalog-1.duckdb", 2, stale)
    assert _objects(url) == [".publisher.lease", "CURRENT", "catalog-1.duckdb"], "the loser's snapshot is removed"
    with pytest.raises(PublicationLostError):
        store.remote.publish(store.folder / "catalog-1.duckdb", 2, None)  # "no catalog yet" is stale too
    assert _actors(store) == ["first"]
