"""Time-series examples: fixed windows of resampled readings per equipment, one feature column per signal and
aggregate (`VIB_RMS__mean`).

Readings are averaged into `resample` buckets first (a steady rate whatever each tag's sampling), then each
window aggregates the buckets inside it: a window holds only readings from its own [start, end), so splitting
whole windows can never put one reading on both sides of a boundary. Readings of bad quality are left out.

Floating-point sums depend on the order of their terms, which parallel aggregation and the release files' row
order change from run to run (the last bits, and so the content hashes, would change): every sum is ordered by
time and value, and aggregation runs on one DuckDB thread.
"""

from __future__ import annotations

import re
from datetime import timedelta

import duckdb
import polars as pl
import pyarrow as pa

from task_datasets.errors import TaskDatasetError
from task_datasets.inputs import ReleasedInput
from task_datasets.register import Register, signal_of
from task_datasets.spec import WindowsSpec, parse_duration

MIN_COVERAGE = 0.5  # of a window's resample buckets a signal must fill, else its features are null
_ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"


def feature_name(signal: str, aggregate: str) -> str:
    """`VIB_RMS__mean`; characters other than letters, digits and `_` become `_` (`Volume Flow RateRMS`)."""
    return f"{re.sub(r'[^0-9A-Za-z_]+', '_', signal)}__{aggregate}"


def build_windows(
    readings: ReleasedInput, register: Register, spec: WindowsSpec, by_entity: bool, extra_signals: list[str]
) -> pl.DataFrame:
    """One row per (equipment, entity, window start) with `window_start`, `window_end`, `equipment`, `entity` and
    the features; `extra_signals` (used by label rules, never features) come as `_max__<signal>`."""
    window = parse_duration(spec.window)
    step = parse_duration(spec.step) if spec.step else window
    resample = parse_duration(spec.resample)
    if window % step or window % resample or step < resample:
        raise TaskDatasetError(
            f"windows of {spec.window} with step {spec.step or spec.window} and resample {spec.resample}: the window "
            "must be a whole number of steps and of resample periods; change window, step or resample"
        )
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET threads = 1")  # sums in one fixed order: the same readings give the same bits
        files = [str(f) for f in readings.files]
        columns = {r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [files]).fetchall()}
        con.register("tagmap", _tag_map(con, files, columns, register, spec, extra_signals))
        entity = "p.source_file" if by_entity else "''"
        good = "AND p.quality_class IS DISTINCT FROM 'bad'" if "quality_class" in columns else ""
        con.execute(
            f"""CREATE TEMP TABLE buckets AS
            SELECT m.equipment, {entity} AS entity, m.signal,
                   time_bucket(to_microseconds(?), p.ts, {_ORIGIN}) AS t,
                   avg(p.value ORDER BY p.ts, p.value) AS v
            FROM read_parquet(?) p JOIN tagmap m ON m.tag = p.tag
            WHERE p.value IS NOT NULL AND isfinite(p.value) {good} GROUP BY ALL""",
            [_micros(resample), files],
        )
        per_window = window // resample
        long = con.sql(
            f"""WITH w AS (
                SELECT b.*, time_bucket(to_microseconds(?), b.t, {_ORIGIN}) - to_microseconds(?) * s.i AS window_start
                FROM buckets b, range(?) s(i))
            SELECT equipment, entity, window_start, signal, avg(v ORDER BY t) AS mean,
                   stddev_pop(v ORDER BY t) AS std, min(v) AS min, max(v) AS max, arg_max(v, t) AS last, count(*) AS n
            FROM w WHERE t < window_start + to_microseconds(?) GROUP BY ALL""",
            params=[_micros(step), _micros(step), window // step, _micros(window)],
        ).pl()
    finally:
        con.close()
    if long.is_empty():
        raise TaskDatasetError(
            f"{readings.dataset} v{readings.version} has no readings of signals {spec.signals} on equipment "
            f"{spec.equipment}; correct examples.equipment or examples.signals"
        )
    return _wide(long, spec, extra_signals, per_window, window)


def _tag_map(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    columns: set[str],
    register: Register,
    spec: WindowsSpec,
    extra: list[str],
) -> pa.Table:
    """tag -> (equipment, signal) for the wanted equipment and signals: through the register, else the readings'
    own `equipment_id` (a source without a register names its one equipment in its sources entry)."""
    wanted = set(spec.signals) | set(extra)
    pairs: list[tuple[str, str]] = []
    if register.tag_equipment:
        pairs = [(t, e) for e in spec.equipment for t in register.tags_of(e)]
    elif "equipment_id" in columns:
        found = con.execute(
            "SELECT DISTINCT tag, equipment_id FROM read_parquet(?) WHERE equipment_id IN (SELECT unnest(?)) "
            "ORDER BY ALL",
            [files, spec.equipment],
        ).fetchall()
        pairs = [(str(t), str(e)) for t, e in found]
    rows = [(t, e, signal_of(t)) for t, e in pairs if signal_of(t) in wanted]
    return pa.table(
        {"tag": [r[0] for r in rows], "equipment": [r[1] for r in rows], "signal": [r[2] for r in rows]},
        schema=pa.schema([("tag", pa.string()), ("equipment", pa.string()), ("signal", pa.string())]),
    )


def _wide(long: pl.DataFrame, spec: WindowsSpec, extra: list[str], per_window: int, window: timedelta) -> pl.DataFrame:
    """Pivot to one row per window; a signal that filled too few buckets gives null features; windows without
    any feature are dropped."""
    keys = ["equipment", "entity", "window_start"]
    covered = long.with_columns(ok=pl.col("n") >= MIN_COVERAGE * per_window)
    aggregates = list(spec.aggregates)
    columns = [
        pl.when(pl.col("ok") & (pl.col("signal") == s)).then(pl.col(a)).max().alias(feature_name(s, a))
        for s in spec.signals
        for a in aggregates
    ] + [pl.when(pl.col("signal") == s).then(pl.col("max")).max().alias(f"_max__{s}") for s in extra]
    wide = covered.group_by(keys).agg(columns)
    features = [feature_name(s, a) for s in spec.signals for a in aggregates]
    wide = wide.filter(pl.any_horizontal(pl.col(features).is_not_null()))
    return wide.with_columns(window_end=pl.col("window_start") + window).sort(keys)


def _micros(delta: timedelta) -> int:
    return int(delta / timedelta(microseconds=1))
