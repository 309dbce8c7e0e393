"""Immutable versions under `datasets/<name>/v<n>/`: numbered in a turn, committed by the manifest.

A build takes the dataset's turn (`config.locks.turn` on the data root's store: a `flock` on a folder, a lease on
object storage), stages the version under a run-unique name (`.v-<run>.partial`), picks the next number, writes the
manifest and documents and commits the version:
- on a folder, the staging folder sits beside the versions and one rename puts it in place;
- on object storage, it is staged in this machine's scratch and each file is published under its final name
  (create-only), the manifest last: a version is the `v<n>/` whose `manifest.json` the store has.
A crash leaves a `.partial` folder (or, on object storage, files of a version without a manifest) that the next
build removes in its turn; a version is never written after it is committed. The list of versions comes from the
store, so every machine sees the same ones. Unchanged inputs: when the new data has the same `content_sha256` and
spec as the latest version, built by the same code, no version is added and the latest is returned (as catalog
publications do); a new spec or code with the same data gives a new version with the same `content_sha256`.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from config.layout import Layout
from task_datasets.errors import UnknownDatasetError
from task_datasets.manifest import MANIFEST, read_manifest

_VERSION = re.compile(r"^v(\d+)$")
PARTIAL = ".partial"


def dataset_dir(layout: Layout, name: str) -> Path:
    return layout.task_datasets() / name


def lock_file(layout: Layout, name: str) -> Path:
    return dataset_dir(layout, name) / ".build.lock"


def _committed(names: list[str]) -> dict[str, set[int]]:
    """`<dataset>/v<n>/manifest.json` names (relative to the datasets folder) -> each dataset's committed numbers."""
    found: dict[str, set[int]] = {}
    for name in names:
        parts = name.split("/")
        if len(parts) == 3 and parts[2] == MANIFEST and (m := _VERSION.match(parts[1])):
            found.setdefault(parts[0], set()).add(int(m.group(1)))
    return found


def version_numbers(layout: Layout, name: str) -> list[int]:
    """The committed versions of `name` (those whose manifest is in the store), oldest first."""
    return sorted(_committed([f"{name}/{n}" for n in layout.walk(dataset_dir(layout, name))]).get(name, set()))


def version_dir(layout: Layout, name: str, version: int | None = None) -> Path:
    """The folder of `version` (the latest if None); UnknownDatasetError if there is none."""
    numbers = version_numbers(layout, name)
    chosen = version if version is not None else (numbers[-1] if numbers else None)
    if chosen is None or chosen not in numbers:
        raise UnknownDatasetError(name, version)
    return dataset_dir(layout, name) / f"v{chosen}"


def names(layout: Layout) -> list[str]:
    """Every task dataset with at least one committed version."""
    return sorted(_committed(layout.walk(layout.task_datasets())))


def files(layout: Layout, folder: Path) -> list[str]:
    """The files of a committed version, relative to its folder, from the store."""
    return layout.walk(folder)


def local_version(layout: Layout, folder: Path) -> Path:
    """`folder` with every file of the version on this machine (on object storage: downloaded once into the cache,
    as the readers, mlcroissant and the catalog's profiler read local files)."""
    for name in files(layout, folder):
        layout.fetch(folder / name)
    return folder


def staging_dir(layout: Layout, name: str) -> Path:
    """A new, run-unique folder to stage a version in: beside the versions on a folder (committed by a rename), in
    this machine's scratch on object storage (committed by uploads)."""
    return _staging_base(layout, name) / f".v-{uuid.uuid4().hex[:12]}{PARTIAL}"


def remove_leftovers(layout: Layout, name: str) -> None:
    """What builds that died left (called in the turn, before staging: none of them is alive): staging folders and,
    on object storage, files of a version whose manifest was never published."""
    for path in _staging_base(layout, name).glob(f".*{PARTIAL}"):
        shutil.rmtree(path, ignore_errors=True)
    if not layout.remote:
        return
    folder = dataset_dir(layout, name)
    listed = layout.walk(folder)
    committed = _committed([f"{name}/{n}" for n in listed]).get(name, set())
    for file in listed:
        match = _VERSION.match(file.partition("/")[0])
        if match and int(match.group(1)) not in committed:
            layout.remove(folder / file)


def same_as_latest(layout: Layout, name: str, numbers: list[int], content: str, spec_sha: str, code: str) -> int | None:
    """The latest of the committed versions `numbers` if its data, spec and code are those of this build."""
    if not numbers:
        return None
    latest = read_manifest(layout, dataset_dir(layout, name) / f"v{numbers[-1]}")
    if (latest.get("content_sha256"), latest.get("spec_sha256"), latest.get("code_version")) == (
        content,
        spec_sha,
        code,
    ):
        return numbers[-1]
    return None


def promote(layout: Layout, staging: Path, target: Path) -> None:
    """Commit the staged version at `target`; never over an existing version. On a folder one rename; on object
    storage every file is published create-only, the manifest last (until then the version does not exist)."""
    if not layout.remote:
        if target.exists():
            raise FileExistsError(f"{target} exists: versions are never overwritten")
        os.replace(staging, target)
        return
    staged = sorted((p for p in staging.rglob("*") if p.is_file()), key=lambda p: (p.name == MANIFEST, str(p)))
    for file in staged:
        layout.publish(file, target / file.relative_to(staging))


def _staging_base(layout: Layout, name: str) -> Path:
    return layout.scratch() / "datasets" / name if layout.remote else dataset_dir(layout, name)
