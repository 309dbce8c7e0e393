"""The Great Expectations project on the data root's store.

GX works on a local folder (a FileDataContext). On a folder data root that folder is `layout.gx()`, the project
itself, and nothing here does anything. On object storage `layout.gx()` is this machine's working copy: the judge
brings it up to date from the store when it takes the project's turn (`pull`) and publishes it back before it gives
the turn back (`push`), so suites, validation results and the Data Docs site are the same for every machine.

The project's files change (GX rewrites its pages at each build), so they are mutable records: which files the
project has is the record `gx/.plantdata-files.json` in the store (each file's size and time), read from the store
every time. A pull downloads the files whose size or time differ from the record, sets the recorded time, and
removes the files the record no longer lists (pruned validations); a push uploads what changed since the record
and deletes what went. Readers (the CLI, the web catalog) read a copy of their own (`published`), apart from the
judge's working copy, which a run on this machine may be rebuilding meanwhile.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from config.layout import Layout
from quality.data_docs import site_folder

RECORD = ".plantdata-files.json"
LOCK = ".plantdata.lock"
GATE_DATABASE = "plantdata-gate"  # `uncommitted/plantdata-gate-<session>.duckdb`: one run's views (quality.gx_assert)
LOCAL_ONLY = (f"uncommitted/{GATE_DATABASE}",)  # those files (and their WALs) are never published
SITE = "uncommitted/data_docs/"
EXPECTATIONS = "expectations/"


def lock_name(layout: Layout) -> str:
    """The store's name of the project's turn (a flock on a folder, a lease on object storage)."""
    return layout.name(layout.gx() / LOCK)


def push(layout: Layout) -> None:
    """Publish the working copy: upload what changed since the record, commit the record, delete what went."""
    if not layout.remote:
        return
    root = layout.gx()
    known = _record(layout) or {}
    files = _files(root)
    for name, stamp in files.items():
        if known.get(name) != stamp:
            layout.store.upload(root / name, layout.name(root / name))
    layout.commit_text(root / RECORD, json.dumps(files, indent=0, sort_keys=True))
    for name in sorted(known.keys() - files.keys()):
        layout.store.delete(layout.name(root / name))


def pull(layout: Layout, into: Path, under: str = "") -> None:
    """Make the folder `into` hold the published project's files below `under` (`""`: all of it), as the record
    lists them. Nothing before the first push."""
    if not layout.remote:
        return
    record = _record(layout)
    if record is None:
        return
    wanted = {name: stamp for name, stamp in record.items() if name.startswith(under)}
    for name, (size, mtime_ns) in wanted.items():
        local = into / name
        if _stamp(local) != [size, mtime_ns]:
            layout.store.download(layout.name(layout.gx() / name), local)
            os.utime(local, ns=(mtime_ns, mtime_ns))
    for name in _files(into).keys() - wanted.keys():
        if name.startswith(under):
            (into / name).unlink(missing_ok=True)


def published(layout: Layout, under: str = "") -> Path:
    """A GX project folder to read the published files below `under` from: the project itself on a folder; on
    object storage this machine's reader copy, brought up to date from the store first."""
    if not layout.remote:
        return layout.gx()
    copy = layout.scratch() / "gx-published"
    pull(layout, copy, under)
    return copy


def site(layout: Layout) -> Path:
    """The Data Docs site folder to serve or open (see `published`)."""
    return site_folder(published(layout, SITE))


def _record(layout: Layout) -> dict[str, list[int]] | None:
    text = layout.read_text(layout.gx() / RECORD)
    return None if text is None else dict(json.loads(text))


def _files(root: Path) -> dict[str, list[int]]:
    """The project's files below `root` with their size and time: not hidden ones (locks, partial writes, this
    record), not the gate's local DuckDB file."""
    found = {}
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        name = path.relative_to(root).as_posix()
        if path.name.startswith(".") or name.startswith(LOCAL_ONLY) or not path.is_file():
            continue
        stamp = _stamp(path)
        if stamp is not None:
            found[name] = stamp
    return found


def _stamp(path: Path) -> list[int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return [status.st_size, status.st_mtime_ns]
