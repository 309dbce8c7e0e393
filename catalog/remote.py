"""The catalog on object storage: immutable snapshot objects and a pointer moved by compare-and-swap.

A catalog folder on S3 holds `catalog-<n>.duckdb` objects and the pointer `CURRENT`, as a local one does, but
nothing there is renamed or locked. A snapshot object is created only if its name is free (a conditional write),
so a name always means one content and any machine may cache it by name. The pointer moves by a write that
succeeds only if the pointer still has the ETag the publisher read when it started (compare-and-swap): a
publisher that lost the race fails with `PublicationLostError` and removes its snapshot object, never overwriting
the winner's publication. A publisher killed half way leaves at most a snapshot object the pointer never named:
no reader opens it, the next publisher takes the next free number past it, and pruning removes it later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import CatalogError, PublicationLostError
from config.storage import Storage

SNAPSHOT = re.compile(r"^catalog-(\d+)\.duckdb$")
POINTER = "CURRENT"
LEASE = ".publisher.lease"
_NUMBERS_TRIED = 100  # free numbers looked for past leftovers of killed publishers


def snapshot_number(name: str) -> int:
    match = SNAPSHOT.match(name)
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class Pointer:
    """The snapshot the pointer names, and the pointer's tag (its ETag) when it was read."""

    name: str
    tag: str


@dataclass(frozen=True)
class RemoteCatalog:
    """A catalog folder on object storage (`storage`'s root is the folder)."""

    storage: Storage

    def pointer(self) -> Pointer | None:
        found = self.storage.read_tagged(POINTER)
        if found is None:
            return None
        name = found.data.decode("utf-8").strip()
        if not SNAPSHOT.match(name):
            raise CatalogError(f"{self.storage.url(POINTER)} names {name!r}, not a catalog snapshot")
        return Pointer(name, found.tag)

    def fetch(self, name: str, local: Path) -> None:
        """Download snapshot `name` to `local` (whole or not at all); FileNotFoundError if it was pruned."""
        self.storage.download(name, local)

    def publish(self, written: Path, number: int, expected: Pointer | None) -> Pointer:
        """Upload `written` as the first free snapshot number from `number`, then move the pointer to it if the
        pointer is still `expected` (absent if None). The new pointer, or PublicationLostError."""
        name = self._upload(written, number)
        pointer, data = POINTER, f"{name}\n".encode()
        try:
            if expected is None:
                tag = self.storage.create(pointer, data)
            else:
                tag = self.storage.swap(pointer, data, expected.tag)
        except OSError:  # the request may or may not have taken effect: the pointer says which
            tag = None
        if tag is None:
            now = self.pointer()
            if now is not None and now.name == name:  # ours after all (a retried request found its own write)
                return now
            self.storage.delete(name)
            raise PublicationLostError(
                f"another publisher moved {self.storage.url(pointer)} to {now.name if now else 'nothing'} "
                f"while this one wrote {name}; nothing of it is visible: publish again from the new snapshot"
            )
        return Pointer(name, tag)

    def prune(self, newest: int, keep: int) -> None:
        """Remove snapshot objects `keep` or more publications older than `newest`, including ones never published.
        Newer unpublished ones stay: a publisher may still be about to point at one (it will fail if it tries)."""
        for name in self.storage.list(""):
            number = snapshot_number(name)
            if number and number <= newest - keep:
                self.storage.delete(name)

    def _upload(self, written: Path, number: int) -> str:
        for candidate in range(number, number + _NUMBERS_TRIED):
            name = f"catalog-{candidate}.duckdb"
            if self.storage.upload(written, name, create_only=True):
                return name
        raise CatalogError(
            f"{self.storage.root}: catalog-{number}.duckdb to catalog-{candidate}.duckdb all exist beyond the "
            "pointer; remove the unpublished ones (numbers above the one CURRENT names)"
        )
