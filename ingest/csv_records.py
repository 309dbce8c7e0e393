"""Splitting a delimited text file into records line by line, so that a broken quote cannot swallow rows.

CSV lets a quoted field hold line breaks, so a quote that never closes turns every later line into one
field. DuckDB's parser (like any CSV parser) does that; the raw line count then no longer matches the
records. Files where the two disagree are read here instead: a record that spans several lines but does
not have the header's number of fields, or whose quote is still open at the end of the file (or after
`max_record_lines`), is taken for a broken quote. Its first line is quarantined alone and reading resumes
on the next line, so every physical line ends up in exactly one published or quarantined record.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from config.kinds import QuarantineRule
from config.sources import CsvOptions

MAX_RECORD_LINES = 1000
_CR_STAND_IN = "\ue000"  # a private-use character, for '\r' while the csv module splits a record


@dataclass(frozen=True)
class Record:
    """One record: the physical line it starts on, its raw text, and its fields or why it has none."""

    line: int
    span: int  # non-empty physical lines it covers: the spans of a file's records add up to its raw line count
    raw: str
    fields: list[str | None] | None
    rule: QuarantineRule | None = None
    detail: str = ""


def _quote_open_after(text: str, open_: bool, delimiter: str, quote: str) -> bool:
    """Whether a quoted field is still open at the end of `text`, given the state at its start (RFC 4180)."""
    if quote not in text:
        return open_
    at_field_start = not open_
    closing = False  # in a quoted field, just after a quote: a second one is an escaped quote
    for char in text:
        if open_:
            if closing:
                if char == quote:
                    closing = False
                    continue
                open_, closing = False, False
                at_field_start = char == delimiter
            elif char == quote:
                closing = True
            continue
        if char == delimiter:
            at_field_start = True
        elif char == quote and at_field_start:
            open_, at_field_start = True, False
        elif char not in "\r\n":
            at_field_start = False
    return open_ and not closing


def read_records(path: str, options: CsvOptions, width: int, preamble: int) -> Iterator[Record]:
    """Records of a UTF-8 file after its first `preamble` lines; `width` is the number of fields a row has."""
    nulls = set(options.null_values)
    pushed: deque[tuple[int, str]] = deque()
    with open(path, "rb") as handle:  # lines end at '\n' only, as the raw line count has it
        numbered = (
            (number, raw.decode("utf-8-sig" if number == 1 else "utf-8", errors="replace"))
            for number, raw in enumerate(handle, start=1)
            if number > preamble
        )

        def next_line() -> tuple[int, str] | None:
            if pushed:
                return pushed.popleft()
            return next(numbered, None)

        while (first := next_line()) is not None:
            start, text = first
            if not text.strip("\r\n"):
                continue  # an empty line is no record for any reader
            lines = [first]
            open_ = _quote_open_after(text, False, options.field_delimiter, options.quote)
            while open_ and len(lines) < MAX_RECORD_LINES and (following := next_line()) is not None:
                lines.append(following)
                open_ = _quote_open_after(following[1], True, options.field_delimiter, options.quote)
            raw = "".join(t for _, t in lines).rstrip("\r\n")
            fields = None if open_ else _fields(raw, options)
            if fields is not None and len(fields) == width + 1 and not fields[-1]:
                fields = fields[:-1]  # a trailing delimiter, as DuckDB's reader allows it
            if fields is not None and len(fields) == width:
                span = sum(1 for _, t in lines if t.strip("\r\n"))
                yield Record(start, span, raw, [None if f.strip() in nulls else f for f in fields])
                continue
            if len(lines) > 1:  # a broken quote: keep its first line, read the others again
                pushed.extendleft(reversed(lines[1:]))
                yield Record(
                    start,
                    1,
                    text.rstrip("\r\n"),
                    None,
                    QuarantineRule.UNQUOTED_VALUE,
                    "a quote opened on this line does not close where the row ends; the following lines are "
                    "read as rows of their own",
                )
                continue
            yield _misshapen(start, raw, fields, width)


def _fields(raw: str, options: CsvOptions) -> list[str]:
    """The record's fields; a lone carriage return is text here (Python's csv module refuses it unquoted)."""
    guarded = raw.replace("\r", _CR_STAND_IN)
    fields = next(csv.reader([guarded], delimiter=options.field_delimiter, quotechar=options.quote))
    return [f.replace(_CR_STAND_IN, "\r") for f in fields]


def _misshapen(line: int, raw: str, fields: list[str] | None, width: int) -> Record:
    if fields is None:
        return Record(line, 1, raw, None, QuarantineRule.UNQUOTED_VALUE, "a quoted value is not closed")
    rule = QuarantineRule.MISSING_COLUMNS if len(fields) < width else QuarantineRule.TOO_MANY_COLUMNS
    return Record(line, 1, raw, None, rule, f"expected {width} fields, found {len(fields)}")
