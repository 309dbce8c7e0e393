"""A small JSON state file shared by the server's threads and processes: read cached by its stat, changed in a turn.

Changes go through `config.locks.exclusive` (read, change, commit) and `config.commit.commit_bytes` (a reader sees
the old file or the new one): the two interfaces that move when the data root moves to object storage.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config.commit import commit_bytes
from config.locks import exclusive


class JsonState:
    def __init__(self, path: Path, private: bool = False) -> None:
        self.path = path
        self.private = private  # credentials: readable by the owner only
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int] | None, Any] = (None, None)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def read(self, empty: Callable[[], Any]) -> Any:
        """The current content (a fresh `empty()` when there is no file yet); cached until the file changes."""
        with self._lock:
            stamp = self._stamp()
            if stamp is not None and stamp == self._cached[0]:
                return self._cached[1]
            value = json.loads(self.path.read_bytes()) if stamp is not None else empty()
            self._cached = (stamp, value)
            return value

    @contextmanager
    def change(self, empty: Callable[[], Any]) -> Iterator[Any]:
        """The content to change in place; committed when the block completes, untouched if it raises."""
        with exclusive(self.path.with_name(f".{self.path.name}.lock")):
            value = json.loads(self.path.read_bytes()) if self.path.exists() else empty()
            yield value
            data = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode()
            commit_bytes(self.path, data)
            if self.private:
                os.chmod(self.path, 0o600)
            with self._lock:
                self._cached = (None, None)
