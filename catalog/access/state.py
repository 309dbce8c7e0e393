"""A small JSON state file shared by the server's threads and processes: read cached, changed in a turn.

The file is a record of the data root's store (`config.layout.Layout`; a folder of this machine when no layout is
given), so several web servers over one data root on object storage share it. Changes take a turn on the store
(`config.locks.turn`: a `flock` on a folder, a lease on object storage), read the record, change it and commit it
(a reader sees the old content or the new). Reads are cached: on a folder until the file's mtime or size changes;
on object storage for at most `REMOTE_FRESH` seconds, so a change made through another server is seen within that
time (one made through this process at once).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config.errors import StorageError
from config.layout import Layout
from config.locks import turn

REMOTE_FRESH = 1.0  # seconds a read from object storage is reused


class JsonState:
    def __init__(self, path: Path, private: bool = False, layout: Layout | None = None) -> None:
        self.path = path
        self.private = private  # credentials: readable by the owner only
        self.layout = layout or Layout(path.parent)
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int] | None, Any] = (None, None)

    def _stamp(self) -> tuple[int, int] | None:
        """What names the content read last: the file's mtime and size (None: no file), on object storage the
        `REMOTE_FRESH` period it was read in."""
        if self.layout.remote:
            return int(time.monotonic() / REMOTE_FRESH), -1
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _load(self, empty: Callable[[], Any]) -> Any:
        text = self.layout.read_text(self.path)
        return json.loads(text) if text is not None else empty()

    def read(self, empty: Callable[[], Any]) -> Any:
        """The current content (a fresh `empty()` when there is no file yet); cached until the file changes."""
        with self._lock:
            stamp = self._stamp()
            if stamp is not None and stamp == self._cached[0]:
                return self._cached[1]
            value = self._load(empty)
            self._cached = (stamp, value)
            return value

    @contextmanager
    def change(self, empty: Callable[[], Any]) -> Iterator[Any]:
        """The content to change in place; committed when the block completes, untouched if it raises."""
        lock = self.layout.name(self.path.with_name(f".{self.path.name}.lock"))
        with turn(self.layout.store, lock) as lease:
            value = self._load(empty)
            yield value
            if lease is not None and lease.lost.is_set():
                raise StorageError(f"{self.layout.store.url(lock)}: the turn was lost before the change; try again")
            self.layout.commit_text(self.path, json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True))
            if self.private and not self.layout.remote:
                os.chmod(self.path, 0o600)
            with self._lock:
                self._cached = (None, None)
