"""Export latency (timeliness): how long after a reading was taken its export file was written.

The export time of a file is its modification time as discovery found it (the manifest keeps it per file; on object
storage it is the object's LastModified). A reading is late when its file was written more than
`max_export_latency_hours` after it: a daily export written shortly after midnight has readings up to a day old,
so the limit of a daily export is a day plus the usual delay. A late reading scores limit / latency (at twice the
limit: 0.5), an on-time one 1: the score says how late, not only whether.
"""

from __future__ import annotations

import duckdb


def export_latency(
    con: duckdb.DuckDBPyConnection, exported: dict[str, float], max_hours: float
) -> tuple[int, int, float, str]:
    """(readings evaluated, late readings, score, detail) over view `base`; files without an export time are not
    judged."""
    if not exported:
        return 0, 0, 1.0, "not evaluated: the manifest has no export times (standardise the partition again)"
    con.execute("CREATE OR REPLACE TEMP TABLE export_times (file VARCHAR, written TIMESTAMPTZ)")
    con.executemany("INSERT INTO export_times VALUES (?, to_timestamp(?))", sorted(exported.items()))
    limit = 3600.0 * max_hours
    rows = con.execute(
        "SELECT e.file, count(*), count_if(b.ts < e.written - to_seconds(?)), epoch(e.written - max(b.ts)) / 3600, "
        "sum(least(1.0, ? / greatest(epoch(e.written - b.ts), 1.0))) "
        "FROM base b JOIN export_times e ON b.source_file::VARCHAR = e.file GROUP BY e.file, e.written ORDER BY e.file",
        [limit, limit],
    ).fetchall()
    evaluated = sum(int(r[1]) for r in rows)
    late = sum(int(r[2]) for r in rows)
    score = sum(float(r[4]) for r in rows) / evaluated if evaluated else 1.0
    files = [f"{r[0]} written {r[3]:.1f} h after its newest reading here" for r in rows if r[2]]
    detail = f"{late} of {evaluated} readings exported more than {max_hours:g} h after they were taken: " + "; ".join(
        files
    )
    return evaluated, late, score, detail if late else ""
