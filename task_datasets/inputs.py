"""The released inputs of a build: which version of each source and label project, read through the catalog.

Everything that decides a build (version numbers, release folders, partition hashes, grades, quality) is read
from one catalog snapshot, so a build never mixes two publications. Every partition a build reads must have
passed the gate's error-severity checks: a failed or never-judged partition refuses the build (fail closed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from catalog.errors import CatalogError
from catalog.listing import DIMENSION_SCORES, EFFECTIVE
from catalog.releases import local_release
from catalog.store import CatalogStore
from config.layout import Layout
from quality import history
from task_datasets.errors import GateRefusedError, TaskDatasetError
from task_datasets.spec import Version

LABELS_PREFIX = "labels_"


@dataclass(frozen=True)
class ReleasedInput:
    """One released dataset version a build reads, with what the manifest and catalog record about it."""

    dataset: str
    version: int
    folder: Path
    partitions: list[tuple[str, str]]  # (partition key, sha256 over its files)
    grade: int
    grade_reasons: list[str]
    classes: dict[str, str]
    quality: dict[str, float]  # dimension -> score (0-100), rows-weighted over partitions
    personal_data_findings: int
    source_system: str
    progress: dict[str, Any] = field(default_factory=dict)  # labels: agreement and annotators

    @property
    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*.parquet") if not p.name.startswith("."))

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.version,
            "partitions": [{"key": k, "sha256": s} for k, s in self.partitions],
        }


def resolve(store: CatalogStore, layout: Layout, dataset: str, version: Version) -> ReleasedInput:
    """The released version of `dataset` ("latest" or a number), judged by the gate partition by partition."""
    with store.reader() as con:
        found = con.execute(
            "SELECT v.version, v.location, d.source_system FROM versions v JOIN datasets d ON d.name = v.dataset "
            "WHERE v.dataset = ? AND v.version = coalesce(?, (SELECT max(version) FROM versions WHERE dataset = ?))",
            [dataset, None if version == "latest" else version, dataset],
        ).fetchone()
        if found is None:
            raise TaskDatasetError(
                f"source {dataset} version {version} is not in the catalog; publish it first (plantdata run) or "
                "name a released version in the spec"
            )
        number, named, system = int(found[0]), str(found[1]), str(found[2])
        grade, reasons = _grade(con, dataset, number)
        classes = dict(
            con.execute(EFFECTIVE + "SELECT axis, value FROM classes WHERE dataset = ?", [dataset]).fetchall()
        )
        quality = {
            str(d): float(s)
            for d, s in con.execute(
                f"SELECT dimension, score FROM ({DIMENSION_SCORES}) WHERE dataset = ? AND version = ? ORDER BY 1",
                [dataset, number],
            ).fetchall()
        }
        pii = con.execute(
            "SELECT coalesce(sum(findings), 0) FROM pii_reports WHERE dataset = ? AND version = ?", [dataset, number]
        ).fetchone()
        progress = _progress(con, dataset, number)
    try:
        location = local_release(named)  # on object storage: this machine's cached download
    except CatalogError as error:
        raise TaskDatasetError(f"{dataset} v{number}: {error}") from None
    if not location.is_dir():
        raise TaskDatasetError(f"{dataset} v{number}: release folder {location} is missing; publish it again")
    partitions = _partitions(location)
    if not dataset.startswith(LABELS_PREFIX):
        check_gate(layout, dataset, number, [k for k, _ in partitions])
    return ReleasedInput(
        dataset, number, location, partitions, grade, reasons, classes, quality, int(pii[0] if pii else 0), system,
        progress,
    )  # fmt: skip


def check_gate(layout: Layout, dataset: str, version: int, keys: list[str]) -> None:
    """Refuse partitions whose latest gate evaluation failed an error-severity check, or that have none."""
    verdicts = {e.key: e for e in history.latest(layout, dataset)}
    for key in keys:
        evaluation = verdicts.get(key)
        if evaluation is None:
            raise GateRefusedError(dataset, version, key, "no gate evaluation is recorded for it (verdict unknown)")
        failed = [r.name for r in evaluation.blocking_failures]
        if failed:
            raise GateRefusedError(dataset, version, key, f"it failed error-severity checks {', '.join(failed)}")


def _partitions(folder: Path) -> list[tuple[str, str]]:
    """Each Hive partition (`day=2024-03-30`) or, for a flat release (labels), each file, with its sha256."""
    out = []
    for entry in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        files = sorted(entry.rglob("*.parquet")) if entry.is_dir() else [entry]
        digest = hashlib.sha256()
        for file in files:
            digest.update(file.name.encode() + b"\0" + _file_sha256(file))
        out.append((entry.name.partition("=")[2] or entry.name, digest.hexdigest()))
    return out


def _file_sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.digest()


def _grade(con: duckdb.DuckDBPyConnection, dataset: str, version: int) -> tuple[int, list[str]]:
    found = con.execute(
        "SELECT grade, reasons FROM security_grades WHERE dataset = ? AND version = ?", [dataset, version]
    ).fetchone()
    override = con.execute(
        "SELECT value, actor, reason FROM overrides WHERE dataset = ? AND axis = 'grade' ORDER BY happened_at DESC",
        [dataset],
    ).fetchone()
    if override is not None:
        return int(override[0]), [f"override by {override[1]}: {override[2]}"]
    if found is None:  # fail closed: an ungraded source is treated as the most sensitive
        return 3, [f"{dataset} v{version} has no security grade in the catalog: treated as grade 3"]
    return int(found[0]), [str(r) for r in json.loads(found[1] or "[]")]


def _progress(con: duckdb.DuckDBPyConnection, dataset: str, version: int) -> dict[str, Any]:
    found = con.execute(
        "SELECT project, alpha, annotators, mean_task_agreement FROM annotation_progress "
        "WHERE labels_dataset = ? AND labels_version = ?",
        [dataset, version],
    ).fetchone()
    if found is None:
        return {}
    return {"project": found[0], "alpha": found[1], "annotators": found[2], "mean_task_agreement": found[3]}
