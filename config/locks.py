"""Taking turns on a shared store: the one place plantdata locks anything.

On a folder of this machine a turn is an exclusive `flock` on a file beside the store (the kernel releases it when
its holder dies, so a killed run never leaves a stale lock). On object storage, shared by several machines, a turn
is a lease object (`config.lease`): taken by a conditional write, renewed while held, taken over once expired, so
a dead holder never blocks for longer than the lease's time to live.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.lease import Lease
    from config.storage import Storage


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


@contextmanager
def turn(storage: Storage, name: str, ttl: float | None = None) -> Iterator[Lease | None]:
    """Hold the turn named `name` on `storage` until the block ends: a `flock` on a local folder (yields None), a
    lease on object storage (yields it: check `Lease.lost` before a write that must happen within the turn)."""
    from config.lease import DEFAULT_TTL, Lease
    from config.storage import LocalStorage

    if isinstance(storage, LocalStorage):
        with exclusive(storage.path(name)):
            yield None
    else:
        with Lease(storage, name, ttl or DEFAULT_TTL).held() as lease:
            yield lease
