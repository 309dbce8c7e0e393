"""The gate's published files: each gated partition's file and the rows the gate took out of it.

A gated partition is one file, `gated/<source>/<part>=<key>/part-<sha>.parquet`; the rows the gate removed are
`quarantine/<source>/<part>=<key>/gate-<sha>.parquet`. A name is a hash of the file's bytes, so a name never holds
other bytes (a machine's cached copy is always right, on object storage too), and the same rows gated again, on
any machine or by two runs side by side, keep the same name. Which file is current is recorded per partition
folder in `.gate.json`, committed after the new file is published and before the old one goes: a reader listing
the folder while the gate replaces its file still takes exactly one.

Readers call `gated_files` (every current gated file of a source), `gated_partitions` and `gate_quarantine_files`:
local paths, fetched from the store when the data root is on object storage.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from pathlib import Path, PurePosixPath

from config.errors import StorageError
from config.layout import Layout, partition_dir

RECORD = ".gate.json"
GATED, GATE_QUARANTINE = "part", "gate"  # the name prefixes of the gate's files in the gated and quarantine layers
DIGEST_CHARS = 16
CONTENT_NAMED = re.compile(rf"{GATED}-[0-9a-f]{{{DIGEST_CHARS}}}\.parquet")  # a gated file named by its bytes' hash


def put(layout: Layout, local: Path, folder: Path, prefix: str) -> str:
    """Publish the finished file `local` in `folder` under its content name (`<prefix>-<sha>.parquet`); return the
    name. The same bytes published before (here or by another run) are left as they are."""
    with open(local, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()[:DIGEST_CHARS]
    name = f"{prefix}-{digest}.parquet"
    target = folder / name
    try:
        if name not in layout.names(folder):
            layout.publish(local, target)
    except StorageError:
        if name not in layout.names(folder):  # else another run published the same bytes meanwhile: ours too
            raise
    if local.exists() and not target.exists():  # published before: these bytes are this machine's cached copy
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(local, target)
    local.unlink(missing_ok=True)
    return name


def make_current(layout: Layout, folder: Path, prefix: str, name: str | None) -> None:
    """Record `name` (None: no file) as the current file of `folder`, then remove the other `<prefix>-*` files."""
    if name is None and not any(_is(n, prefix) for n in layout.names(folder)):
        layout.remove(folder / RECORD)  # nothing to record: no folder made just for it
        return
    layout.commit_text(folder / RECORD, json.dumps({"file": name}) + "\n")
    current = _recorded(layout, folder)  # a run that committed after us wins: keep what the record names now
    for stale in layout.names(folder):
        if _is(stale, prefix) and stale != current:
            layout.remove(folder / stale)


def remove_all(layout: Layout, folder: Path, prefix: str) -> None:
    """Unpublish every `<prefix>-*` file of `folder` and its record."""
    for stale in layout.names(folder):
        if _is(stale, prefix):
            layout.remove(folder / stale)
    layout.remove(folder / RECORD)


def gated_partitions(layout: Layout, source: str) -> list[str]:
    """The partition folders (`day=2024-03-30`) of `source` with a gated file, from the store."""
    return sorted(_current_by_folder(layout, layout.gated(source), GATED))


def gated_names(layout: Layout, source: str) -> list[str]:
    """The current gated file of every partition of `source` (`day=2024-03-30/part-<sha>.parquet`, sorted by
    partition), from the store's listing and records, without reading the files."""
    current = _current_by_folder(layout, layout.gated(source), GATED)
    return [f"{folder}/{name}" for folder in sorted(current) for name in current[folder]]


def gated_files(layout: Layout, source: str) -> list[Path]:
    """The current gated file of every partition of `source`, as local paths to read (sorted by partition)."""
    base = layout.gated(source)
    return [layout.fetch(base / name) for name in gated_names(layout, source)]


def gate_quarantine_files(layout: Layout, source: str, partitioning: str, key: str) -> list[Path]:
    """The rows the gate took out of one partition (zero or one file), as local paths to read."""
    folder = partition_dir(layout.quarantine(source), partitioning, key)
    names = [n for n in layout.names(folder) if _is(n, GATE_QUARANTINE)]
    return [layout.fetch(folder / n) for n in _current(layout, folder, names)]


def _current_by_folder(layout: Layout, base: Path, prefix: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for name in layout.walk(base):
        path = PurePosixPath(name)
        if len(path.parts) == 2 and _is(path.name, prefix):
            found[path.parts[0]].append(path.name)
    chosen = {folder: _current(layout, base / folder, names) for folder, names in found.items()}
    return {folder: names for folder, names in chosen.items() if names}


def _current(layout: Layout, folder: Path, names: list[str]) -> list[str]:
    """Of the files listed in a partition folder, those to read: the one its record names while the gate replaces
    it (two are listed), else what is there (a folder gated before records existed holds `part-0.parquet`)."""
    if len(names) <= 1:
        return names
    recorded = _recorded(layout, folder)
    return [recorded] if recorded in names else sorted(names)


def _recorded(layout: Layout, folder: Path) -> str | None:
    text = layout.read_text(folder / RECORD)
    if text is None:
        return None
    try:
        name = json.loads(text).get("file")
    except (ValueError, AttributeError):
        return None
    return str(name) if name else None


def _is(name: str, prefix: str) -> bool:
    return name.startswith(f"{prefix}-") and name.endswith(".parquet")
