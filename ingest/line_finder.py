"""Finding the physical line numbers of a few rows in a CSV file.

DuckDB numbers the lines it cannot parse by record, which a quoted field holding line breaks shifts, so
their line is recounted from the byte position DuckDB reports. Rows that parse and then break a row rule
have no line number at all; those are rare, so a streaming pass with Python's csv module locates them.
"""

from __future__ import annotations

import csv
import mmap
import os
import re
from collections.abc import Sequence

from config.sources import CsvOptions

_CHUNK = 8 << 20
_LONE_CR = re.compile(rb"\r(?!\n)")


def find_lines(path: str, options: CsvOptions, rows: Sequence[tuple[str | None, ...]]) -> list[int | None]:
    """1-based physical line numbers of `rows` (each row once, in file order); None where not found."""
    nulls = set(options.null_values)
    wanted: dict[tuple[str | None, ...], list[int]] = {}
    for position, row in enumerate(rows):
        wanted.setdefault(tuple(row), []).append(position)
    found: list[int | None] = [None] * len(rows)
    remaining = len(rows)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=options.field_delimiter, quotechar=options.quote)
        skip = options.skip_rows + (1 if options.header else 0)
        start = 1  # a record's first line: line_num is its last one when a quoted field holds line breaks
        for record in reader:
            line, start = start, reader.line_num + 1
            if reader.line_num <= skip:
                continue
            key = tuple(None if value in nulls else value for value in record)
            positions = wanted.get(key)
            if positions:
                found[positions.pop(0)] = line
                remaining -= 1
                if remaining == 0:
                    break
    return found


def line_texts(path: str, lines: Sequence[int | None]) -> dict[int, str]:
    """The raw text of physical `lines` (1-based), as the export wrote them (quotes and all)."""
    wanted = {line for line in lines if line is not None}
    texts: dict[int, str] = {}
    if not wanted:
        return texts
    last = max(wanted)
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number in wanted:
                texts[number] = raw.decode("utf-8-sig" if number == 1 else "utf-8", errors="replace").rstrip("\r\n")
            if number >= last:
                break
    return texts


def lines_at(path: str, positions: Sequence[int]) -> list[int]:
    """1-based physical line numbers of the records starting at byte `positions` (DuckDB's line_byte_position).

    A position may point at the line break before its record; line breaks there belong to earlier lines.
    """
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        starts = {position: _record_start(data, position) for position in positions}
        line_of: dict[int, int] = {}
        counted = newlines = 0
        for start in sorted(set(starts.values())):
            newlines += _count_newlines(data, counted, start)
            counted = start
            line_of[start] = newlines + 1
    return [line_of[starts[position]] for position in positions]


def _record_start(data: mmap.mmap, position: int) -> int:
    start = min(position, len(data))
    while start < len(data) and data[start] in b"\r\n":
        start += 1
    return start


def _count_newlines(data: mmap.mmap, start: int, end: int) -> int:
    return sum(data[i : min(i + _CHUNK, end)].count(b"\n") for i in range(start, end, _CHUNK))


def lone_carriage_return_line(path: str) -> int | None:
    """The line of the file's first carriage return that is not followed by a line feed; None if it has none."""
    if os.path.getsize(path) == 0:
        return None
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        match = _LONE_CR.search(data)
        return None if match is None else _count_newlines(data, 0, match.start()) + 1
