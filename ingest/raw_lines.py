"""Counting a text export's lines from its raw bytes, without any CSV tokenizer.

The balance of a partition (rows in = rows out + rows quarantined) is only a proof that nothing was lost if
rows in is counted by something that cannot make the parser's mistakes. A quote that never closes makes a CSV
parser read the rest of the file as one field; a newline count does not care. Empty lines (nothing but the
line break) are not rows for any reader, so they are counted apart; a line of blanks is a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

_NL, _CR = 10, 13
MAX_LISTED_EMPTY = 100_000


@dataclass
class RawLines:
    """Physical lines of a text file: how many hold something, and where the empty ones are."""

    physical: int = 0  # every line, the last one even without a final line break
    empty: list[int] = field(default_factory=list)  # 1-based numbers of empty lines (at most MAX_LISTED_EMPTY)
    empty_count: int = 0

    @property
    def non_empty(self) -> int:
        return self.physical - self.empty_count

    def data_lines(self, preamble: int) -> int:
        """Non-empty lines after the first `preamble` physical lines (header, skipped rows)."""
        return self.non_empty - (preamble - sum(1 for line in self.empty if line <= preamble))


class LineCounter:
    """Feed chunks of a file in order; `result()` gives its `RawLines`. Chunk boundaries may fall anywhere."""

    def __init__(self) -> None:
        self._lines = RawLines()
        self._offset = 0  # bytes seen before the current chunk
        self._line_start = 0  # offset of the current line's first byte
        self._pending_cr = False  # the previous chunk ended with '\r'
        self._scratch = np.empty((2, 0), dtype=bool)

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        data = np.frombuffer(chunk, dtype=np.uint8)
        if self._scratch.shape[1] < len(chunk):  # reused: a fresh array per chunk costs its page faults every time
            self._scratch = np.empty((2, len(chunk)), dtype=bool)
        line_feeds = np.equal(data, _NL, out=self._scratch[0, : len(chunk)])
        if not _may_hold_empty_lines(chunk, line_feeds, self._scratch[1]):  # nearly every chunk: count only
            self._lines.physical += int(np.count_nonzero(line_feeds))
            last = chunk.rfind(b"\n")
            if last >= 0:
                self._line_start = self._offset + last + 1
            self._pending_cr = bool(data[-1] == _CR)
            self._offset += len(chunk)
            return
        breaks = np.flatnonzero(line_feeds)
        if len(breaks):
            starts = np.empty(len(breaks), dtype=np.int64)
            starts[0] = self._line_start - self._offset
            starts[1:] = breaks[:-1] + 1
            length = breaks - starts
            before = np.zeros(len(breaks), dtype=bool)  # the byte before each '\n' is '\r'
            inside = breaks > 0
            before[inside] = data[breaks[inside] - 1] == _CR
            if breaks[0] == 0:
                before[0] = self._pending_cr
            empty = (length == 0) | ((length == 1) & before)
            numbers = np.flatnonzero(empty) + self._lines.physical + 1
            room = MAX_LISTED_EMPTY - len(self._lines.empty)
            if room > 0:
                self._lines.empty.extend(int(n) for n in numbers[:room])
            self._lines.empty_count += int(empty.sum())
            self._lines.physical += len(breaks)
            self._line_start = self._offset + int(breaks[-1]) + 1
        self._pending_cr = bool(data[-1] == _CR)
        self._offset += len(chunk)

    def result(self) -> RawLines:
        """The count so far; a last line without a final line break counts when it holds anything but '\\r'."""
        lines = RawLines(self._lines.physical, list(self._lines.empty), self._lines.empty_count)
        tail = self._offset - self._line_start
        if tail > 0:
            lines.physical += 1
            if tail == 1 and self._pending_cr:
                lines.empty_count += 1
                if len(lines.empty) < MAX_LISTED_EMPTY:
                    lines.empty.append(lines.physical)
        return lines


def _may_hold_empty_lines(chunk: bytes, line_feeds: npt.NDArray[np.bool_], scratch: npt.NDArray[np.bool_]) -> bool:
    """Whether a chunk may hold an empty line: two line feeds in a row, a line feed, carriage return and line feed,
    or a start that may end an empty line begun in the chunk before. `scratch` is room for one mask of the chunk."""
    if chunk[:1] in (b"\n", b"\r") or len(chunk) < 3:
        return True
    size = len(chunk)
    if np.logical_and(line_feeds[1:], line_feeds[:-1], out=scratch[: size - 1]).any():
        return True
    if chunk.find(b"\r", 1, size - 1) < 0:  # no carriage return inside (memchr: most exports end lines with '\n')
        return False
    returns = np.equal(np.frombuffer(chunk, dtype=np.uint8)[1:-1], _CR, out=scratch[: size - 2])
    np.logical_and(returns, line_feeds[2:], out=returns)
    return bool(np.logical_and(returns, line_feeds[:-2], out=returns).any())


def count_lines(chunks: Iterable[bytes]) -> RawLines:
    counter = LineCounter()
    for chunk in chunks:
        counter.feed(chunk)
    return counter.result()
