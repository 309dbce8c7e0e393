"""The access log: every view, search, download, refusal, sign-in, access request and decision in the web catalog,
append only, as a hash chain like the catalog's own audit log (publications and overrides, `catalog.audit`).

Appends come from every request of the server, so they cannot each publish a catalog snapshot. On a folder the log
is a JSON lines file (`access/audit.jsonl`), appended in a turn (`config.locks.exclusive`), each entry carrying the
hash of the one before. Object storage has no append: there each entry is an object of the data root's store
(`access/audit/<seq>.json`), created only if its number is free, so the web servers of several machines write one
chain (a server that finds its number taken reads that entry and chains after it). `verify` names the first broken
link (or missing entry). Each process keeps what it has read, and reads on from where it stopped; on object storage
a new process reads the entries one by one, one request each, the first time it needs them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.audit import GENESIS, ChainReport, entry_hash, verify_rows
from config.layout import Layout
from config.locks import exclusive


@dataclass(frozen=True)
class Entry:
    seq: int
    happened_at: datetime
    actor: str
    action: str
    dataset: str | None
    version: int | None
    detail: str | None
    prev_hash: str
    hash: str

    def row(self) -> tuple[Any, ...]:
        return (self.seq, self.happened_at, self.actor, self.action, self.dataset, self.version, self.detail,
                self.prev_hash, self.hash)  # fmt: skip


def _entry(line: bytes) -> Entry:
    raw = json.loads(line)
    return Entry(**{**raw, "happened_at": datetime.fromisoformat(raw["happened_at"])})


def _line(entry: Entry) -> bytes:
    return json.dumps({**entry.__dict__, "happened_at": entry.happened_at.isoformat()}, ensure_ascii=False,
                      separators=(",", ":")).encode()  # fmt: skip


class AccessLog:
    def __init__(self, folder: Path, layout: Layout | None = None) -> None:
        """`folder`: the web catalog's state (`layout.access()`); `layout`: the data root's (a folder of this machine
        when None), whose store holds the entries when it is object storage."""
        self.path = folder / "audit.jsonl"
        self.layout = layout or Layout(folder)
        self.objects = folder / "audit"  # on object storage: one object per entry
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._offset = 0

    def _object(self, seq: int) -> str:
        return self.layout.name(self.objects / f"{seq:012d}.json")

    def _read_on(self) -> None:
        """Read the entries appended since this process last looked (call with `_lock` held)."""
        if self.layout.remote:
            while True:
                try:
                    data = self.layout.store.read_bytes(self._object(len(self._entries) + 1))
                except FileNotFoundError:
                    return
                self._entries.append(_entry(data))
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return
        complete = data[: data.rfind(b"\n") + 1]  # a line being written by another process is read next time
        for line in complete.splitlines():
            if line.strip():
                self._entries.append(_entry(line))
        self._offset += len(complete)

    def append(self, actor: str, action: str, dataset: str | None = None, version: int | None = None,
               detail: dict[str, Any] | str | None = None) -> Entry:  # fmt: skip
        """Write one entry after the newest, chained to it; returns it once it is in the file."""
        text = detail if isinstance(detail, str) or detail is None else json.dumps(detail, ensure_ascii=False)
        if self.layout.remote:
            with self._lock:
                while True:  # a number another server took: read its entry, chain after it
                    self._read_on()
                    entry = self._next(actor, action, dataset, version, text)
                    if self.layout.store.create(self._object(entry.seq), _line(entry)) is not None:
                        self._entries.append(entry)
                        return entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, exclusive(self.path.with_name(".audit.jsonl.lock")):
            self._read_on()
            entry = self._next(actor, action, dataset, version, text)
            with open(self.path, "ab") as handle:
                handle.write(_line(entry) + b"\n")
            self._read_on()
            return entry

    def _next(self, actor: str, action: str, dataset: str | None, version: int | None, text: str | None) -> Entry:
        """The entry after the newest this process has read, chained to it."""
        last = self._entries[-1] if self._entries else None
        seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
        now = datetime.now(UTC)
        digest = entry_hash(seq, now, actor, action, dataset, version, text, prev)
        return Entry(seq, now, actor, action, dataset, version, text, prev, digest)

    def entries(self) -> Sequence[Entry]:
        """Every entry, oldest first."""
        with self._lock:
            self._read_on()
            return list(self._entries)

    def verify(self) -> ChainReport:
        """Walk the whole log as it is now (not this process's memory of it) and name the first broken link."""
        if self.layout.remote:
            names = [n for n in self.layout.names(self.objects) if n.endswith(".json")]
            where = [self.layout.store.url(self.layout.name(self.objects / n)) for n in names]
            lines = [self.layout.store.read_bytes(self.layout.name(self.objects / n)) for n in names]
        else:
            try:
                lines = [line for line in self.path.read_bytes().splitlines() if line.strip()]
            except FileNotFoundError:
                return ChainReport(0, None, None)
            where = [f"line {number} of {self.path}" for number in range(1, len(lines) + 1)]
        rows: list[tuple[Any, ...]] = []
        for number, line in enumerate(lines, start=1):
            try:
                rows.append(_entry(line).row())
            except (ValueError, TypeError, KeyError) as error:
                return ChainReport(len(lines), number, f"{where[number - 1]} is not an entry: {error}")
        return verify_rows(rows)
