"""Taking turns across machines: a lease object on the shared store, the object-storage version of a `flock`.

A lease is a small JSON object naming its holder and when it expires. It is taken by creating the object only
if absent (a conditional write: one of any number of racers wins), renewed while held by replacing it only if it
still has the tag the holder wrote, and given back by writing an expired record the same way. A holder that dies
stops renewing, so its lease expires and the next taker replaces it, again only if it still has the tag it read:
a dead holder never blocks forever, and two takers of one expired lease cannot both win.

Expiry is judged by the taker's clock against the time the holder wrote, so machines' clocks must agree to well
within the lease's time to live (NTP does). A holder that stalls longer than that (a paused VM) can lose its
lease without knowing until its next renewal: `Lease.lost` says so, and what the turn protects must still be
written conditionally (the catalog's pointer is), so a late holder fails instead of overwriting.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from config.errors import StorageError
from config.storage import Storage, Tagged

DEFAULT_TTL = 30.0  # seconds; renewed every third of it


class LeaseTimeoutError(StorageError):
    retryable = True


def holder_name() -> str:
    """Who holds a lease: machine, process and a run-unique token (a restarted process is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Lease:
    """One holder's claim on the lease object `name` of `storage`."""

    storage: Storage
    name: str
    ttl: float = DEFAULT_TTL
    holder: str = field(default_factory=holder_name)
    tag: str | None = None
    lost: threading.Event = field(default_factory=threading.Event)

    def record(self, ttl: float) -> bytes:
        return json.dumps({"holder": self.holder, "expires": time.time() + ttl, "ttl": self.ttl}).encode()

    def try_take(self) -> bool:
        """Take the lease if it is free, expired or given back; False if someone holds it."""
        tag = self.storage.create(self.name, self.record(self.ttl))
        if tag is None:
            found = self.storage.read_tagged(self.name)
            if found is None:  # given back and removed meanwhile: try again at once
                return self.try_take()
            if not _expired(found):
                return False
            tag = self.storage.swap(self.name, self.record(self.ttl), found.tag)
            if tag is None:  # another taker replaced it first
                return False
        self.tag = tag
        self.lost.clear()
        return True

    def renew(self) -> bool:
        """Push the expiry forward; False (and `lost` set) if the lease is no longer this holder's."""
        assert self.tag is not None, "renew a lease only while holding it"
        tag = self.storage.swap(self.name, self.record(self.ttl), self.tag)
        if tag is None:
            self.lost.set()
            return False
        self.tag = tag
        return True

    def release(self) -> None:
        """Give the lease back by writing an expired record, only if it is still this holder's."""
        if self.tag is not None and not self.lost.is_set():
            self.storage.swap(self.name, self.record(-1.0), self.tag)
        self.tag = None

    @contextmanager
    def held(self, wait: float | None = None) -> Iterator[Lease]:
        """Hold the lease for the block, renewed on a thread of its own; wait for it at most `wait` seconds
        (None: until it is free or expires, which a dead holder's does)."""
        deadline = None if wait is None else time.monotonic() + wait
        pause = min(0.05, self.ttl / 20)
        while not self.try_take():
            if deadline is not None and time.monotonic() > deadline:
                raise LeaseTimeoutError(
                    f"{self.storage.url(self.name)}: still held by another process after {wait:.0f} s; "
                    "try again later (a dead holder's lease expires by itself)"
                )
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 1.0, self.ttl / 4)
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew_until, args=(stop,), daemon=True, name=f"lease {self.name}")
        renewer.start()
        try:
            yield self
        finally:
            stop.set()
            renewer.join()
            self.release()

    def _renew_until(self, stop: threading.Event) -> None:
        """Renew every third of the lease's time to live; a failed request is tried again until the lease would
        have expired, and then it counts as lost."""
        renewed = time.monotonic()
        while not stop.wait(self.ttl / 3):
            try:
                if not self.renew():
                    return
                renewed = time.monotonic()
            except OSError:
                if time.monotonic() - renewed > self.ttl:
                    self.lost.set()
                    return


def _expired(found: Tagged) -> bool:
    try:
        expires = float(json.loads(found.data)["expires"])
    except (ValueError, KeyError, TypeError):
        return True  # not a lease record: nobody can be holding it
    return expires < time.time()
