"""The quality report: per source and partition, dimension scores, grade and failed rules."""

from __future__ import annotations

from typing import Any

import duckdb

from config.layout import Layout
from ingest.manifest import read_manifests
from quality import history
from quality.dimensions import grade, overall
from quality.published import gate_quarantine_files


def source_report(layout: Layout, source: str, partitioning: str) -> dict[str, Any]:
    """Latest evaluation of every partition, and the source's row-weighted scores."""
    manifests = {m["key"]: m for m in read_manifests(layout, source)}
    partitions: list[dict[str, Any]] = []
    weighted: dict[str, float] = {}
    weights: dict[str, float] = {}
    for evaluation in history.latest(layout, source):
        manifest = manifests.get(evaluation.key, {})
        gate_rows = _gate_quarantined(layout, source, partitioning, evaluation.key)
        partitions.append(
            {
                "partition": evaluation.key,
                "run_id": evaluation.run_id,
                "evaluated_at": evaluation.evaluated_at,
                "rows": evaluation.rows,
                "scores": evaluation.scores,
                "overall": evaluation.overall,
                "grade": evaluation.grade,
                "blocked": bool(evaluation.blocking_failures),
                "failed": [
                    {
                        "rule": r.name,
                        "dimension": r.dimension,
                        "level": r.level,
                        "severity": r.severity,
                        "unexpected": r.unexpected,
                        "evaluated": r.evaluated,
                        "detail": r.detail,
                    }
                    for r in evaluation.results
                    if not r.passed
                ],
                "rows_quarantined": int(manifest.get("rows_quarantined", 0)) + gate_rows,
            }
        )
        weight = max(evaluation.rows, 1)
        for dimension, score in evaluation.scores.items():
            weighted[dimension] = weighted.get(dimension, 0.0) + score * weight
            weights[dimension] = weights.get(dimension, 0.0) + weight
    scores = {d: round(weighted[d] / weights[d], 2) for d in weighted}
    total = overall(scores)
    return {
        "source": source,
        "partitions": partitions,
        "scores": scores,
        "overall": total,
        "grade": grade(total) if partitions else None,
        "history_runs": sum(len(history.runs(layout, source, str(p["partition"]))) for p in partitions),
    }


def _gate_quarantined(layout: Layout, source: str, partitioning: str, key: str) -> int:
    files = gate_quarantine_files(layout, source, partitioning, key)
    if not files:
        return 0
    # fetchall: a result left half-read on DuckDB's default connection blocks every later user of it in the process
    [(count,)] = duckdb.execute("SELECT count(*) FROM read_parquet(?)", [[str(f) for f in files]]).fetchall()
    return int(count)
