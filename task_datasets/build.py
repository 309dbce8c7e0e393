"""Build a task dataset version from its spec: `build(spec_path, layout) -> BuildResult`.

Reads the named releases through one catalog snapshot (refusing partitions the gate failed), cuts examples
(windows, sequences or records), labels them with provenance and precedence, splits them without leakage
(refusing a spec that would leak), writes deterministic Parquet per split, the manifest, the baseline, the
documents (datasheet, Croissant), commits the version in the dataset's turn (`task_datasets.versions`: one rename on
a folder, create-only uploads with the manifest last on object storage) and registers it in the catalog. Unchanged
inputs, spec and code: no new version, the latest is returned (`new=False`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from catalog.store import CatalogStore
from config.layout import Layout
from config.locks import turn
from task_datasets import manifest as files
from task_datasets import registry, splits, versions
from task_datasets.compose import code_version, compose_manifest, document_facts
from task_datasets.examples import KEY, Inputs, examples
from task_datasets.inputs import LABELS_PREFIX, resolve
from task_datasets.spec import TaskSpec, load_spec, spec_sha256


@dataclass(frozen=True)
class BuildResult:
    name: str
    version: int
    folder: Path
    new: bool
    content_sha256: str


def build(spec_path: Path, layout: Layout, run_id: str = "cli") -> BuildResult:
    spec = load_spec(spec_path)
    store = CatalogStore.of(layout)
    inputs = _resolve(spec, store, layout)
    frame, roles = examples(spec, inputs)
    assigned = splits.assign_splits(frame, spec.splits)
    splits.check_disjoint(assigned, spec.splits, KEY)
    folder = versions.dataset_dir(layout, spec.name)
    spec_sha = spec_sha256(spec_path)
    lock = layout.name(versions.lock_file(layout, spec.name))
    with turn(layout.store, lock):  # staging, numbering and commit: one build at a time, on every machine
        versions.remove_leftovers(layout, spec.name)
        numbers = versions.version_numbers(layout, spec.name)  # listed once: nothing else commits during the turn
        _register_missing(layout, store, spec.name, numbers)
        staging = versions.staging_dir(layout, spec.name)
        try:
            entries = _write_data(staging, assigned, roles)
            content = files.content_sha256(entries)
            same = versions.same_as_latest(layout, spec.name, numbers, content, spec_sha, code_version())
            if same is not None:
                return BuildResult(spec.name, same, folder / f"v{same}", new=False, content_sha256=content)
            number = max([0, *numbers, *registry.registered_versions(store, spec.name)]) + 1
            manifest = compose_manifest(spec, spec_sha, number, entries, content, assigned, roles, inputs)
            (staging / files.MANIFEST).write_text(files.dumps(manifest), encoding="utf-8")
            from task_datasets.documents import write_documents

            write_documents(staging, manifest, document_facts(spec, assigned))
            target = folder / f"v{number}"
            versions.promote(layout, staging, target)
            registry.register_version(store, layout, target, manifest, run_id)
            return BuildResult(spec.name, number, target, new=True, content_sha256=content)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _write_data(staging: Path, frame: pl.DataFrame, roles: dict[str, str]) -> list[dict[str, Any]]:
    entries = []
    for name in splits.SPLITS:
        part = frame.filter(pl.col(splits.SPLIT) == name).drop(splits.SPLIT).sort(KEY)
        if part.is_empty():
            continue
        entries.append(files.write_split(staging / "data" / f"{name}.parquet", part))
    return entries


def _resolve(spec: TaskSpec, store: CatalogStore, layout: Layout) -> Inputs:
    sources = {key: resolve(store, layout, ref.dataset, ref.version) for key, ref in spec.sources.items()}
    projects = {}
    if spec.labels is not None and spec.labels.expert_consensus is not None:
        consensus = spec.labels.expert_consensus
        projects[consensus.project] = resolve(store, layout, LABELS_PREFIX + consensus.project, consensus.version)
    return Inputs(sources, projects)


def _register_missing(layout: Layout, store: CatalogStore, name: str, numbers: list[int]) -> None:
    """Register versions committed by a build whose catalog registration failed (the folder came first)."""
    known = registry.registered_versions(store, name)
    for number in numbers:
        if number not in known:
            folder = versions.dataset_dir(layout, name) / f"v{number}"
            manifest = files.read_manifest(layout, folder)
            registry.register_version(store, layout, folder, manifest, "recovered")
