"""`plantdata bench gate`: the quality gate on N historian rows against a raw DuckDB COPY of the same CSV.

The input is the ingest benchmark's historian file, standardised first (not timed). The gate is timed in a child
process after Great Expectations has been imported (its import alone takes seconds and is paid once per process,
reported as gx_import_s): gate_s is the evaluation (every rule in one sorted pass, GX's validations, Data Docs)
plus the gated output and the gate's quarantine (publish_s of it); `ratio` is gate_s over the raw COPY. The target
(issue 12) is 2.0 at 10M rows with a peak RSS of at most 1 GiB. The sides take turns `repeats` times and each
keeps its fastest run, as in `bench ingest`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.ingest import _measure_duckdb, best_of, fresh_home, make_inputs


def run_gate_bench(rows: int, folder: Path, repeats: int = 3) -> dict[str, Any]:
    folder = folder / "ingest"
    csv_path = make_inputs(rows, folder)
    baseline, ours = best_of(
        repeats,
        ("bench.gate", "duckdb", str(folder), str(csv_path)),
        ("bench.gate", "gate", str(folder), str(csv_path)),
    )
    return {
        "rows": rows,
        "repeats": repeats,
        "gate_s": round(ours["seconds"], 3),
        "duckdb_copy_s": round(baseline["seconds"], 3),
        "ratio": round(ours["seconds"] / baseline["seconds"], 3),
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "evaluate_s": round(ours["evaluate_s"], 3),
        "publish_s": round(ours["publish_s"], 3),
        "gx_import_s": round(ours["gx_import_s"], 3),
        "rows_flagged": ours["rows_flagged"],
    }


def _measure_gate(folder: Path) -> dict[str, Any]:
    from config.layout import Layout
    from ingest.runner import ingest_partitions

    layout = Layout(folder / "gate-home")
    sources = fresh_home(layout, folder)
    historian = sources.get("historian")
    keys = [r.key for r in ingest_partitions(sources, historian, None, layout, "bench")]
    started = time.perf_counter()
    import great_expectations  # noqa: F401  (paid once per process; reported apart)

    imported = time.perf_counter()
    from quality.gate import evaluate_source, publish_gated

    evaluations = evaluate_source(historian, keys, layout, "bench")
    evaluated = time.perf_counter()
    publish_gated(historian, keys, layout)
    published = time.perf_counter()
    return {
        "seconds": published - imported,
        "evaluate_s": evaluated - imported,
        "gx_import_s": imported - started,
        "publish_s": published - evaluated,
        "rows_flagged": sum(r.unexpected for e in evaluations for r in e.results if r.level == "row"),
    }


if __name__ == "__main__":
    mode, folder_arg, csv_arg = sys.argv[1:4]
    result = _measure_duckdb(Path(folder_arg), Path(csv_arg)) if mode == "duckdb" else _measure_gate(Path(folder_arg))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
