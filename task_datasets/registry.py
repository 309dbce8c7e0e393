"""Register a task-dataset version in the catalog, in one publisher's turn (DuckDB has one writer).

Like a labels dataset, a task dataset is a row of `datasets` (source_kind `task_dataset`) with `versions`, column
profiles, classes, a security grade (the highest of its sources, with each source's reason), access policy,
quality scores (per dimension the weakest source's), lineage edges from every source and labels version, an
audit entry and its own row of `task_dataset_versions` (task, splits, baseline, the manifest).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from catalog import audit
from catalog.listing import refresh_listing
from catalog.policy import grants
from catalog.profile import profile
from catalog.publish import insert_columns
from catalog.store import CatalogStore
from catalog.vocabulary import SecurityGrade
from config.layout import Layout
from task_datasets.inputs import ReleasedInput

KIND = "task_dataset"
OWNER = "AI lab"


def security(inputs: list[ReleasedInput]) -> dict[str, Any]:
    """The highest grade of the sources (a dataset joining them is as sensitive as the most sensitive), with why."""
    grade = max(i.grade for i in inputs)
    reasons = [f"grade {grade} ({SecurityGrade(grade).gbt_43697}): the highest of its sources"] + [
        f"{i.dataset} v{i.version} is grade {i.grade}: {'; '.join(i.grade_reasons) or 'no reason recorded'}"
        for i in sorted(inputs, key=lambda i: (-i.grade, i.dataset))
    ]
    return {"grade": grade_name(grade), "reasons": reasons}


def grade_name(grade: int) -> str:
    """`2`: the MIIT grade (1-3) as the manifest writes it; the GB/T 43697 level is in the first reason."""
    return str(grade)


def quality(inputs: list[ReleasedInput]) -> dict[str, Any]:
    """Per dimension the weakest source's score: a joined example is only as good as its worst input."""
    from quality.dimensions import grade, overall

    dimensions: dict[str, float] = {}
    for released in inputs:
        for dimension, score in released.quality.items():
            dimensions[dimension] = min(score, dimensions.get(dimension, score))
    total = overall(dimensions) if dimensions else 0.0
    return {"overall": round(total, 2), "grade": grade(total) if dimensions else "D", "dimensions": dimensions}


def register_version(
    store: CatalogStore, layout: Layout, version_dir: Path, manifest: dict[str, Any], run_id: str
) -> None:
    """Add the version to the catalog; the version is already committed (a failed registration leaves a version
    the catalog does not list yet: `plantdata dataset build` registers it again before building anything new).
    Its location is the version's folder, or its URL on object storage (what every machine reads it by)."""
    name, version = manifest["name"], int(manifest["version"])
    files = [str(layout.fetch(version_dir / f["path"])) for f in manifest["files"]]
    location = layout.store.url(layout.name(version_dir))
    profiled = profile(files)
    rows = sum(int(f["rows"]) for f in manifest["files"])
    level = SecurityGrade(int(manifest["security"]["grade"]))
    now = datetime.now(UTC)
    with store.turn() as turn, turn.publication() as con:
        if _registered(con, name, version):
            return
        con.execute(
            "INSERT INTO datasets VALUES (?, ?, ?, 'plantdata', ?, NULL, ?) ON CONFLICT (name) DO UPDATE SET "
            "description = excluded.description",
            [name, manifest["title"] + ": " + manifest["description"], KIND, OWNER, now],
        )
        con.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [name, version, now, run_id, rows, len(files), manifest["content_sha256"], location],
        )
        insert_columns(con, name, version, profiled)
        _lineage(con, name, version, manifest, location)
        classes = manifest["classification"]
        reason = "from the task dataset's spec and the classes of its sources"
        con.executemany(
            "INSERT INTO classifications VALUES (?, ?, ?, ?, ?)",
            [
                [name, version, "data_type", classes["data_type"], reason],
                [name, version, "scenario", classes["scenario"], reason],
                [name, version, "domain", classes.get("domain", "operation_maintenance"), reason],
                [name, version, "modality", classes.get("modality", "tabular"), reason],
            ],
        )
        con.execute(
            "INSERT INTO security_grades VALUES (?, ?, ?, ?, ?)",
            [name, version, int(level), level.gbt_43697, json.dumps(manifest["security"]["reasons"])],
        )
        con.executemany(
            "INSERT INTO access_policies VALUES (?, ?, ?, ?, ?)",
            [[name, version, g.principal, g.access, g.reason] for g in grants(level, OWNER, None)],
        )
        for dimension, score in sorted(manifest["quality"]["dimensions"].items()):
            con.execute(
                "INSERT INTO quality_scores (dataset, version, partition_key, run_id, evaluated_at, dimension, score, "
                "overall, grade, rows) VALUES (?, ?, 'sources', ?, ?, ?, ?, ?, ?, ?)",
                [
                    name, version, run_id, now.isoformat(), dimension, score, manifest["quality"]["overall"],
                    manifest["quality"]["grade"], rows,
                ],
            )  # fmt: skip
        baseline = manifest.get("baseline") or {}
        splits = manifest["splits"]
        con.execute(
            "INSERT INTO task_dataset_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                name, version, manifest["task"], manifest["scenario"], manifest["spec_sha256"],
                manifest["content_sha256"], json.dumps({f["split"]: f["rows"] for f in manifest["files"]}),
                json.dumps(splits["class_balance"], sort_keys=True), splits["method"], splits["adversarial_auc"],
                baseline.get("model"), baseline.get("metric"), baseline.get("value"),
                json.dumps(manifest["labels"]["provenance"], sort_keys=True), json.dumps(manifest, sort_keys=True),
            ],
        )  # fmt: skip
        refresh_listing(con, name)
        audit.append(
            con, now, "plantdata", "build_task_dataset", name, version,
            json.dumps({"run_id": run_id, "rows": rows, "content_sha256": manifest["content_sha256"]}),
        )  # fmt: skip


def registered_versions(store: CatalogStore, name: str) -> set[int]:
    if store.current() is None:
        return set()
    with store.reader() as con:
        return {int(r[0]) for r in con.execute("SELECT version FROM versions WHERE dataset = ?", [name]).fetchall()}


def _registered(con: duckdb.DuckDBPyConnection, name: str, version: int) -> bool:
    return (
        con.execute("SELECT 1 FROM versions WHERE dataset = ? AND version = ?", [name, version]).fetchone() is not None
    )


def _lineage(con: duckdb.DuckDBPyConnection, name: str, version: int, manifest: dict[str, Any], folder: str) -> None:
    """Every source and labels version (and annotation project) the manifest names -> this version's folder ->
    this dataset version: the node kinds of source publications (`catalog.web.i18n.LINEAGE_KINDS`)."""
    rows = [
        [name, version, "dataset_version", f"{s['dataset']}@{s['version']}", "release", folder]
        for s in manifest["sources"]
    ]
    rows += [
        [name, version, "annotation_project", p["project"], "release", folder] for p in manifest["labels"]["projects"]
    ]
    rows.append([name, version, "release", folder, "dataset_version", f"{name}@{version}"])
    con.executemany("INSERT INTO lineage_edges VALUES (?, ?, ?, ?, ?, ?, NULL)", rows)
