"""`plantdata bench chaos`: kill `plantdata run` with SIGKILL at points spread over ingest, gate and publication,
run it again, and check that nothing was lost, mixed or made up.

Each trial starts from an empty data root, kills the run after a fraction of the time an uninterrupted run takes
(trial i of n at (i + 0.5) / n of it: the kill points sweep the whole run), then runs it again to the end. A
reader polls meanwhile and opens every file a reader may see (the files a partition's manifest lists, gated
files, the current catalog snapshot and its release): a file it cannot read whole is a partial file seen.
A trial passes when the published bytes equal those of an uninterrupted run, every partition balances and the
catalog holds one version.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

DAYS = ("2024-03-28", "2024-03-29", "2024-03-30", "2024-03-31")
SOURCES = """\
sources:
  - name: hist
    kind: historian_long
    system: historian
    owner: chaos
    location: exports/hist_*.csv
    columns: {ts: timestamp}
    timestamp: {timezone: Europe/Berlin}
  - name: alarms
    kind: event_log
    system: SCADA
    owner: chaos
    location: exports/alarms.csv
    columns: {ts: timestamp}
"""


def make_plant(folder: Path, rows_per_day: int = 20_000) -> Path:
    """A small plant: four historian days (with a duplicate and a bad row each) and an alarm log."""
    exports = folder / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    for day in DAYS:
        lines = ["timestamp,tag,value"]
        for i in range(rows_per_day):
            lines.append(f"{day} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},T{i % 8},{rng.random():.6f}")
        lines += [lines[-1], f"{day} 25:00:00,T1,1.0"]
        (exports / f"hist_{day}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    alarms = ["timestamp,tag,event_type,message"] + [
        f"{DAYS[i % 4]} 08:{i % 60:02d}:00,T{i % 8},HI,level high on pump {i}" for i in range(200)
    ]
    (exports / "alarms.csv").write_text("\n".join(alarms) + "\n", encoding="utf-8")
    sources = folder / "sources.yaml"
    sources.write_text(SOURCES, encoding="utf-8")
    return sources


def published(root: Path) -> dict[str, str]:
    """The sha256 of every published file: gated partitions and the releases, by their path in the data root."""
    found = {}
    for folder in ("gated", "releases"):
        for path in sorted((root / folder).rglob("*.parquet")):
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _run(sources: Path, root: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PLANTDATA_HOME": str(root), "DAGSTER_HOME": str(root / "dagster")}
    command = [str(Path(sys.executable).parent / "plantdata"), "run", "--sources", str(sources)]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _visible_files(root: Path) -> list[Path]:
    """What a reader may open now: the manifests' files, gated files, the current snapshot and its release."""
    files: list[Path] = []
    for manifest in (root / "manifests").rglob("*.json"):
        try:
            record = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            files.append(manifest)  # a manifest a reader cannot parse is a partial file too
            continue
        source = manifest.parent.name
        part = next((p for p in (root / "standardised" / source).glob(f"*={record['key']}")), None)
        if part is not None:
            files += [part / name for name in record["outputs"]]
    files += sorted((root / "gated").rglob("part-*.parquet"))
    files += sorted((root / "releases").glob("*/v*/**/*.parquet"))
    current = root / "catalog" / "CURRENT"
    if current.exists():
        files.append(root / "catalog" / current.read_text(encoding="utf-8").strip())
    return files


def _unreadable(path: Path) -> bool:
    try:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".duckdb":
            duckdb.connect(str(path), read_only=True).close()
        else:
            duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()
        return False
    except FileNotFoundError:
        return False  # replaced meanwhile: the reader would take the new manifest's list
    except (OSError, duckdb.Error, json.JSONDecodeError):
        return path.exists()


class _Poller(threading.Thread):
    """Opens every visible file again and again while a run goes on; counts those it could not read whole."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.partial, self.stop = root, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for path in _visible_files(self.root):
                if _unreadable(path) and _unreadable(path):  # twice: a file replaced between list and open is fine
                    self.partial += 1
            time.sleep(0.05)


def _balanced(sources: Path, root: Path) -> bool:
    env = {**os.environ, "PLANTDATA_HOME": str(root)}
    plantdata = str(Path(sys.executable).parent / "plantdata")
    status = subprocess.run(
        [plantdata, "sources", "status", "--sources", str(sources), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = json.loads(status.stdout or "[]")
    return bool(rows) and all(r["balanced"] for r in rows)


def _versions(root: Path) -> list[int]:
    env = {**os.environ, "PLANTDATA_HOME": str(root)}
    plantdata = str(Path(sys.executable).parent / "plantdata")
    listed = subprocess.run(
        [plantdata, "catalog", "list", "--json"], env=env, capture_output=True, text=True, check=False
    )
    return sorted(int(d["version"]) for d in json.loads(listed.stdout or "[]"))


def run_chaos(trials: int, folder: Path) -> dict[str, Any]:
    """Run `trials` kill-and-rerun trials; return the counts (and the kill points used, in seconds)."""
    shutil.rmtree(folder, ignore_errors=True)
    sources = make_plant(folder)
    reference = folder / "reference"
    started = time.perf_counter()
    _run(sources, reference).wait()
    duration = time.perf_counter() - started
    expected, expected_versions = published(reference), _versions(reference)
    identical = partial_seen = balance_ok = 0
    kills = []
    for trial in range(trials):
        root = folder / f"trial-{trial}"
        poller = _Poller(root)
        poller.start()
        run = _run(sources, root)
        kill_at = duration * (trial + 0.5) / trials
        try:
            run.wait(timeout=kill_at)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        kills.append(round(kill_at, 2))
        _run(sources, root).wait()
        poller.stop.set()
        poller.join()
        partial_seen += poller.partial
        identical += published(root) == expected and _versions(root) == expected_versions
        balance_ok += _balanced(sources, root)
    return {
        "trials": trials,
        "identical": identical,
        "partial_seen": partial_seen,
        "balance_ok": balance_ok,
        "uninterrupted_run_s": round(duration, 2),
        "kill_points_s": kills,
    }
