"""Where the catalog lives and how readers and the publisher share it.

DuckDB lets one process write a database file, and while it does no other process can open it, not even
to read. So the catalog is a series of snapshot files `catalog/catalog-<n>.duckdb` and a pointer file
`catalog/CURRENT` naming the newest. A publication copies the current snapshot, writes into the copy in
one transaction, checkpoints it, and only then moves the pointer (`os.replace`, atomic). Readers open the
snapshot the pointer names, read-only: they never wait for a lock and never see half a publication.
Publishers take turns through an exclusive file lock. Old snapshots are removed once unused by new readers
(an open reader keeps reading its file: on POSIX a removed file lives until its last handle closes).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from catalog.errors import NoCatalogError
from catalog.schema import migrate

KEEP_SNAPSHOTS = 3
_SNAPSHOT = re.compile(r"^catalog-(\d+)\.duckdb$")


@dataclass(frozen=True)
class CatalogStore:
    folder: Path

    @property
    def pointer(self) -> Path:
        return self.folder / "CURRENT"

    def current(self) -> Path | None:
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return self.folder / name

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only cursor on the newest complete snapshot.

        Opening a snapshot costs tens of milliseconds at 10,000 datasets, so this process keeps the current
        snapshot open and hands out cursors (cheap, one per call, safe across threads); when the pointer moves
        on, the old snapshot is closed and the new one opened.
        """
        path = self.current()
        if path is None:
            raise NoCatalogError(str(self.folder))
        cursor = _open_snapshot(path).cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @contextlib.contextmanager
    def publication(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writable copy of the catalog; it becomes current only if the block completes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".publisher.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.current()
            number = _number(current) + 1 if current is not None else 1
            target = self.folder / f"catalog-{number}.duckdb"
            partial = target.with_suffix(".partial")
            if current is not None:
                shutil.copyfile(current, partial)
            else:
                partial.unlink(missing_ok=True)
            con = duckdb.connect(str(partial))
            try:
                migrate(con)
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            except BaseException:
                con.close()
                partial.unlink(missing_ok=True)
                raise
            con.close()
            partial.replace(target)
            _write_pointer(self.pointer, target.name)
            self._prune(number)

    def _prune(self, newest: int) -> None:
        for path in self.folder.glob("catalog-*.duckdb"):
            if _number(path) <= newest - KEEP_SNAPSHOTS:
                path.unlink(missing_ok=True)


_SNAPSHOTS: dict[Path, tuple[Path, duckdb.DuckDBPyConnection]] = {}  # catalog folder -> open snapshot
_SNAPSHOTS_LOCK = threading.Lock()


def _open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    with _SNAPSHOTS_LOCK:
        opened = _SNAPSHOTS.get(path.parent)
        if opened is not None and opened[0] == path:
            return opened[1]
        if opened is not None:
            opened[1].close()
        con = duckdb.connect(str(path), read_only=True)
        _SNAPSHOTS[path.parent] = (path, con)
        return con


def _number(path: Path) -> int:
    match = _SNAPSHOT.match(path.name)
    return int(match.group(1)) if match else 0


def _write_pointer(pointer: Path, name: str) -> None:
    partial = pointer.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(name + "\n", encoding="utf-8")
    partial.replace(pointer)
