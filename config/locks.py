"""Taking turns on a shared store: the one place plantdata locks anything.

Today the stores are folders of one machine, so a turn is an exclusive `flock` on a file beside the store (the
kernel releases it when its holder dies, so a killed run never leaves a stale lock). When the data root moves to
object storage, this is the interface that changes (a conditional write, or a row in Postgres).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold the turn named by `lock` (created if missing) until the block ends."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
