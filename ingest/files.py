"""Finding a source's export files (local paths or any fsspec URL such as s3://) and fingerprinting them.

Whether a file changed is decided from what a listing says about it (`FileStamp`: size, modification time, and the
ETag an object store gives), never from its content: a listing of a thousand exports costs no read of any of them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ingest.errors import SourceFileError

_CHUNK = 8 << 20


@dataclass(frozen=True)
class FileStamp:
    """What a listing says about a file without opening it; a file whose stamp is unchanged is not read again."""

    size: int
    mtime: float
    etag: str = ""  # the store's version tag (S3 ETag, GCS md5/generation); '' for local files


def stamp_of(info: Mapping[str, Any]) -> FileStamp:
    """The stamp in an fsspec `info()` or `ls(detail=True)` entry, whichever store it comes from (local, S3, GCS,
    Azure): the one place that knows their field names."""
    mtime = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or info.get("created") or 0
    mtime_value = mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime)
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("generation") or ""
    return FileStamp(int(info["size"]), mtime_value, str(etag).strip('"'))


def fingerprint(uri: str, size: int, mtime: float, etag: str = "") -> str:
    """A file version's key (index cache, sensor cursor, run keys): a local file's stays what it always was."""
    base = f"{uri}|{size}|{mtime}"
    return f"{base}|{etag}" if etag else base


@dataclass(frozen=True)
class SourceFile:
    """One export file as found by discovery."""

    uri: str  # what DuckDB and fsspec open: a local path or protocol://path
    name: str  # path relative to the glob's fixed prefix, shown to users and used for file partitions
    size: int
    mtime: float
    is_local: bool
    etag: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.uri, self.size, self.mtime, self.etag)


def _fixed_prefix(pattern: str) -> str:
    """The part of a glob before its first wildcard, up to a '/'."""
    match = re.search(r"[*?\[]", pattern)
    head = pattern if match is None else pattern[: match.start()]
    return head.rsplit("/", 1)[0] + "/" if "/" in head else ""


def discover(location: str) -> list[SourceFile]:
    """Files matching `location`, sorted by name, from the listing alone (no file is opened); a pattern matching
    nothing is not an error (sensors poll)."""
    fs, path = fsspec.core.url_to_fs(location)
    is_local = isinstance(fs, LocalFileSystem)
    prefix = _fixed_prefix(path)
    found: list[SourceFile] = []
    for match in sorted(fs.glob(path)):
        info = fs.info(match)
        if info.get("type") != "file":
            continue
        uri = match if is_local else fs.unstrip_protocol(match)
        stamp = stamp_of(info)
        name = match[len(prefix) :] if match.startswith(prefix) else match.rsplit("/", 1)[-1]
        found.append(SourceFile(uri, name, stamp.size, stamp.mtime, is_local, stamp.etag))
    return found


def sha256_of(file: SourceFile) -> str:
    """Stream the file through sha256; a file that vanishes meanwhile is a clear, retryable error."""
    digest = hashlib.sha256()
    try:
        with fsspec.open(file.uri, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError as exc:
        raise SourceFileError(
            file.uri, "the file disappeared while being read (moved or renamed?)", retryable=True
        ) from exc
    except OSError as exc:
        raise SourceFileError(file.uri, str(exc)) from exc
    return digest.hexdigest()


def partition_key_for_file(name: str) -> str:
    """A file partition key: the relative path with anything unusual replaced, readable in the Dagster UI."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
