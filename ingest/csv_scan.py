"""Building DuckDB `read_csv` calls from a source's CSV options, with rejected lines kept.

DuckDB parses typed columns at full speed and, with `store_rejects`, records every line it cannot
parse with its file, line number, raw text and error: that is our quarantine for parse failures.
"""

from __future__ import annotations

import csv
import re
from typing import Any, BinaryIO

from config.kinds import QuarantineRule
from config.sources import CsvOptions
from ingest.columns import LOOKS_LIKE_DATA
from ingest.errors import SourceFileError
from ingest.line_finder import lone_carriage_return_line

HEAD_BYTES = 64 << 10  # read first for the header; more only when its lines are longer
HEADER_SEARCH = 30  # lines after the configured header where a header further down is looked for

_ERROR_RULES = {
    "MISSING COLUMNS": QuarantineRule.MISSING_COLUMNS,
    "TOO MANY COLUMNS": QuarantineRule.TOO_MANY_COLUMNS,
    "UNQUOTED VALUE": QuarantineRule.UNQUOTED_VALUE,
    "LINE SIZE OVER MAXIMUM": QuarantineRule.LINE_TOO_LONG,
    "INVALID UNICODE": QuarantineRule.INVALID_ENCODING,
    "INVALID ENCODING": QuarantineRule.INVALID_ENCODING,
}


def read_header(path: str, options: CsvOptions, display: str) -> list[str]:
    """The file's column names: from config when it has no header row, else its first line (after skip_rows).

    `path` is the local UTF-8 text; problems name `display`, the export as the user knows it.
    """
    if options.column_names and not options.header:
        return list(options.column_names)
    try:
        with open(path, "rb") as handle:
            head = _read_head(handle, options)
    except FileNotFoundError as exc:
        raise SourceFileError(display, "the file disappeared while being read", retryable=True) from exc
    text = head.decode("utf-8-sig", errors="replace")
    lines = [line.rstrip("\r") for line in text.split("\n")] if text else []
    if text.endswith("\n"):
        lines.pop()
    if len(lines) <= options.skip_rows:
        raise SourceFileError(
            display,
            "the file is empty: no header row",
            fix="check that the export is complete (an export still being written is picked up again when it changes)",
        )
    line = lines[options.skip_rows]
    if "\x00" in line or (b"\x00" in head and line.count(options.field_delimiter) < 1):
        raise SourceFileError(
            display,
            "it does not look like delimited text (it holds NUL bytes): a binary file, or text in an encoding "
            "detection did not recognise",
            fix="check that it is a CSV export; if it is, declare csv.encoding (e.g. utf-16)",
        )
    if options.column_names:  # header present but names overridden
        return list(options.column_names)
    fields = next(csv.reader([line], delimiter=options.field_delimiter, quotechar=options.quote), [])
    names = [name.strip() for name in fields]
    few = len([n for n in names if n]) < 2
    if few or _is_comment(line):  # a comment holding the delimiter still splits into columns
        header_at = _header_further_down(lines, options)
        if not line.strip() or header_at is not None:
            where = f"line {options.skip_rows + 1}, where the header should be, is " + (
                "empty" if not line.strip() else f"{line[:80]!r}"
            )
            fix = (
                f"set csv.skip_rows: {header_at} (the header looks like line {header_at + 1})"
                if header_at is not None
                else "set csv.skip_rows to the number of lines before the header"
            )
            raise SourceFileError(display, where, fix=fix)
        guess = _guess_delimiter(line, options.delimiter) if few else ""
        if guess:
            raise SourceFileError(
                display,
                f"the header {line[:120]!r} has fewer than two columns with delimiter {options.delimiter!r}",
                fix=f"set csv.delimiter to the file's separator{guess}",
            )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        fix = "rename them in the export"
        if any(LOOKS_LIKE_DATA.match(n) for n in names):
            fix = (
                "its first line looks like data, not a header: if the export has no header row, set csv: "
                f"{{header: false, column_names: [...]}} listing its {len(names)} columns in order"
            )
        raise SourceFileError(display, f"the header repeats column names {duplicated}", fix=fix)
    return names


def _read_head(handle: BinaryIO, options: CsvOptions) -> bytes:
    """The file's first lines: the header and the lines `_header_further_down` looks at, read 64 KiB first and
    doubled while they are not all there, never past `max_line_bytes`. Reading and splitting all of
    `max_line_bytes` (2 MB) for every file cost a small export more than its scan."""
    wanted = options.skip_rows + HEADER_SEARCH + 1  # complete lines: each ends with a line feed
    head = handle.read(min(HEAD_BYTES, options.max_line_bytes))
    while head.count(b"\n") < wanted and len(head) < options.max_line_bytes:
        more = handle.read(min(len(head), options.max_line_bytes - len(head)))
        if not more:
            break
        head += more
    return head


def _header_further_down(lines: list[str], options: CsvOptions) -> int | None:
    """The skip_rows that would put the header on the first of the next lines splitting into two named columns
    or more with the delimiter (a preamble longer than configured)."""
    for number in range(options.skip_rows + 1, min(len(lines), options.skip_rows + HEADER_SEARCH)):
        if _is_comment(lines[number]):
            continue
        fields = next(csv.reader([lines[number]], delimiter=options.field_delimiter, quotechar=options.quote), [])
        if len([f for f in fields if f.strip()]) >= 2:
            return number
    return None


def _is_comment(line: str) -> bool:
    """A preamble line of the kind historian exports start with ('# Exported from ...')."""
    return line.lstrip().startswith("#")


def _guess_delimiter(line: str, configured: str) -> str:
    counts = {d: line.count(d) for d in ",;\t|" if d != configured}
    best = max(counts, key=lambda d: counts[d])
    return f" (it looks like {best!r})" if counts[best] else ""


def unparsable_cause(path: str, exc: Exception) -> tuple[str, str]:
    """(cause, fix) when DuckDB cannot parse a CSV file at all, in the export's terms where the cause is known."""
    message = str(exc).split("\n", 1)[0]
    if "state machine reached an invalid state" in message:
        line = lone_carriage_return_line(path)
        if line is not None:
            return (
                f"the CSV parser stopped at a carriage return (\\r) that does not end a line (the first is on "
                f"line {line})",
                "remove such characters or quote the fields that hold them in the export",
            )
    return f"DuckDB could not read it: {message}", "check the source's csv options against the file"


def read_csv_call(
    columns: dict[str, str],
    options: CsvOptions,
    *,
    timestamp_format: str | None,
    rejects: tuple[str, str] | None,
) -> tuple[str, list[Any]]:
    """`read_csv(?, ...)` and its parameters; the first parameter is the path, filled in by the caller."""
    args = [
        "header=?",
        "delim=?",
        "quote=?",
        "escape=?",
        "decimal_separator=?",
        "skip=?",
        "columns=?",
        "auto_detect=false",
        "nullstr=?",
        "max_line_size=?",
        "parallel=true",
    ]
    params: list[Any] = [
        options.header and not options.column_names,
        options.field_delimiter,
        options.quote,
        options.quote,
        options.decimal,
        options.skip_rows,
        columns,
        options.null_values,
        options.max_line_bytes,
    ]
    if options.header and options.column_names:  # header present but names overridden
        params[0] = True
    if options.thousands:
        args.append("thousands=?")
        params.append(options.thousands)
    if timestamp_format:
        args.append("timestampformat=?")
        params.append(timestamp_format)
    if rejects is not None:
        args += ["store_rejects=true", "rejects_table=?", "rejects_scan=?", "rejects_line_size_limit=0"]
        params += list(rejects)
    return f"read_csv(?, {', '.join(args)})", params


def rule_for_reject(
    error_type: str, column: str | None, time_columns: frozenset[str], tag_column: str | None
) -> QuarantineRule:
    """Which quarantine rule a DuckDB reject stands for: a value of any time column that does not parse is an
    invalid timestamp, whatever the partitioning."""
    if error_type == "CAST":
        if column in time_columns:
            return QuarantineRule.INVALID_TIMESTAMP
        if tag_column is not None and column == tag_column:
            return QuarantineRule.UNKNOWN_TAG
        return QuarantineRule.UNPARSEABLE_VALUE
    return _ERROR_RULES.get(error_type, QuarantineRule.UNPARSEABLE_VALUE)


def reject_field_sql(position: int) -> str:
    """SQL taking field `position` (0-based) out of a rejected line's raw text, without blanks and quotes.

    Its parameters are `reject_field_params`: the delimiter, then the quote character.
    """
    return f"trim(trim(string_split(ltrim(s.csv_line, chr(10) || chr(13)), ?)[{position + 1}]), ?)"


def reject_field_params(options: CsvOptions) -> list[str]:
    """The parameters of `reject_field_sql`, in its textual order."""
    return [options.field_delimiter, options.quote]


_BAD_VALUE = re.compile(r'Could not convert string "(?P<value>.*?)" to')


def reject_detail(rule: QuarantineRule, column: str | None, message: str) -> str:
    """A short reason for a rejected line, naming the column and the offending value."""
    match = _BAD_VALUE.search(message)
    value = match["value"] if match else None
    if rule is QuarantineRule.UNKNOWN_TAG:
        return f"tag {value!r} (column {column!r}) is not in the asset register"
    if rule in {QuarantineRule.UNPARSEABLE_VALUE, QuarantineRule.INVALID_TIMESTAMP} and value is not None:
        return f"column {column!r}: cannot read {value[:80]!r}"
    return message[:300]
