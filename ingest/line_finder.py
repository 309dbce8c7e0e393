"""Finding the line numbers of a few rows in a CSV file by their raw field values.

DuckDB reports line numbers for lines it cannot parse but not for rows that parse and then break a
row rule; those are rare, so a streaming pass over the file with Python's csv module locates them.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

from ingest.config import CsvOptions


def find_lines(path: str, options: CsvOptions, rows: Sequence[tuple[str | None, ...]]) -> list[int | None]:
    """1-based physical line numbers of `rows` (each row once, in file order); None where not found."""
    nulls = set(options.null_values)
    wanted: dict[tuple[str | None, ...], list[int]] = {}
    for position, row in enumerate(rows):
        wanted.setdefault(tuple(row), []).append(position)
    found: list[int | None] = [None] * len(rows)
    remaining = len(rows)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=options.delimiter, quotechar=options.quote)
        skip = options.skip_rows + (1 if options.header and not options.column_names else 0)
        for record in reader:
            if reader.line_num <= skip:
                continue
            key = tuple(None if value.strip() in nulls else value.strip() for value in record)
            positions = wanted.get(key)
            if positions:
                found[positions.pop(0)] = reader.line_num
                remaining -= 1
                if remaining == 0:
                    break
    return found
