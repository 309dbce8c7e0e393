"""Immutable versions under `datasets/<name>/v<n>/`: numbered in a lock, committed by one rename.

A build takes the dataset's lock (`config.locks`), stages its folder under a run-unique name (`.v-<run>.partial`),
picks the next number, writes the manifest and documents and renames the folder into place.
A crash leaves a `.partial` folder that the next build removes inside the lock; a version folder is never
written after its rename. Unchanged inputs: when the new data has the same `content_sha256` and spec as the
latest version, built by the same code, no version is added and the latest is returned (as catalog publications
do); a new spec or code with the same data gives a new version with the same `content_sha256`.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from config.layout import Layout
from task_datasets.errors import UnknownDatasetError
from task_datasets.manifest import read_manifest

_VERSION = re.compile(r"^v(\d+)$")
PARTIAL = ".partial"


def dataset_dir(layout: Layout, name: str) -> Path:
    return layout.task_datasets() / name


def lock_file(layout: Layout, name: str) -> Path:
    return dataset_dir(layout, name) / ".build.lock"


def version_numbers(layout: Layout, name: str) -> list[int]:
    folder = dataset_dir(layout, name)
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _VERSION.match(p.name)) and p.is_dir())


def version_dir(layout: Layout, name: str, version: int | None = None) -> Path:
    """The folder of `version` (the latest if None); UnknownDatasetError if there is none."""
    numbers = version_numbers(layout, name)
    chosen = version if version is not None else (numbers[-1] if numbers else None)
    if chosen is None or chosen not in numbers:
        raise UnknownDatasetError(name, version)
    return dataset_dir(layout, name) / f"v{chosen}"


def names(layout: Layout) -> list[str]:
    root = layout.task_datasets()
    return (
        sorted(p.name for p in root.iterdir() if p.is_dir() and version_numbers(layout, p.name))
        if root.is_dir()
        else []
    )


def remove_leftovers(layout: Layout, name: str) -> None:
    """Staging folders of builds that died (called inside the lock, before staging: none of them is alive)."""
    for path in dataset_dir(layout, name).glob(f".*{PARTIAL}"):
        shutil.rmtree(path, ignore_errors=True)


def same_as_latest(layout: Layout, name: str, content: str, spec_sha: str, code: str) -> int | None:
    """The latest version's number if its data, spec and code are those of this build."""
    numbers = version_numbers(layout, name)
    if not numbers:
        return None
    latest = read_manifest(dataset_dir(layout, name) / f"v{numbers[-1]}")
    if (latest.get("content_sha256"), latest.get("spec_sha256"), latest.get("code_version")) == (
        content,
        spec_sha,
        code,
    ):
        return numbers[-1]
    return None


def promote(staging: Path, target: Path) -> None:
    """Rename the staged folder into place; never over an existing version."""
    if target.exists():
        raise FileExistsError(f"{target} exists: versions are never overwritten")
    os.replace(staging, target)
