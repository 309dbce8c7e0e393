"""Re-read a published release and count the personal data still in it, independently of how it was written.

The check uses what needs no guessing: contact details, employee ids and roster names (no NER model), over
each distinct value of every text column. A pseudonymised or redacted release must come back empty.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from catalog.pii.scanner import ScannerSettings, Treatment, shared_scanner
from catalog.pii.text_columns import text_value_counts


def listed_personal_data(release: Path, settings: ScannerSettings) -> dict[str, dict[str, int]]:
    """`{column: {entity type: rows}}` of patterns and roster names found in the release's text columns."""
    scanner = shared_scanner(dataclasses.replace(settings, ner=False, treatment=Treatment.REDACT))
    scanner.clear_cache()
    found: dict[str, dict[str, int]] = {}
    for column, values in text_value_counts(sorted(release.glob("*/part-*.parquet"))):
        masked = scanner.mask_many(values, names=False)
        total: Counter[str] = Counter()
        for value, rows in values.items():
            for entity in masked[value][1]:
                total[entity] += rows
        if total:
            found[column] = dict(total)
    return found
