"""The catalog store when things overlap or break: racing publishers, a publisher killed half way, readers in
several threads while the pointer moves, and catalog SQL that must reach nothing but the catalog."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

import catalog.publish
from catalog import audit
from catalog.errors import CatalogError
from catalog.publish import publish_source
from catalog.store import CatalogStore
from config.layout import Layout
from config.sources import load_sources
from pipelines.cli import main
from pipelines.run import run_all
from tests.conftest import HISTORIAN_SOURCES, REPO


@pytest.fixture
def gated(write: Callable[..., Path], layout: Layout) -> Path:
    """The sources file of `hist`, run once: its gated files are there to publish (again) in any catalog."""
    write("hist/1.csv", "timestamp,tag,value\n2024-03-30 10:00:00,T1,1\n2024-03-30 10:00:10,T1,2\n")
    path = write("sources.yaml", HISTORIAN_SOURCES)
    assert all(o.success for o in run_all(path, layout.root))
    return path


SNAPSHOTS = ["catalog-1.duckdb", "catalog-2.duckdb"]


def _note(store: CatalogStore, actor: str) -> None:
    """A publication that only adds an audit entry by `actor`."""
    with store.publication() as con:
        audit.append(con, datetime.now(UTC), actor, "publish", "notes", None, "{}")


def _actors(store: CatalogStore) -> list[str]:
    with store.reader() as con:
        return [row[0] for row in con.execute("SELECT actor FROM audit_log ORDER BY happened_at").fetchall()]


def _race(sources_file: str, root: str, folder: str, barrier: Barrier, results: Queue[Any]) -> None:
    """One of two publisher processes: start together, publish `hist` into the catalog at `folder`."""
    sources = load_sources(Path(sources_file))
    [source] = sources.sources
    barrier.wait(timeout=120)
    try:
        published = publish_source(CatalogStore(Path(folder)), sources, source, Layout(Path(root)), f"{os.getpid()}")
    except Exception as error:  # reported, so the test fails at once instead of waiting for a result
        results.put(("failed", repr(error)))
        raise
    results.put((published.version, published.new))


def test_two_publishers_racing_on_the_same_content_make_one_version_and_one_snapshot(
    gated: Path, layout: Layout, tmp_path: Path
) -> None:
    folder = tmp_path / "raced"  # an empty catalog: both publishers find the content new when they start
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    racers = [
        context.Process(target=_race, args=(str(gated), str(layout.root), str(folder), barrier, results))
        for _ in range(2)
    ]
    for racer in racers:
        racer.start()
    outcomes = sorted(results.get(timeout=300) for _ in racers)
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    assert outcomes == [(1, False), (1, True)], "one publishes version 1, the other finds it published"
    store = CatalogStore(folder)
    assert store.current() == folder / "catalog-1.duckdb", "the publisher with nothing to add writes no snapshot"
    with store.reader() as con:
        assert con.execute("SELECT dataset, version FROM versions").fetchall() == [("hist", 1)]
        assert con.execute("SELECT action FROM audit_log").fetchall() == [("publish",)]


def test_a_publisher_uses_the_grade_the_cdo_set_while_it_waited_for_its_turn(
    gated: Path, layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = load_sources(gated)
    [source] = sources.sources
    store = CatalogStore(tmp_path / "graded")
    deciding = threading.Event()
    write_release = catalog.publish.write_release

    def noting_write_release(*args: Any) -> None:
        deciding.set()  # the publisher has read the grade it will publish with
        write_release(*args)

    monkeypatch.setattr(catalog.publish, "write_release", noting_write_release)
    published: list[catalog.publish.PublishedVersion] = []
    with store.publication() as con:  # the CDO's grade is being written: publishers wait for their turn
        publisher = threading.Thread(
            target=lambda: published.append(publish_source(store, sources, source, layout, "after-the-cdo"))
        )
        publisher.start()
        deciding.wait(timeout=5)  # a publisher that reads before its turn gets this far; one in line does not
        con.execute("INSERT INTO overrides VALUES ('hist', 'grade', '3', 'cdo', 'safety loop', now())")
    publisher.join(timeout=300)
    assert [p.version for p in published] == [1]
    with store.reader() as con:
        principals = {row[0] for row in con.execute("SELECT principal FROM access_policies").fetchall()}
    assert principals == {"owner:process", "steward:unassigned", "role:chief_data_officer"}, "grade 3 policy"


KILLED_PUBLISHER = """
import shutil, sys, time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from catalog import audit
from catalog.store import CatalogStore

folder, leftover = Path(sys.argv[1]), sys.argv[2]
if leftover == "publication":  # a publication killed after its commit, before its checkpoint
    with CatalogStore(folder).publication() as con:
        audit.append(con, datetime.now(UTC), "ghost", "publish", "notes", None, "{}")
        con.execute("COMMIT")
        con.execute("BEGIN TRANSACTION")
        print("committed", flush=True)
        time.sleep(600)
else:  # a writer killed in the next snapshot's own file: `catalog-2.duckdb` and `catalog-2.duckdb.wal`
    shutil.copyfile(folder / "catalog-1.duckdb", folder / "catalog-2.duckdb")
    con = duckdb.connect(str(folder / "catalog-2.duckdb"))
    audit.append(con, datetime.now(UTC), "ghost", "publish", "notes", None, "{}")
    print("committed", flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize("leftover", ["publication", "next_snapshot"])
def test_what_a_killed_publisher_leaves_neither_leaks_into_nor_breaks_the_next_publication(
    tmp_path: Path, leftover: str
) -> None:
    folder = tmp_path / "catalog"
    store = CatalogStore(folder)
    _note(store, "first")
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISHER, str(folder), leftover], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert killed.stdout is not None and killed.stdout.readline().strip() == "committed"
    assert list(folder.glob("*.wal")), "a committed, not yet checkpointed transaction is in a WAL"
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=30) == -signal.SIGKILL
    _note(store, "next")
    assert _actors(store) == ["first", "next"], "nothing of the killed publisher is replayed"
    assert sorted(p.name for p in folder.iterdir()) == [".publisher.lock", "CURRENT", *SNAPSHOTS[:2]]


def test_a_failed_publication_leaves_no_file_behind(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    store = CatalogStore(folder)
    _note(store, "first")
    with pytest.raises(RuntimeError), store.publication() as con:
        audit.append(con, datetime.now(UTC), "ghost", "publish", "notes", None, "{}")
        con.execute("COMMIT")
        con.execute("BEGIN TRANSACTION")
        raise RuntimeError("publisher crashed after a commit")
    assert sorted(p.name for p in folder.iterdir()) == [".publisher.lock", "CURRENT", *SNAPSHOTS[:1]]
    _note(store, "next")
    assert _actors(store) == ["first", "next"]


def test_a_publisher_cannot_wait_for_its_own_turn(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "catalog")
    with store.turn(), pytest.raises(CatalogError, match="already has the publisher's turn"), store.publication():
        pass


def _open_files() -> set[str]:
    fds = Path("/proc/self/fd")
    return {os.path.realpath(fd) for fd in fds.iterdir()} if fds.is_dir() else set()


def test_a_cursor_keeps_its_snapshot_while_other_threads_move_on_and_the_snapshot_closes_after(tmp_path: Path) -> None:
    store = CatalogStore(tmp_path / "catalog")
    _note(store, "first")
    first = store.current()
    assert first is not None
    reading, done = threading.Event(), threading.Event()
    seen: list[int] = []
    errors: list[duckdb.Error] = []

    def read_in_a_loop() -> None:  # thread A
        try:
            with store.reader() as con:
                while True:
                    seen.append(con.execute("SELECT count(*) FROM audit_log").fetchall()[0][0])
                    reading.set()
                    if done.is_set():
                        return
        except duckdb.Error as error:
            errors.append(error)
        finally:
            reading.set()

    reader_a = threading.Thread(target=read_in_a_loop, daemon=True)
    reader_a.start()
    try:
        assert reading.wait(timeout=30)
        _note(store, "second")  # the pointer moves while A reads
        second = store.current()
        with store.reader() as con:  # thread B (this one) reads the new snapshot meanwhile
            assert con.execute("SELECT count(*) FROM audit_log").fetchall() == [(2,)]
            before = len(seen)
            deadline = time.monotonic() + 30
            while len(seen) < before + 20 and not errors and time.monotonic() < deadline:
                time.sleep(0.01)
            assert errors == [], "A's cursor still works after B opened the new snapshot"
            assert len(seen) >= before + 20
            assert store.open_snapshots() == [first, second]
    finally:
        done.set()
        reader_a.join(timeout=30)
    assert errors == [] and set(seen) == {1}, "A saw its own snapshot throughout"
    assert store.open_snapshots() == [second], "the old snapshot is closed after its last cursor"
    if Path("/proc/self/fd").is_dir():
        assert os.path.realpath(first) not in _open_files() and os.path.realpath(second) in _open_files()


@pytest.fixture
def catalog_home(layout: Layout) -> CatalogStore:
    """A small catalog under PLANTDATA_HOME, where the CLI looks."""
    store = CatalogStore(layout.catalog())
    with store.publication() as con:
        con.execute(
            "INSERT INTO datasets VALUES ('hist', 'recordings', 'historian_long', 'historian', 'process', NULL, now())"
        )
    return store


def test_catalog_sql_reads_the_catalog(catalog_home: CatalogStore) -> None:
    result = CliRunner().invoke(main, ["catalog", "sql", "SELECT name, owner FROM datasets", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"name": "hist", "owner": "process"}]
    tables = CliRunner().invoke(main, ["catalog", "sql", "SELECT table_name, comment FROM duckdb_tables()", "--json"])
    assert tables.exit_code == 0, tables.output
    assert "datasets" in {row["table_name"] for row in json.loads(tables.output)}


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("SELECT content FROM read_text('{secret}')", "disabled by configuration"),
        ("SELECT * FROM '{secret}'", "disabled by configuration"),  # a file named in FROM is not read either
        ("COPY datasets TO '{written}'", "disabled by configuration"),
        ("ATTACH '{other}' AS other (READ_ONLY); SELECT * FROM other.secrets", "disabled by configuration"),
        ("SET enable_external_access = true", "configuration has been locked"),
        ("RESET lock_configuration", "configuration has been locked"),
        ("CREATE TABLE notes AS SELECT 1 AS x", "read-only"),
    ],
)
def test_catalog_sql_reaches_nothing_but_the_catalog(
    catalog_home: CatalogStore, tmp_path: Path, query: str, refused: str
) -> None:
    secret, written, other = tmp_path / "secret.csv", tmp_path / "written.csv", tmp_path / "other.duckdb"
    secret.write_text("password\ntop-secret\n", encoding="utf-8")
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE secrets AS SELECT 'top-secret' AS password")
    sql = query.format(secret=secret, written=written, other=other)
    result = CliRunner().invoke(main, ["catalog", "sql", sql, "--json"])
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, CatalogError)
    assert refused in str(result.exception)
    assert "top-secret" not in result.output
    assert not written.exists()
    after = CliRunner().invoke(main, ["catalog", "sql", "SELECT count(*) AS n FROM datasets", "--json"])
    assert json.loads(after.output) == [{"n": 1}], "the catalog is unchanged and still readable"
