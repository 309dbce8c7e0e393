"""`plantdata bench pipeline`: from a fresh historian CSV to a published catalog version, each stage timed.

The stages are the plain libraries the Dagster assets call, in one child process (its peak RSS is the pipeline's):
ingest (discovery and standardise), gate (evaluate, then publish what passed), and the catalog publication, within
which the personal-data scan, the release, the column profiles and the rest (catalog rows, audit entry) are timed
apart. Importing Great Expectations is paid once per process and reported apart, as in `bench gate`. A raw DuckDB
`COPY` of the same CSV, in another child of the same run, is the baseline of every ratio. The sides take turns
`repeats` times and each keeps its fastest run (whole, not stage by stage), as in `bench ingest`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.ingest import _measure_duckdb, best_of, fresh_home, make_inputs

STAGES = ("ingest", "gate", "pii_scan", "release", "profile", "catalog")
TARGET_TOTAL_RATIO = 4.0


def run_pipeline_bench(rows: int, folder: Path, repeats: int = 3) -> dict[str, Any]:
    folder = folder / "ingest"
    csv_path = make_inputs(rows, folder)
    baseline, ours = best_of(
        repeats,
        ("bench.pipeline", "duckdb", str(folder), str(csv_path)),
        ("bench.pipeline", "pipeline", str(folder), str(csv_path)),
    )
    copy_s = baseline["seconds"]
    stages = {name: round(ours["stages"][name], 3) for name in STAGES}
    total = sum(ours["stages"][name] for name in STAGES)
    return {
        "rows": rows,
        "repeats": repeats,
        "duckdb_copy_s": round(copy_s, 3),
        "stages_s": stages,
        "ratios": {name: round(ours["stages"][name] / copy_s, 3) for name in STAGES},
        "total_s": round(total, 3),
        "ratio": round(total / copy_s, 3),
        "target_ratio": TARGET_TOTAL_RATIO,
        "within_target": total / copy_s <= TARGET_TOTAL_RATIO,
        "gx_import_s": round(ours["gx_import_s"], 3),
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "duckdb_peak_rss_mb": round(baseline["peak_rss_mb"], 1),
        "rows_out": ours["rows_out"],
        "rows_quarantined": ours["rows_quarantined"],
        "catalog_version": ours["catalog_version"],
        "catalog_rows": ours["catalog_rows"],
    }


@contextmanager
def _timed(module: Any, name: str, spent: dict[str, float], stage: str) -> Iterator[None]:
    """Time every call `module.name` makes while inside, adding it to `spent[stage]` (the real function runs)."""
    original: Callable[..., Any] = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - started

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, original)


def _measure_pipeline(folder: Path, root: str | None = None) -> dict[str, Any]:
    """The pipeline into a fresh data root: `pipeline-home` under `folder`, or `root` (an empty `s3://` prefix)."""
    from config.layout import Layout
    from ingest.runner import ingest_partitions

    layout = Layout.at(root) if root else Layout(folder / "pipeline-home")
    sources = fresh_home(layout, folder)
    historian = sources.get("historian")
    started = time.perf_counter()
    import great_expectations  # noqa: F401  (paid once per process; reported apart)

    gx_import_s = time.perf_counter() - started
    from catalog import publish
    from catalog.publish import publish_source
    from catalog.store import CatalogStore
    from quality.gate import evaluate_source, publish_gated

    stages: dict[str, float] = {}
    started = time.perf_counter()
    results = ingest_partitions(sources, historian, None, layout, "bench")
    stages["ingest"] = time.perf_counter() - started
    keys = [r.key for r in results]
    started = time.perf_counter()
    evaluate_source(historian, keys, layout, "bench")
    publish_gated(historian, keys, layout)
    stages["gate"] = time.perf_counter() - started
    spent: dict[str, float] = {}
    started = time.perf_counter()
    with (
        _timed(publish, "scan", spent, "pii_scan"),
        _timed(publish, "write_release", spent, "release"),
        _timed(publish, "profile", spent, "profile"),
    ):
        catalog = CatalogStore.at(layout.store.url("catalog")) if layout.remote else CatalogStore(layout.catalog())
        published = publish_source(catalog, sources, historian, layout, "bench")
    publication = time.perf_counter() - started
    for stage in ("pii_scan", "release", "profile"):
        stages[stage] = spent.get(stage, 0.0)
    stages["catalog"] = publication - sum(spent.values())
    return {
        "seconds": sum(stages.values()),
        "stages": stages,
        "gx_import_s": gx_import_s,
        "rows_out": sum(r.rows_out for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
        "catalog_version": published.version,
        "catalog_rows": published.row_count,
    }


if __name__ == "__main__":
    mode, folder_arg, csv_arg, *root_arg = sys.argv[1:5]
    result = (
        _measure_duckdb(Path(folder_arg), Path(csv_arg))
        if mode == "duckdb"
        else _measure_pipeline(Path(folder_arg), root_arg[0] if root_arg else None)
    )
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
