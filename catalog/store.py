"""Where the catalog lives and how readers and the publisher share it.

DuckDB lets one process write a database file, and while it does no other process can open it, not even
to read. So the catalog is a series of snapshot files `catalog/catalog-<n>.duckdb` and a pointer file
`catalog/CURRENT` naming the newest. Readers open the snapshot the pointer names, read-only: they never wait
for a lock and never see half a publication. In one process, a snapshot stays open while any cursor on it is
alive, even after the pointer has moved on, and is closed after its last cursor.

Publishers take turns (`CatalogStore.turn`, today an exclusive file lock). Everything that decides what to
publish is read inside the turn, so it still holds when the new snapshot is written. A publication copies the
current snapshot to a name only its own run uses, writes into the copy in one transaction, checkpoints and
closes it (a closed, checkpointed DuckDB file has no `.wal`), renames it to the next snapshot name and only then
moves the pointer (`os.replace`, atomic). A failure removes the copy and its `.wal`; a publisher killed half way
leaves files that the next turn removes before anything is read or written. Old snapshots are pruned (an open
reader keeps reading its file: on POSIX a removed file lives until its last handle closes).

The catalog folder may also be on object storage (`CatalogStore.at("s3://bucket/prefix/catalog")`), shared by
publishers and readers on several machines (`catalog.remote`): the turn is a lease object, snapshots are objects
created only if absent, the pointer moves by compare-and-swap on its ETag, and `folder` is this machine's cache of
the snapshots it downloaded (immutable, so cached by name) and opens read-only like local ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from catalog.errors import CatalogError, NoCatalogError, PublicationLostError
from catalog.remote import LEASE, Pointer, RemoteCatalog, snapshot_number
from catalog.remote import SNAPSHOT as _SNAPSHOT
from catalog.schema import migrate
from config.layout import Layout
from config.lease import DEFAULT_TTL, Lease
from config.locks import exclusive
from config.locks import turn as storage_turn
from config.processes import alive
from config.storage import ObjectStorage, cache_root, is_url, open_storage

KEEP_SNAPSHOTS = 3
CATALOG_ENV = "PLANTDATA_CATALOG"
_WRITING = ".writing"  # suffix of a snapshot being written (`.catalog-<n>.<pid>.<run>.writing`)
_LEFTOVER = (_WRITING, ".partial")  # `.partial`: the pointer being written, and snapshots of earlier versions


@dataclass(frozen=True)
class CatalogStore:
    """A catalog folder (`remote` None), or a catalog on object storage with `folder` as this machine's cache."""

    folder: Path
    remote: RemoteCatalog | None = None
    lease_ttl: float = DEFAULT_TTL  # on object storage: how long a dead publisher's turn blocks the others

    @classmethod
    def at(
        cls,
        location: str | Path,
        cache: Path | None = None,
        env: Mapping[str, str] | None = None,
        lease_ttl: float = DEFAULT_TTL,
    ) -> CatalogStore:
        """The catalog in a local folder, or at an `s3://` URL (settings from `env`), whose snapshots this machine
        caches under `cache` (default: `config.storage.cache_root`)."""
        if not is_url(location):
            return cls(Path(location))
        storage = open_storage(location, env)
        endpoint = storage.settings.endpoint if isinstance(storage, ObjectStorage) else None
        key = hashlib.sha256(f"{endpoint}|{storage.root}".encode()).hexdigest()[:16]
        return cls((cache or cache_root(env)) / "catalog" / key, RemoteCatalog(storage), lease_ttl)

    @classmethod
    def of(cls, layout: Layout, env: Mapping[str, str] | None = None) -> CatalogStore:
        """The catalog of a data root: its `catalog/` folder, or PLANTDATA_CATALOG when set (a folder, or an `s3://`
        URL that publishers and readers on several machines share). A data root on object storage keeps its catalog
        there, under `catalog/`."""
        values = os.environ if env is None else env
        default = layout.store.url(layout.name(layout.catalog())) if layout.remote else layout.catalog()
        return cls.at(values.get(CATALOG_ENV) or default, env=values)

    @property
    def location(self) -> str:
        """Where the catalog lives, for messages: its folder or its URL."""
        return self.remote.storage.root if self.remote is not None else str(self.folder)

    @property
    def pointer(self) -> Path:
        return self.folder / "CURRENT"

    def published(self) -> bool:
        """Whether anything was ever published here (without opening or downloading a snapshot)."""
        return self.remote.pointer() is not None if self.remote is not None else self.pointer.exists()

    def current(self) -> Path | None:
        """The snapshot the pointer names. The pointer is replaced, never rewritten in place, so a pointer file with
        the same inode, size and mtime names the same snapshot: readers asking many times a second stat it instead of
        reading it. On object storage: the pointer is read and the snapshot it names downloaded once to this
        machine's cache (read again if it was pruned meanwhile)."""
        if self.remote is not None:
            for _ in range(5):
                with contextlib.suppress(FileNotFoundError):
                    return self._cached(self.remote.pointer())
            raise CatalogError(f"the catalog in {self.location} moved on five times while fetching it; try again")
        try:
            stat = os.stat(self.pointer)
        except FileNotFoundError:
            return None
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        known = _POINTERS.get(self.pointer)
        if known is not None and known[0] == stamp:
            return known[1]
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.folder / name
        _POINTERS[self.pointer] = (stamp, path)
        return path

    def _cached(self, pointer: Pointer | None) -> Path | None:
        """The local copy of the snapshot `pointer` names, downloaded if this machine has none yet."""
        if pointer is None:
            return None
        path = self.folder / pointer.name
        if not path.exists():
            assert self.remote is not None
            self.folder.mkdir(parents=True, exist_ok=True)
            self.remote.fetch(pointer.name, path)
            _prune_cache(self.folder, _number(path))
        return path

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only cursor on the newest complete snapshot.

        Opening a snapshot costs tens of milliseconds at 10,000 datasets, so this process keeps the current
        snapshot open and hands out cursors (cheap, one per call, safe across threads). A cursor reads the
        snapshot it was opened on until it is closed, even when the pointer moves on meanwhile; an older
        snapshot is closed once its last cursor is (see `open_snapshots`).
        """
        with self.snapshot_reader() as (_, cursor):
            yield cursor

    @contextlib.contextmanager
    def snapshot_reader(self) -> Iterator[tuple[str, duckdb.DuckDBPyConnection]]:
        """`reader`, with the name of the snapshot it reads: a snapshot never changes, so what is read from it can be
        cached under its name (the web catalog does)."""
        path, snapshot = self._acquire_current()
        with _cursor(path, snapshot) as cursor:
            yield path.name, cursor

    def _acquire_current(self) -> tuple[Path, _Snapshot]:
        """The current snapshot, opened: read the pointer again if the file it named was pruned meanwhile (several
        publications can finish between reading the pointer and opening the file)."""
        for _ in range(5):
            path = self.current()
            if path is None:
                raise NoCatalogError(self.location)
            try:
                return path, _acquire(path)
            except duckdb.IOException:
                if path.exists():
                    raise
                _POINTERS.pop(self.pointer, None)  # never trust a remembered pointer to a pruned file
        raise CatalogError(f"the catalog in {self.location} moved on five times while opening it; try again")

    def open_snapshots(self) -> list[Path]:
        """The snapshots this process holds open for readers, oldest first: the newest opened, and older ones
        only while a cursor on them is alive."""
        with _OPEN_LOCK:
            return sorted(_OPEN.get(self.folder, {}), key=_number)

    @contextlib.contextmanager
    def confined_reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection for SQL that a person typed: it sees the current snapshot and nothing else.

        A connection of its own (an in-memory database with the snapshot attached read-only), so locking it
        down leaves the shared readers alone: external access is off (no reading or writing files, no ATTACH,
        no extensions to install) and the configuration is locked, so no query can turn it back on.
        """
        path = self.current()
        if path is None:
            raise NoCatalogError(self.location)
        con = duckdb.connect(":memory:")
        try:
            con.execute("ATTACH ? AS catalog (READ_ONLY)", [str(path)])
            con.execute("USE catalog")
            con.execute("DETACH memory")  # no writable database either
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def turn(self) -> Iterator[PublisherTurn]:
        """This publisher's exclusive turn: no other publication starts or ends until it is over.

        Read what decides a publication through the turn (`PublisherTurn.reader`) and write it through
        `PublisherTurn.publication`: the current snapshot cannot move in between. Files left by publishers that
        died during their turn are removed first.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.remote is not None:
            storage = self.remote.storage
            with (
                _one_turn_per_thread(storage.url(LEASE), self.location),
                storage_turn(storage, LEASE, self.lease_ttl) as lease,
            ):
                _prune_cache(self.folder, 0)
                turn = PublisherTurn(self, lease=lease, pointer=self.remote.pointer())
                try:
                    yield turn
                finally:
                    turn.over = True
            return
        with _exclusive(self.folder / ".publisher.lock"):
            _remove_leftovers(self.folder, self.current())
            turn = PublisherTurn(self)
            try:
                yield turn
            finally:
                turn.over = True

    @contextlib.contextmanager
    def publication(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writable copy of the catalog, in a turn of its own; it becomes current only if the block completes."""
        with self.turn() as turn, turn.publication() as con:
            yield con

    def _prune(self, newest: int) -> None:
        for path in self.folder.glob("catalog-*.duckdb"):
            if _number(path) <= newest - KEEP_SNAPSHOTS:
                path.unlink(missing_ok=True)


@dataclass
class PublisherTurn:
    """A publisher's exclusive turn on a catalog (from `CatalogStore.turn`), usable only while it lasts.

    On object storage the turn remembers the pointer it started from (`pointer`, moved by its own publications):
    what it reads is that snapshot, and its publications succeed only if the pointer is still there, so what it
    decided still holds even if its lease was lost to another machine meanwhile.
    """

    store: CatalogStore
    over: bool = False
    lease: Lease | None = None
    pointer: Pointer | None = None

    @property
    def current(self) -> Path | None:
        """The current snapshot: it moves only through this turn's own publications."""
        self._check()
        if self.store.remote is not None:
            try:
                return self.store._cached(self.pointer)
            except FileNotFoundError:
                raise PublicationLostError(
                    f"the snapshot {self.pointer} of {self.store.location} was pruned by another publisher during "
                    "this turn; take a new turn"
                ) from None
        return self.store.current()

    def reader(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A read-only cursor on the current snapshot."""
        self._check()
        if self.store.remote is not None:
            return self._remote_reader()
        return self.store.reader()

    @contextlib.contextmanager
    def _remote_reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.current
        if path is None:
            raise NoCatalogError(self.store.location)
        with _cursor(path, _acquire(path)) as cursor:
            yield cursor

    @contextlib.contextmanager
    def publication(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writable copy of the current snapshot, in one transaction: the next snapshot if the block completes.

        The copy has a name no other run uses and is renamed only once committed, checkpointed and closed; if
        anything fails, the copy and its `.wal` are removed and the pointer stays where it was.
        """
        self._check()
        if self.store.remote is not None:
            with self._remote_publication(self.store.remote) as con:
                yield con
            return
        folder, current = self.store.folder, self.store.current()
        number = _number(current) + 1 if current is not None else 1
        target = folder / f"catalog-{number}.duckdb"
        writing = _writing_name(folder, number)
        try:
            with _written(current, writing) as con:
                yield con
            _remove_database(target)  # beyond the pointer, so never published (the turn removed it already)
            os.replace(writing, target)
            _write_pointer(self.store.pointer, target.name)
        except BaseException:
            _remove_database(writing)
            if self.store.current() != target:
                _remove_database(target)
            raise
        self.store._prune(number)

    @contextlib.contextmanager
    def _remote_publication(self, remote: RemoteCatalog) -> Iterator[duckdb.DuckDBPyConnection]:
        """Write the copy in this machine's cache folder, upload it as a new snapshot object and move the pointer
        from the one this turn started from (compare-and-swap); the copy then joins the cache under its name."""
        folder, current = self.store.folder, self.current
        number = _number(current) + 1 if current is not None else 1
        writing = _writing_name(folder, number)
        try:
            with _written(current, writing) as con:
                yield con
            if self.lease is not None and self.lease.lost.is_set():
                raise PublicationLostError(
                    f"this publisher's turn on {self.store.location} expired and was taken over before it could "
                    "publish; nothing of it is visible: publish again"
                )
            self.pointer = remote.publish(writing, number, self.pointer)
            os.replace(writing, folder / self.pointer.name)
        finally:
            _remove_database(writing)
        newest = _number(folder / self.pointer.name)
        remote.prune(newest, KEEP_SNAPSHOTS)
        _prune_cache(folder, newest)

    def _check(self) -> None:
        if self.over:
            raise CatalogError(f"the publisher's turn on {self.store.location} is over; take a new one")


@dataclass(eq=False)
class _Snapshot:
    con: duckdb.DuckDBPyConnection
    cursors: int = 0


_OPEN: dict[Path, dict[Path, _Snapshot]] = {}  # catalog folder -> snapshot file -> its connection for readers
_OPEN_LOCK = threading.Lock()
_POINTERS: dict[Path, tuple[tuple[int, int, int], Path]] = {}  # pointer file -> (its stat, the snapshot it names)


@contextlib.contextmanager
def _cursor(path: Path, snapshot: _Snapshot) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on an acquired snapshot, released with the cursor."""
    try:
        cursor = snapshot.con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
    finally:
        _release(path, snapshot)


def _acquire(path: Path) -> _Snapshot:
    """The open connection on snapshot `path` (opened if needed), counted as used by one more cursor."""
    with _OPEN_LOCK:
        opened = _OPEN.setdefault(path.parent, {})
        snapshot = opened.get(path)
        if snapshot is None:
            snapshot = opened[path] = _Snapshot(duckdb.connect(str(path), read_only=True))
        snapshot.cursors += 1
        _close_unused(opened)
        return snapshot


def _release(path: Path, snapshot: _Snapshot) -> None:
    with _OPEN_LOCK:
        snapshot.cursors -= 1
        _close_unused(_OPEN[path.parent])


def _close_unused(opened: dict[Path, _Snapshot]) -> None:
    """Close every snapshot but the newest once no cursor on it is alive."""
    newest = max(opened, key=_number)
    for path in [p for p, snapshot in opened.items() if p != newest and snapshot.cursors == 0]:
        opened.pop(path).con.close()


_TURNS = threading.local()  # the lock files this thread holds


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """The publishers' turn (`config.locks.exclusive`: the kernel releases it when its holder dies)."""
    lock = lock.resolve()
    with _one_turn_per_thread(str(lock), str(lock.parent)), exclusive(lock):
        yield


@contextlib.contextmanager
def _one_turn_per_thread(key: str, where: str) -> Iterator[None]:
    """Taken again by the thread that holds it, a turn would wait for itself forever: that is an error instead."""
    held: set[str] = _TURNS.__dict__.setdefault("held", set())
    if key in held:
        raise CatalogError(f"this thread already has the publisher's turn on {where}: publish through it")
    held.add(key)
    try:
        yield
    finally:
        held.discard(key)


def _writing_name(folder: Path, number: int) -> Path:
    return folder / f".catalog-{number}.{os.getpid()}.{uuid.uuid4().hex}{_WRITING}"


@contextlib.contextmanager
def _written(current: Path | None, writing: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A copy of `current` (or a new catalog) at `writing`, open in one transaction for the block, then committed,
    checkpointed and closed (so it has no `.wal`)."""
    if current is not None:
        shutil.copyfile(current, writing)
    con = duckdb.connect(str(writing))
    try:
        migrate(con)
        con.execute("BEGIN TRANSACTION")
        yield con
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _remove_leftovers(folder: Path, current: Path | None) -> None:
    """Remove what publishers that died during their turn left: snapshots being written or written but never
    published, pointers being written, and any `.wal` beside a snapshot (a snapshot is closed before it is
    renamed and never written after, so a `.wal` there is a dead writer's, which the next opener would replay).

    Called inside the turn, so no live publisher owns any of these files.
    """
    newest = _number(current) if current is not None else 0
    for path in folder.iterdir():
        name = path.name.removesuffix(".wal")
        snapshot = _SNAPSHOT.match(name)
        if name.endswith(_LEFTOVER) or (snapshot and (path.name != name or int(snapshot.group(1)) > newest)):
            path.unlink(missing_ok=True)


_OWNED = re.compile(r"\.(\d+)[.-][0-9a-f]+\.(writing|partial)$")  # pid in a copy being written or downloaded


def _prune_cache(folder: Path, newest: int) -> None:
    """This machine's cache of a catalog on object storage: drop snapshots `KEEP_SNAPSHOTS` or more older than
    `newest` (open ones stay readable until closed), and copies left by processes of this machine that died while
    writing or downloading one (the cache is this machine's alone, so its process ids say who is alive)."""
    for path in folder.iterdir() if folder.is_dir() else ():
        owner = _OWNED.search(path.name.removesuffix(".wal"))
        if owner is not None:
            if not alive(int(owner.group(1))):
                path.unlink(missing_ok=True)
        elif newest and 0 < _number(path) <= newest - KEEP_SNAPSHOTS:
            path.unlink(missing_ok=True)


def _remove_database(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def _number(path: Path) -> int:
    return snapshot_number(path.name)


def _write_pointer(pointer: Path, name: str) -> None:
    partial = pointer.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(name + "\n", encoding="utf-8")
    partial.replace(pointer)
