"""`plantdata bench ingest`: plantdata's historian ingest against a raw DuckDB COPY of the same CSV.

A third side, the floor, says how much of the ratio is the output itself: DuckDB writing the standardised columns
(plantdata's own scan plan, UTC, register lookups, quality class, day partitions) while the file's sha256 and raw line
count run beside it, as they do in the ingest (the file's identity in lineage, and the count the balance is proven
against), but with no rule checked, nothing quarantined and nothing balanced or staged. Whatever the ingest costs
above the floor is what its checks cost.

Each side runs in its own child process so its peak RSS is its own; both read the same file in the
same run, so the ratio compares like with like on whatever machine runs it. The sides take turns a few times and
each keeps its fastest run (see `best_of`).
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from bench.child import run_child

if TYPE_CHECKING:
    from config.layout import Layout
    from config.sources import SourcesFile

TAGS = 250
REGISTER_HEADER = "node_id,parent_id,level,name,equipment_type,tag,unit,low_limit,high_limit,safety_related\n"


START = "2024-04-01 00:00:00"  # 100M rows span 4.6 days: no clock change in them (`bench curve` compares sizes)


def make_inputs(rows: int, folder: Path) -> Path:
    """An N-row long historian CSV (naive Europe/Berlin time, one reading per tag and second, 250 tags) with its asset
    register and sources file. The readings start after the spring-forward change: a naive clock running through
    it would write an hour that does not exist (quarantined, rightly), and the sizes would not do the same work."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "historian" / f"historian_{rows}.csv"
    csv_path.parent.mkdir(exist_ok=True)
    if not csv_path.exists():
        partial = csv_path.with_suffix(".partial")
        duckdb.execute(
            f"""COPY (SELECT strftime(TIMESTAMP '{START}' + to_seconds((i // {TAGS})::BIGINT),
                   '%Y-%m-%d %H:%M:%S') AS timestamp,
                 'TAG' || lpad((i % {TAGS})::VARCHAR, 4, '0') || '.PV' AS tag,
                 round(50 + 20 * sin(i / 1000.0) + random(), 4) AS value, 192 AS quality
               FROM range(?) t(i)) TO '{partial}' (HEADER, DELIMITER ',', FORMAT csv)""",
            [rows],
        )
        partial.replace(csv_path)
    register = folder / "register" / "register.csv"
    register.parent.mkdir(exist_ok=True)
    lines = [REGISTER_HEADER, "SITE,,site,Bench site,,,,,,false\n"]
    for i in range(TAGS):
        lines.append(f"EQ{i // 8},SITE,equipment,Equipment {i // 8},pump,,,,,false\n" if i % 8 == 0 else "")
        lines.append(f"MP{i},EQ{i // 8},measurement_point,Point {i},,TAG{i:04d}.PV,degC,-50,200,false\n")
    register.write_text("".join(lines), encoding="utf-8")
    (folder / "sources.yaml").write_text(
        "sources:\n"
        "  - {name: register, kind: asset_register, system: ERP, owner: bench, location: register/register.csv}\n"
        "  - name: historian\n    kind: historian_long\n    system: historian\n    owner: bench\n"
        f"    location: historian/historian_{rows}.csv\n    register: register\n    columns: {{ts: timestamp}}\n"
        "    timestamp: {format: '%Y-%m-%d %H:%M:%S', timezone: Europe/Berlin}\n",
        encoding="utf-8",
    )
    return csv_path


def best_of(repeats: int, *sides: tuple[str, ...]) -> list[dict[str, Any]]:
    """Run each side's child `repeats` times, the sides taking turns, and keep each side's fastest run (with the
    highest peak RSS any of its runs reached): on a machine others share, a load spike during one side's only run
    would otherwise decide the ratio."""
    runs: list[list[dict[str, Any]]] = [[] for _ in sides]
    for _ in range(repeats):
        for measured, side in zip(runs, sides, strict=True):
            measured.append(run_child(*side))
    best = []
    for measured in runs:
        fastest = dict(min(measured, key=lambda r: r["seconds"]))
        fastest["peak_rss_mb"] = max(r["peak_rss_mb"] for r in measured)
        best.append(fastest)
    return best


def run_ingest_bench(rows: int, folder: Path, repeats: int = 3, floor: bool = True) -> dict[str, Any]:
    """Both sides, and the floor unless `floor` is False."""
    folder = folder / "ingest"
    csv_path = make_inputs(rows, folder)
    sides = [("bench.ingest", mode, str(folder), str(csv_path)) for mode in ("duckdb", "plantdata", "floor")]
    baseline, ours, *lowest = best_of(repeats, *sides[: 3 if floor else 2])
    floor_facts: dict[str, Any] = {}
    if lowest:
        floor_facts = {
            "floor_s": round(lowest[0]["seconds"], 3),
            "floor_ratio": round(lowest[0]["seconds"] / baseline["seconds"], 3),
            "floor_rows": lowest[0]["rows_out"],
        }
    return {
        "rows": rows,
        "repeats": repeats,
        "plantdata_s": round(ours["seconds"], 3),
        "duckdb_copy_s": round(baseline["seconds"], 3),
        "ratio": round(ours["seconds"] / baseline["seconds"], 3),
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "discover_s": round(ours["discover_s"], 3),
        "standardise_s": round(ours["standardise_s"], 3),
        "duckdb_peak_rss_mb": round(baseline["peak_rss_mb"], 1),
        "rows_out": ours["rows_out"],
        "rows_quarantined": ours["rows_quarantined"],
        **floor_facts,
    }


def fresh_home(layout: Layout, folder: Path) -> SourcesFile:
    """Empty `layout`'s data root and ingest the bench's asset register into it (a prerequisite, never timed);
    return the bench's sources (`folder/sources.yaml`, written by `make_inputs`)."""
    from config.sources import load_sources
    from ingest.runner import ingest_partitions

    shutil.rmtree(layout.root, ignore_errors=True)
    sources = load_sources(folder / "sources.yaml")
    ingest_partitions(sources, sources.get("register"), None, layout, "bench")
    return sources


def _measure_duckdb(folder: Path, csv_path: Path) -> dict[str, Any]:
    target = folder / "duckdb_copy.parquet"
    started = time.perf_counter()
    duckdb.execute(f"COPY (SELECT * FROM read_csv('{csv_path}')) TO '{target}' (FORMAT parquet)")
    seconds = time.perf_counter() - started
    target.unlink()
    return {"seconds": seconds}


def _measure_plantdata(folder: Path, csv_path: Path) -> dict[str, Any]:
    from config.layout import Layout
    from ingest.runner import discover_source, register_for
    from ingest.standardise import standardise

    del csv_path
    layout = Layout(folder / "home")
    sources = fresh_home(layout, folder)
    historian = sources.get("historian")
    started = time.perf_counter()
    discovery = discover_source(sources, historian, layout)
    discovered = time.perf_counter()
    results = standardise(
        historian, discovery.files, discovery.partitions, layout, register_for(sources, historian, layout)
    )
    finished = time.perf_counter()
    return {
        "seconds": finished - started,
        "discover_s": discovered - started,
        "standardise_s": finished - discovered,
        "rows_out": sum(r.rows_out for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
    }


def _measure_floor(folder: Path, csv_path: Path) -> dict[str, Any]:
    """The standardised columns written by plantdata's scan plan with every row taken as good, the sha256 and raw
    line count beside it (see the module docstring)."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from config.layout import Layout
    from ingest.csv_scan import read_csv_call, read_header
    from ingest.plan import build_plan
    from ingest.plan_sql import declare_enum
    from ingest.readable import raw_facts
    from ingest.runner import register_for
    from ingest.scan_db import scan_connection
    from ingest.stage import copy_good
    from ingest.time_sql import TimeReading, configured_reading

    layout = Layout(folder / "floor-home")
    sources = fresh_home(layout, folder)
    historian = sources.get("historian")
    register = register_for(sources, historian, layout)
    target = layout.root / "floor"
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        facts = pool.submit(raw_facts, str(csv_path))
        header = read_header(str(csv_path), historian.csv, csv_path.name)
        reading = configured_reading(historian, header)
        # planned as the ingest's first scan plans it: tags typed as the register's ENUM, quality as a number
        plan = build_plan(
            historian,
            header,
            register,
            csv_path.name,
            reading or TimeReading.NAIVE,
            padded_tags=False,
            numeric_quality=True,
        )
        plan = replace(plan, good_sql="true")  # every row good: no rule is checked
        con = scan_connection()
        try:
            declare_enum(con, plan)
            call, params = read_csv_call(
                plan.read_types, historian.csv, timestamp_format=historian.timestamp.single_format, rejects=None
            )
            written = copy_good(con, plan, f"(SELECT * FROM {call})", [str(csv_path), *params], None, "", target)
        finally:
            con.close()
        facts.result()
    seconds = time.perf_counter() - started
    shutil.rmtree(layout.root, ignore_errors=True)
    return {"seconds": seconds, "rows_out": sum(written.values())}


if __name__ == "__main__":
    mode, folder_arg, csv_arg = sys.argv[1:4]
    measure = {"duckdb": _measure_duckdb, "floor": _measure_floor}.get(mode, _measure_plantdata)
    result = measure(Path(folder_arg), Path(csv_arg))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
