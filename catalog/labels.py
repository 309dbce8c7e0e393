"""Publish expert labels as a dataset of their own, tied to the release version they label.

A labels dataset inherits what its source decides: the effective security grade (labels describe the same
rows, so they are as sensitive), its classes and its owner and steward; the lineage says which release
version was labelled. The source dataset records the annotation progress, so `catalog show` of it tells how
far its labelling has come and how much the experts agree.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from catalog import audit
from catalog.errors import CatalogError
from catalog.listing import EFFECTIVE, refresh_listing
from catalog.people import replace_people
from catalog.policy import grants
from catalog.profile import profile
from catalog.publish import insert_columns, latest_version
from catalog.releases import ReleaseRoot, local_release
from catalog.store import CatalogStore, PublisherTurn
from catalog.vocabulary import SecurityGrade
from config.layout import Layout
from config.people import Person


@dataclass(frozen=True)
class LabelsPublication:
    """What the annotation loop hands to the catalog for one project."""

    dataset: str  # labels_<project>
    project: str
    description: str
    source_dataset: str
    source_version: int
    table: pa.Table  # one row per annotation, with task-level agreement and consensus
    progress: dict[str, Any]  # tasks, annotated_tasks, annotations, annotators, alpha, mean_task_agreement,...
    people: Sequence[Person] = ()
    extra_tables: dict[str, pa.Table] = field(default_factory=dict)  # e.g. full-rate windows, by file stem


@dataclass(frozen=True)
class PublishedLabels:
    dataset: str
    version: int
    rows: int
    new: bool
    grade: int


def publish_labels(
    store: CatalogStore, layout: Layout, labels: LabelsPublication, run_id: str, actor: str = "plantdata"
) -> PublishedLabels:
    """The next version of the labels dataset (none when its content is unchanged), in one publisher's turn."""
    content = _content_sha(labels)
    with store.turn() as turn:
        source = _source_facts(turn, labels.source_dataset, labels.source_version)
        latest = latest_version(turn, labels.dataset)
        if latest is not None and latest[2] == content:
            return PublishedLabels(labels.dataset, latest[0], latest[1], new=False, grade=source["grade"])
        version = latest[0] + 1 if latest is not None else 1
        releases = ReleaseRoot.of(layout)
        staging = releases.staging(labels.dataset, version - 1)  # leftovers of failed publishers go: ours is the turn
        staging.mkdir(parents=True)
        try:
            pq.write_table(labels.table, staging / "labels.parquet", compression="zstd")
            for stem, table in sorted(labels.extra_tables.items()):
                pq.write_table(table, staging / f"{stem}.parquet", compression="zstd")
            profiled = profile([str(staging / "labels.parquet")])
            target = releases.location(labels.dataset, version)
            with turn.publication() as con:
                now = datetime.now(UTC)
                con.execute(
                    "INSERT INTO datasets VALUES (?, ?, 'labels', 'Label Studio', ?, ?, ?) ON CONFLICT (name) DO "
                    "UPDATE SET description = excluded.description, owner = excluded.owner, "
                    "steward = excluded.steward",
                    [labels.dataset, labels.description, source["owner"], source["steward"], now],
                )
                con.execute(
                    "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [labels.dataset, version, now, run_id, labels.table.num_rows, 1, content, target],
                )
                insert_columns(con, labels.dataset, version, profiled)
                source_id = f"{labels.source_dataset}@{labels.source_version}"
                con.executemany(
                    "INSERT INTO lineage_edges VALUES (?, ?, ?, ?, ?, ?, NULL)",
                    [
                        [labels.dataset, version, "dataset_version", source_id, "annotation_project", labels.project],
                        [labels.dataset, version, "annotation_project", labels.project, "release", target],
                        [
                            labels.dataset,
                            version,
                            "release",
                            target,
                            "dataset_version",
                            f"{labels.dataset}@{version}",
                        ],
                    ],
                )
                reason = f"labels of {source_id}: classes follow the labelled dataset"
                con.executemany(
                    "INSERT INTO classifications VALUES (?, ?, ?, ?, ?)",
                    [
                        [labels.dataset, version, axis, value, reason]
                        for axis, value in sorted(source["classes"].items())
                    ],
                )
                grade = SecurityGrade(source["grade"])
                con.execute(
                    "INSERT INTO security_grades VALUES (?, ?, ?, ?, ?)",
                    [
                        labels.dataset,
                        version,
                        int(grade),
                        grade.gbt_43697,
                        json.dumps([f"inherits the effective grade of {source_id}: labels describe its rows"]),
                    ],
                )
                con.executemany(
                    "INSERT INTO access_policies VALUES (?, ?, ?, ?, ?)",
                    [
                        [labels.dataset, version, g.principal, g.access, g.reason]
                        for g in grants(grade, source["owner"] or "unassigned", source["steward"])
                    ],
                )
                progress = labels.progress
                con.execute(
                    "INSERT INTO annotation_progress VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        labels.source_dataset,
                        labels.source_version,
                        labels.project,
                        labels.dataset,
                        version,
                        progress.get("tasks"),
                        progress.get("annotated_tasks"),
                        progress.get("annotations"),
                        progress.get("annotators"),
                        progress.get("alpha"),
                        progress.get("mean_task_agreement"),
                        json.dumps(progress.get("consensus", {}), sort_keys=True),
                        json.dumps(progress.get("prelabel_acceptance", {}), sort_keys=True),
                        now,
                    ],
                )
                if labels.people:
                    replace_people(con, labels.people, origin="annotation")
                refresh_listing(con, labels.dataset)
                audit.append(
                    con,
                    now,
                    actor,
                    "publish_labels",
                    labels.dataset,
                    version,
                    json.dumps({"run_id": run_id, "rows": labels.table.num_rows, "labels": source_id}),
                )
                releases.place(staging, labels.dataset, version)  # before commit: a failed one leaves it unnamed
            return PublishedLabels(labels.dataset, version, labels.table.num_rows, new=True, grade=int(grade))
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def effective_grade(store: CatalogStore, dataset: str) -> int:
    """The dataset's security grade as the catalog decides it now (the CDO's override, else the suggestion)."""
    with store.reader() as con:
        found = con.execute(EFFECTIVE + "SELECT grade FROM grades WHERE dataset = ?", [dataset]).fetchone()
    if found is None:
        raise CatalogError(f"{dataset}: not in the catalog; publish it first (plantdata run)")
    return int(found[0])


def release_of(store: CatalogStore, dataset: str, version: int | None = None) -> tuple[int, Path]:
    """The version number and a local release folder of `dataset` (its latest version unless `version` is given):
    on object storage, this machine's cached download of it."""
    with store.reader() as con:
        found = con.execute(
            "SELECT version, location FROM versions WHERE dataset = ? AND version = coalesce(?, "
            "(SELECT max(version) FROM versions WHERE dataset = ?))",
            [dataset, version, dataset],
        ).fetchone()
    if found is None:
        raise CatalogError(f"{dataset}: no released version in the catalog; publish it first (plantdata run)")
    return int(found[0]), local_release(str(found[1]))


def _source_facts(turn: PublisherTurn, dataset: str, version: int) -> dict[str, Any]:
    with turn.reader() as con:
        found = con.execute(
            "SELECT d.owner, d.steward FROM datasets d JOIN versions v ON v.dataset = d.name "
            "WHERE d.name = ? AND v.version = ?",
            [dataset, version],
        ).fetchone()
        if found is None:
            raise CatalogError(
                f"labels refer to {dataset} version {version}, which is not in the catalog; publish it first"
            )
        grade = con.execute(EFFECTIVE + "SELECT grade FROM grades WHERE dataset = ?", [dataset]).fetchone()
        classes = dict(
            con.execute(EFFECTIVE + "SELECT axis, value FROM classes WHERE dataset = ?", [dataset]).fetchall()
        )
    return {"owner": found[0], "steward": found[1], "grade": int(grade[0]) if grade else 3, "classes": classes}


def _content_sha(labels: LabelsPublication) -> str:
    """Over the labelled version and the tables' Arrow bytes (the same annotations give the same bytes: the
    table is built in a fixed order), without turning every row of the full-rate windows into Python."""
    digest = hashlib.sha256(f"{labels.source_dataset}@{labels.source_version}".encode())
    for name, table in [("labels", labels.table), *sorted(labels.extra_tables.items())]:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table.combine_chunks())
        digest.update(name.encode() + sink.getvalue().to_pybytes())
    return digest.hexdigest()
