"""Turning an export file into plain UTF-8 text on local disk, as every reader downstream needs it.

Exports arrive compressed (`.gz`, `.zst`, `.bz2`, `.xz`), on object storage, and in legacy encodings
(cp1252, GB18030, Shift-JIS, UTF-16). A local, uncompressed UTF-8 file is read where it lies; anything
else is decompressed and transcoded once into the scratch folder. Alongside, the original bytes get their
sha256 and a raw line count: the file's identity, and the count the balance of an unreadable file uses.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import hashlib
import lzma
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import fsspec
import zstandard

from config.sources import WHITESPACE, CsvOptions
from ingest.encoding import Utf8Check, detect_encoding
from ingest.errors import SourceFileError
from ingest.files import SourceFile
from ingest.raw_lines import LineCounter, RawLines

_CHUNK = 8 << 20
_UTF8 = {"utf-8", "utf-8-sig"}
_COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2", ".xz": "xz"}
_MAGIC = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd", "bz2": b"BZh", "xz": b"\xfd7zXZ\x00"}


@dataclass(frozen=True)
class RawFacts:
    """The original bytes' sha256, line count and whether they are UTF-8 (compressed files: of the compressed
    bytes)."""

    sha256: str
    lines: RawLines
    utf8: bool = False


@dataclass(frozen=True)
class ReadableText:
    """A local UTF-8 copy (or the file itself), how it was decoded, and its line count."""

    path: str
    encoding: str  # the file's encoding, declared or detected
    encoding_how: str  # declared | bom | ascii | utf-8 | detected | fallback
    compression: str  # '' when the file is not compressed
    counted: Callable[[], RawLines]  # its line count, when asked for (it may still be being counted)
    temporary: bool  # a scratch copy, to delete once read

    @property
    def lines(self) -> RawLines:
        return self.counted()

    def discard(self) -> None:
        if self.temporary:
            Path(self.path).unlink(missing_ok=True)


def compression_of(name: str) -> str:
    """The compression a file's name announces ('' for none)."""
    return next((kind for suffix, kind in _COMPRESSIONS.items() if name.lower().endswith(suffix)), "")


def compression_in(uri: str, name: str) -> str:
    """The compression a file really has: its name's, if its first bytes agree (a '.gz' file of plain text is
    read as text), else ''."""
    named = compression_of(name)
    if not named:
        return ""
    try:
        with fsspec.open(uri, "rb") as handle:
            head: bytes = handle.read(8)
    except FileNotFoundError as exc:
        raise SourceFileError(uri, "the file disappeared while being read", retryable=True) from exc
    return named if head.startswith(_MAGIC[named]) else ""


def raw_facts(uri: str) -> RawFacts:
    """Stream the original file once: sha256, line count and UTF-8 validity; a vanished file is a retryable error."""
    digest, counter, utf8 = hashlib.sha256(), LineCounter(), Utf8Check()
    for chunk in _chunks(uri):
        digest.update(chunk)
        counter.feed(chunk)
        utf8.feed(chunk)
    return RawFacts(digest.hexdigest(), counter.result(), utf8.valid())


def readable_text(
    file: SourceFile,
    options: CsvOptions,
    scratch: Path,
    token: str,
    original_lines: Callable[[], RawLines] | None = None,
    count: bool = True,
) -> ReadableText:
    """The file as local UTF-8 text; `token` names its scratch copies (unique per file version and options).

    `original_lines` gives the original's line count when another pass already counts it (the sha256 pass):
    a local UTF-8 file is then not read a third time. Without `count`, lines are not counted and a scratch copy
    left by discovery is reused.
    """
    compression = compression_in(file.uri, file.name)
    kept = scratch / f"{token}.utf8.csv"
    if not count and kept.exists():  # complete (written atomically): discovery's transcoded copy
        return ReadableText(str(kept), options.encoding, "transcoded", compression, RawLines, True)
    local, temporary = file.uri, False
    if compression or not file.is_local:
        local, temporary = str(scratch / f"{token}.raw"), True
        _write(scratch, local, _decompressed(file.uri, compression, file.uri))
    encoding, how = options.encoding, "declared"
    if encoding == "auto":
        try:
            size = os.path.getsize(local)
        except FileNotFoundError as exc:
            raise SourceFileError(file.uri, "the file disappeared while being read", retryable=True) from exc
        with open(local, "rb") as handle:
            detected = detect_encoding(_reader(handle), size)
        encoding, how = detected.encoding, detected.how
    if options.delimiter == WHITESPACE:
        target = str(scratch / f"{token}.utf8.csv")
        _write(scratch, target, _blank_separated(local, encoding))
        if temporary:
            Path(local).unlink(missing_ok=True)
        lines = _count(target) if count else RawLines()
        return ReadableText(target, encoding, how, compression, lambda: lines, True)
    if codecs.lookup(encoding).name in _UTF8:
        if not count:
            return ReadableText(local, encoding, how, compression, RawLines, temporary)
        if original_lines is not None and not temporary:  # counted by the sha256 pass, still running maybe
            return ReadableText(local, encoding, how, compression, original_lines, temporary)
        lines = _count(local)
        return ReadableText(local, encoding, how, compression, lambda: lines, temporary)
    target = str(scratch / f"{token}.utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")

    def transcoded() -> Iterator[bytes]:
        for chunk in _chunks(local):
            yield decoder.decode(chunk).encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")

    _write(scratch, target, transcoded())
    if temporary:
        Path(local).unlink(missing_ok=True)
    lines = _count(target) if count else RawLines()
    return ReadableText(target, encoding, how, compression, lambda: lines, True)


_BLANKS = re.compile(r"[ \t]+")


def _blank_separated(path: str, encoding: str) -> Iterator[bytes]:
    """A whitespace-separated export as tab-separated UTF-8: blanks around a line dropped, runs of them one tab."""
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        batch: list[str] = []
        for line in handle:
            body = line.rstrip("\r\n")
            batch.append(_BLANKS.sub("\t", body.strip(" \t")) + line[len(body) :])
            if len(batch) >= 10_000:
                yield "".join(batch).encode("utf-8")
                batch = []
        yield "".join(batch).encode("utf-8")


def open_text_stream(uri: str, name: str) -> IO[bytes]:
    """A binary stream of the file's content, decompressed when its name says it is compressed."""
    compression = compression_in(uri, name)
    handle: IO[bytes] = fsspec.open(uri, "rb").open()
    if compression == "gzip":
        return cast(IO[bytes], gzip.GzipFile(fileobj=handle))
    if compression == "zstd":
        return cast(IO[bytes], zstandard.ZstdDecompressor().stream_reader(handle))
    if compression == "bz2":
        return cast(IO[bytes], bz2.BZ2File(handle))
    if compression == "xz":
        return cast(IO[bytes], lzma.LZMAFile(handle))
    return handle


def _decompressed(uri: str, compression: str, display: str) -> Iterator[bytes]:
    try:
        with open_text_stream(uri, uri if compression else "") as stream:
            while chunk := stream.read(_CHUNK):
                yield chunk
    except FileNotFoundError as exc:
        raise SourceFileError(display, "the file disappeared while being read", retryable=True) from exc
    except (OSError, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError) as exc:
        raise SourceFileError(
            display,
            f"it is not a valid {compression} file ({exc})",
            fix="re-export it, or check that the file is complete (it may still be being written)",
        ) from exc


def _write(scratch: Path, target: str, chunks: Iterator[bytes]) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    partial = f"{target}.{os.getpid()}.partial"
    try:
        with open(partial, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)


def _chunks(uri: str) -> Iterator[bytes]:
    try:
        with fsspec.open(uri, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk
    except FileNotFoundError as exc:
        raise SourceFileError(uri, "the file disappeared while being read", retryable=True) from exc


def _count(path: str) -> RawLines:
    counter = LineCounter()
    for chunk in _chunks(path):
        counter.feed(chunk)
    return counter.result()


def _reader(handle: Any) -> Callable[[int, int], bytes]:
    def read(offset: int, length: int) -> bytes:
        handle.seek(offset)
        data: bytes = handle.read(length)
        return data

    return read
