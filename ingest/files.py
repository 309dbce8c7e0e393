"""Finding a source's export files (local paths or any fsspec URL such as s3://) and fingerprinting them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ingest.errors import SourceFileError

_CHUNK = 8 << 20


@dataclass(frozen=True)
class SourceFile:
    """One export file as found by discovery."""

    uri: str  # what DuckDB and fsspec open: a local path or protocol://path
    name: str  # path relative to the glob's fixed prefix, shown to users and used for file partitions
    size: int
    mtime: float
    is_local: bool

    @property
    def fingerprint(self) -> str:
        return f"{self.uri}|{self.size}|{self.mtime}"


def _fixed_prefix(pattern: str) -> str:
    """The part of a glob before its first wildcard, up to a '/'."""
    match = re.search(r"[*?\[]", pattern)
    head = pattern if match is None else pattern[: match.start()]
    return head.rsplit("/", 1)[0] + "/" if "/" in head else ""


def discover(location: str) -> list[SourceFile]:
    """Files matching `location`, sorted by name; a pattern matching nothing is not an error (sensors poll)."""
    fs, path = fsspec.core.url_to_fs(location)
    is_local = isinstance(fs, LocalFileSystem)
    prefix = _fixed_prefix(path)
    found: list[SourceFile] = []
    for match in sorted(fs.glob(path)):
        info = fs.info(match)
        if info.get("type") != "file":
            continue
        uri = match if is_local else fs.unstrip_protocol(match)
        mtime = info.get("mtime") or info.get("LastModified") or info.get("created") or 0
        mtime_value = mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime)
        name = match[len(prefix) :] if match.startswith(prefix) else match.rsplit("/", 1)[-1]
        found.append(SourceFile(uri=uri, name=name, size=int(info["size"]), mtime=mtime_value, is_local=is_local))
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
