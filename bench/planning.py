"""`plantdata bench planning`: what deciding costs over a long history (365 days x 6 sources by default).

The data root is built by plantdata's own code: N days of small daily historian exports per source are written,
then each source is discovered, standardised, gated and written to the ledger by the library functions its Dagster
assets call, in this process (through Dagster's runs it took about 3.5 s a partition on a loaded machine at 10 days:
two hours for 2,190), its partitions registered with Dagster, and `plantdata run` (the CLI) publishes the catalog.
What differs from a root built by runs is Dagster's event log (no materialization per partition), which none of the
measured paths reads: the sensor reads the listing, the index and the dynamic partitions, a run the ledger. Rows
per file are few on purpose: what is measured grows with files and partitions, not rows. Then, with nothing new:

- a sensor tick of each source's `<source>_new_files` sensor as the daemon calls it: the first one after the run
  (no cursor: every file is new to the sensor; it requests a run per partition, each with its run key) and a quiet
  one (the cursor the first left: nothing changed, it skips);
- planning: the decision `plantdata run` makes before it runs anything (discovery from the index, the work key of
  every partition, the ledger's evidence: manifest and newest gate verdict), in this process;
- a no-change run: `plantdata run` again, as an engineer waits for it (a new process, imports included).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_S = 10.0
HEADER = "timestamp,tag,value,quality\n"


def make_plant(folder: Path, days: int, sources: int, tags: int = 2) -> Path:
    """`sources` historian exports of one file per UTC day (hourly readings of `tags` tags); the sources file."""
    start = dt.date(2025, 1, 1)
    entries = []
    for s in range(sources):
        name = f"line{s + 1}"
        exports = folder / "exports" / name
        exports.mkdir(parents=True, exist_ok=True)
        for d in range(days):
            day = start + dt.timedelta(days=d)
            lines = [HEADER]
            for hour in range(24):
                for t in range(tags):
                    lines.append(f"{day} {hour:02d}:00:00,L{s + 1}.T{t}.PV,{(d * 24 + hour + t) % 97 + 0.5},192\n")
            (exports / f"{name}_{day}.csv").write_text("".join(lines), encoding="utf-8")
        entries.append(
            f"  - name: {name}\n    kind: historian_long\n    system: historian\n    owner: bench\n"
            f"    location: exports/{name}/{name}_*.csv\n    columns: {{ts: timestamp}}\n"
            "    timestamp: {format: '%Y-%m-%d %H:%M:%S', timezone: UTC}\n"
        )
    sources_file = folder / "sources.yaml"
    sources_file.write_text("version: 1\nsources:\n" + "".join(entries), encoding="utf-8")
    return sources_file


def plantdata_run(sources_file: Path, root: Path) -> float:
    """`plantdata run` in a process of its own; its wall time, s."""
    env = {**os.environ, "PLANTDATA_HOME": str(root), "DAGSTER_HOME": str(root / "dagster")}
    command = "from pipelines.cli import entrypoint; entrypoint()"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", command, "run", "--sources", str(sources_file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"plantdata run failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def build_root(sources_file: Path, root: Path) -> None:
    """Every source's partitions ingested, gated and recorded as a `plantdata run` would (pipelines.run.run_all and
    the assets it runs: assets.ingest, assets.gated), by the same library calls, without a Dagster run each."""
    from config.layout import Layout
    from config.sources import load_sources
    from ingest.runner import discover_source, ingest_partitions, ordered_sources
    from pipelines.ledger import Ledger, register_state, work_key
    from pipelines.partitions import add_missing_partitions
    from pipelines.run import instance_for
    from quality.gate import evaluate_source, publish_gated

    layout = Layout(root)
    sources = load_sources(sources_file)
    instance = instance_for(root)
    ledger = Ledger(layout)
    for source in ordered_sources(sources):
        discovery = discover_source(sources, source, layout)
        keys = discovery.partitions
        add_missing_partitions(instance, source, keys)
        ingest_partitions(sources, source, keys, layout, "bench-planning")
        evaluate_source(source, keys, layout, "bench-planning")
        publish_gated(source, keys, layout)
        register = register_state(layout, source)
        for key in keys:
            if not ledger.record(source.name, key, work_key(source, discovery, key, register)):
                raise RuntimeError(f"{source.name} {key}: no manifest and gate verdict that agree after the build")
    ledger.save()


def sensor_ticks(sources_file: Path, root: Path) -> dict[str, Any]:
    """Each source's new-files sensor, called as the daemon calls it: first with no cursor, then with the cursor
    the first tick left."""
    import dagster as dg

    from config.sources import load_sources
    from pipelines.definitions import build_definitions
    from pipelines.run import instance_for

    defs = build_definitions(sources_file, root)
    instance = instance_for(root)
    resources = {"plantdata": (defs.resources or {})["plantdata"]}
    first_s = quiet_s = 0.0
    requested = 0
    for source in load_sources(sources_file).sources:
        sensor = defs.resolve_sensor_def(f"{source.name}_new_files")
        started = time.perf_counter()
        with dg.build_sensor_context(instance=instance, resources=resources, definitions=defs) as context:
            first = sensor(context)
        first_s += time.perf_counter() - started
        if not isinstance(first, dg.SensorResult) or not first.run_requests:
            raise RuntimeError(f"the first tick of {source.name} requested nothing: {first}")
        requested += len(first.run_requests)
        started = time.perf_counter()
        with dg.build_sensor_context(
            instance=instance, resources=resources, definitions=defs, cursor=first.cursor
        ) as context:
            quiet = sensor(context)
        quiet_s += time.perf_counter() - started
        if not isinstance(quiet, dg.SkipReason):
            raise RuntimeError(f"a tick with nothing new on {source.name} did not skip: {quiet}")
    return {"first_tick_s": first_s, "quiet_tick_s": quiet_s, "runs_requested": requested}


def planning(sources_file: Path, root: Path) -> dict[str, Any]:
    """What `plantdata run` decides before running anything (pipelines.run.run_all, in its order): each source's
    discovery, every partition's work key and the ledger's evidence for it."""
    from config.layout import Layout
    from config.sources import load_sources
    from ingest.runner import discover_source, ordered_sources
    from pipelines.ledger import Ledger, register_state, work_key

    layout = Layout(root)
    started = time.perf_counter()
    sources = load_sources(sources_file)
    ledger = Ledger(layout)
    partitions = up_to_date = 0
    for source in ordered_sources(sources):
        discovery = discover_source(sources, source, layout)
        register = register_state(layout, source)
        for key in discovery.partitions:
            partitions += 1
            up_to_date += ledger.up_to_date(source.name, key, work_key(source, discovery, key, register))
    return {"planning_s": time.perf_counter() - started, "partitions": partitions, "up_to_date": up_to_date}


def _dagster_runs(root: Path) -> int:
    from pipelines.run import instance_for

    return len(instance_for(root).get_run_records())


def run_planning_bench(days: int, sources: int, folder: Path) -> dict[str, Any]:
    root = folder / f"planning-{days}d-{sources}s"
    shutil.rmtree(root, ignore_errors=True)
    sources_file = make_plant(root / "plant", days, sources)
    home = root / "home"
    started = time.perf_counter()
    build_root(sources_file, home)
    built = time.perf_counter() - started
    publish = plantdata_run(sources_file, home)  # every partition up to date: it publishes the catalog
    runs_before = _dagster_runs(home)
    unchanged = plantdata_run(sources_file, home)
    runs_no_change = _dagster_runs(home) - runs_before
    ticks = sensor_ticks(sources_file, home)
    planned = planning(sources_file, home)
    figures = {
        "sensor_first_tick_s": round(ticks["first_tick_s"], 2),
        "sensor_quiet_tick_s": round(ticks["quiet_tick_s"], 2),
        "planning_s": round(planned["planning_s"], 2),
        "no_change_run_s": round(unchanged, 2),
    }
    return {
        "days": days,
        "sources": sources,
        "partitions": planned["partitions"],
        "partitions_up_to_date": planned["up_to_date"],
        "runs_requested_by_first_ticks": ticks["runs_requested"],
        "dagster_runs_first_run": runs_before,  # the publication alone: every partition was up to date
        "dagster_runs_no_change": runs_no_change,
        "build_s": round(built, 1),
        "first_run_s": round(publish, 1),
        **figures,
        "target_s": TARGET_S,
        "within_target": all(v <= TARGET_S for v in figures.values()),
    }
