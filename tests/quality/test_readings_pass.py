"""The one-pass reading flags equal those of plain full windows over every reading, on data made to hit the
edge cases: runs of equal values, copies of a reading within and across files, missing values, spikes."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from config.kinds import SourceKind
from config.quality import QualityOptions
from quality.evaluate import TAG_STATS, create_base_view
from quality.readings_pass import flag_readings
from quality.rules import default_rules

COLUMNS = ["ts", "tag", "value", "quality", "quality_class", "equipment_id", "unit", "source_file"]
# The reference: every window over all readings, in the full order (the gate's rules before the one-pass rewrite).
ORDER = "ts, source_file, value NULLS LAST, quality NULLS LAST, _file, _row"
REFERENCE = f"""
CREATE OR REPLACE TEMP VIEW r AS
SELECT *, max(CASE WHEN _changed THEN ts END) OVER (PARTITION BY tag ORDER BY {ORDER} ROWS UNBOUNDED PRECEDING)
              AS _since,
          row_number() OVER (PARTITION BY tag, ts ORDER BY source_file, value NULLS LAST, quality NULLS LAST,
              _file, _row) AS _dup_rank
FROM (
    SELECT b.*, g.low_limit AS _low, g.high_limit AS _high, s._sigma, s._period,
           lag(value) OVER w AS _prev, lead(value) OVER w AS _next, lag(ts) OVER w AS _prev_ts,
           value IS DISTINCT FROM lag(value) OVER w AS _changed
    FROM base b LEFT JOIN register g USING (tag) LEFT JOIN tag_stats s USING (tag)
    WINDOW w AS (PARTITION BY tag ORDER BY {ORDER})
)
"""


def _readings(seed: int, file: str) -> pa.Table:
    rng = random.Random(seed)
    rows = []
    for tag in ("A", "B", "C"):
        value = 10.0
        for second in range(0, 3000, 10):
            roll = rng.random()
            if roll < 0.7:
                pass  # unchanged: runs of equal values, some long enough to be stuck
            elif roll < 0.72:
                value = None if value is not None else 10.0
            else:
                value = round((value or 10.0) + rng.choice([-1, 1]) * rng.random(), 1)
            shown = 500.0 if rng.random() < 0.01 else value  # a spike now and then
            ts = 1_711_792_800 + second + (10 if rng.random() < 0.05 else 0)  # some readings share a timestamp
            rows.append((ts, tag, shown))
    return pa.table(
        {
            "ts": pa.array([r[0] * 1_000_000 for r in rows], pa.timestamp("us", tz="UTC")),
            "tag": [r[1] for r in rows],
            "value": pa.array([r[2] for r in rows], pa.float64()),
            "quality": pa.array([192] * len(rows), pa.int64()),
            "quality_class": ["good"] * len(rows),
            "equipment_id": ["P-1"] * len(rows),
            "unit": ["bar"] * len(rows),
            "source_file": [file] * len(rows),
        }
    )


def _flagged(con: duckdb.DuckDBPyConnection, rules: list) -> set[tuple[str, str, int]]:  # type: ignore[type-arg]
    return {
        (rule.name, str(file), int(row))
        for rule in rules
        for file, row in con.execute(f"SELECT _file, _row FROM r WHERE COALESCE({rule.predicate}, false)").fetchall()
    }


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_one_pass_flags_equal_full_windows(tmp_path: Path, seed: int) -> None:
    files = []
    for number in range(2):  # two overlapping exports: copies of readings across files too
        path = tmp_path / f"part-{number}.parquet"
        table = _readings(seed + number, f"export-{number}.csv")
        pq.write_table(table if number == 0 else table.slice(0, 300), path)  # the second covers tag A only
        files.append(path)
    options = QualityOptions(stuck_after_s=30, spike_sigma=4)
    rules = [r for r in default_rules(SourceKind.HISTORIAN_LONG, options, True, COLUMNS) if r.level == "row"]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_base_view(con, files)
    con.execute(
        "CREATE TEMP TABLE register AS SELECT * FROM (VALUES ('A', 0.0, 100.0), ('B', 5.0, 15.0)) "
        "v(tag, low_limit, high_limit)"
    )
    con.execute(TAG_STATS)
    flag_readings(con, rules, {r.name: f"flag_{r.name}" for r in rules})
    fast = {
        (rule.name, str(file), int(row))
        for rule in rules
        for file, row in con.execute(f"SELECT _file, _row FROM flags WHERE flag_{rule.name}").fetchall()
    }
    con.execute(REFERENCE)
    reference = _flagged(con, rules)
    assert fast == reference
    found = {name for name, _, _ in reference}
    assert {"duplicate_reading", "stuck_signal", "spike", "value_present", "physical_range"} <= found, (
        "the data hits the rules it is meant to compare"
    )
