"""Guessing the text encoding of a plant export whose source says `encoding: auto`.

Exports can be gigabytes, so only a sample is read: the head, a few evenly spaced chunks and the tail.
BOMs, BOM-less UTF-16, ASCII and UTF-8 are decided by rule; the rest goes to charset-normalizer, whose
answers on short, repetitive exports are steered towards the supersets plants actually write.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from charset_normalizer import from_bytes

_HEAD, _CHUNK, _CHUNKS = 1 << 20, 256 << 10, 4
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = bytes([*range(0x09), *range(0x0E, 0x20), 0x7F])  # C0 controls and DEL, except tab, LF, VT, FF, CR
# Ties between candidates are broken towards what Windows plant PCs write: cp1252 in Europe, GBK (as its
# superset gb18030) in China, cp932 in Japan. The supersets decode everything their subsets do.
_PREFERRED = ("cp1252", "gb18030", "cp932")
_SUPERSETS = {"iso8859-1": "cp1252", "gbk": "gb18030", "gb2312": "gb18030", "shift_jis": "cp932"}


@dataclass(frozen=True)
class DetectedEncoding:
    """A Python codec for the file, how it was decided (recorded in file metadata) and how sure we are."""

    encoding: str
    how: str
    confidence: float


def detect_encoding(read: Callable[[int, int], bytes], size: int) -> DetectedEncoding:
    """The encoding of a file of `size` bytes, from at most about 2.25 MiB read with `read(offset, length)`.

    `how` is 'bom', 'ascii', 'utf-8', 'detected' or 'fallback'; 'fallback' (utf-8) means the sample looks
    binary or nothing decodes it, so the caller should expect unreadable or invalid lines.
    """
    head = read(0, min(size, _HEAD))
    for bom, name in _BOMS:
        if head.startswith(bom):
            return DetectedEncoding(name, "bom", 1.0)
    if utf16 := _bomless_utf16(head):
        return utf16
    sample = _sample(read, size, head)
    if _binary(sample):
        return DetectedEncoding("utf-8", "fallback", 0.0)
    if sample.isascii():
        return DetectedEncoding("utf-8", "ascii", 1.0)
    if _decoded(sample, "utf-8") is not None:
        return DetectedEncoding("utf-8", "utf-8", 1.0)
    if _mostly_utf8(line for line in sample.splitlines() if not line.isascii()):
        return DetectedEncoding("utf-8", "utf-8 (some lines not)", 0.9)
    # ASCII lines decode alike in every candidate and would dilute charset-normalizer's small windows
    matches = from_bytes(b"".join(line for line in sample.splitlines(keepends=True) if not line.isascii()))
    best = matches.best()
    if best is None:
        return DetectedEncoding("utf-8", "fallback", 0.0)
    tied = {codecs.lookup(n).name for m in matches if m.chaos <= best.chaos for n in m.could_be_from_charset}
    name = next((n for n in _PREFERRED if n in tied), codecs.lookup(best.encoding).name)
    superset = _SUPERSETS.get(name, name)
    name = superset if _decoded(sample, superset) is not None else name
    if _decoded(sample, name) is None:  # charset-normalizer saw only the non-ASCII lines
        return DetectedEncoding("utf-8", "fallback", 0.0)
    return DetectedEncoding(name, "detected", round(1.0 - best.chaos, 3))


class Utf8Check:
    """Feed a file's chunks in order; `valid()` says whether the whole is UTF-8. ASCII chunks (nearly all of a plant
    export) cost a byte scan only. Fed beside the sha256, it spares a read of its own."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._broken = False

    def feed(self, chunk: bytes) -> None:
        if self._broken or (chunk.isascii() and self._decoder.getstate()[0] == b""):
            return
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError:
            self._broken = True

    def valid(self) -> bool:
        if self._broken:
            return False
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
        return True


def is_utf8(path: str) -> bool:
    """Whether a whole file is valid UTF-8."""
    check = Utf8Check()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 << 20):
            check.feed(chunk)
    return check.valid()


def recheck_utf8(path: str, limit: int = 4 << 20) -> DetectedEncoding | None:
    """For a file the sample called UTF-8: None if every line is UTF-8, else the encoding of the lines that are
    not (at most `limit` bytes of them are looked at). One streaming pass; only non-ASCII lines are decoded."""
    bad = bytearray()
    good = 0
    with open(path, "rb") as handle:
        for line in handle:
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                good += 1
            except UnicodeDecodeError:
                bad += line
                if len(bad) >= limit:
                    break
    if not bad or good >= MOSTLY * (good + bad.count(b"\n")):  # UTF-8 with a few broken lines: those are quarantined
        return None
    found = detect_encoding(lambda offset, length: bytes(bad[offset : offset + length]), len(bad))
    return found if found.how == "detected" else None


MOSTLY = 0.8  # of the lines with non-ASCII bytes, this share valid UTF-8 means a UTF-8 file with a few bad lines


def _mostly_utf8(lines: Iterable[bytes]) -> bool:
    """Most lines with non-ASCII bytes are valid UTF-8 (a UTF-8 export with a few lines pasted from elsewhere)."""
    good = bad = 0
    for line in lines:
        if _decoded(line, "utf-8") is None:
            bad += 1
        else:
            good += 1
    return good > 0 and good >= MOSTLY * (good + bad)


def _sample(read: Callable[[int, int], bytes], size: int, head: bytes) -> bytes:
    """The head, and for big files evenly spaced chunks and the tail, each cut at line breaks.

    Cutting at CR or LF keeps multi-byte characters whole: no byte of a UTF-8, GBK or Shift-JIS
    sequence after the first is below 0x30.
    """
    if size <= _HEAD + (_CHUNKS + 1) * _CHUNK:
        return head + read(len(head), size - len(head)) if size > len(head) else head
    last = max(head.rfind(b"\n"), head.rfind(b"\r"))
    if last < 0:  # no line in the first MiB: not a CSV export, and no safe place to cut the others
        return head
    gap = (size - _HEAD - _CHUNK) // (_CHUNKS + 1)
    parts = [head[: last + 1]]
    for offset in [_HEAD + k * gap for k in range(1, _CHUNKS + 1)] + [size - _CHUNK]:
        chunk = read(offset, _CHUNK)
        first = min((i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0), default=len(chunk))
        last = len(chunk) - 1 if offset + _CHUNK >= size else max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        parts.append(chunk[first + 1 : last + 1])
    return b"".join(parts)


def _bomless_utf16(head: bytes) -> DetectedEncoding | None:
    """UTF-16 without BOM: mostly-ASCII text has a NUL in every other byte and almost none in the rest.

    The decoded text must not be full of control characters: little-endian 16-bit binary has the same NULs.
    """
    half = len(head) // 2
    even, odd = head[0 : 2 * half : 2].count(0), head[1 : 2 * half : 2].count(0)
    for zeros, other, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if half and zeros >= 0.3 * half and other <= 0.05 * half:
            text = _decoded(head[: 2 * half], name)
            if text is not None and not _binary(text.encode()):
                return DetectedEncoding(name, "detected", round(zeros / half, 3))
    return None


def _binary(data: bytes) -> bool:
    """More than 1% control bytes: no export writes that many, so it is binary (or the wrong encoding)."""
    return len(data) - len(data.translate(None, _CONTROL)) > len(data) // 100


def _decoded(data: bytes, encoding: str) -> str | None:
    """`data` decoded strictly, forgiving a character cut at the very end of the sample; None if it fails."""
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(data, final=False)
    except UnicodeDecodeError:
        return None
