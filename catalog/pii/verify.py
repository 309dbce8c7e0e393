"""Re-read a published release and count the personal data still in it, independently of how it was written.

The check uses what needs no guessing: contact details, employee ids and roster names (no NER model), over
each distinct value of every text column. A pseudonymised or redacted release must come back empty.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from catalog.pii.scanner import ScannerSettings, shared_scanner
from quality.evaluate import path_list


def listed_personal_data(release: Path, settings: ScannerSettings) -> dict[str, dict[str, int]]:
    """`{column: {entity type: rows}}` of patterns and roster names found in the release's text columns."""
    files = sorted(release.glob("*/part-*.parquet"))
    if not files:
        return {}
    scanner = shared_scanner(ScannerSettings(settings.roster_names, settings.secret, ner=False))
    scanner.clear_cache()
    relation = f"read_parquet({path_list(files)}, hive_partitioning = false)"
    found: dict[str, dict[str, int]] = {}
    with duckdb.connect() as con:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        for column in [str(row[0]) for row in described if str(row[1]) == "VARCHAR"]:
            ident = '"' + column.replace('"', '""') + '"'
            counted = con.execute(f"SELECT {ident}, count(*) FROM {relation} WHERE {ident} IS NOT NULL GROUP BY ALL")
            values = {str(value): int(rows) for value, rows in counted.fetchall()}
            masked = scanner.mask_many(values, names=False)
            total: Counter[str] = Counter()
            for value, rows in values.items():
                for entity in masked[value][1]:
                    total[entity] += rows
            if total:
                found[column] = dict(total)
    return found
